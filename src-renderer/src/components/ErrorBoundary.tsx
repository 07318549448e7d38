import { Component, type ErrorInfo, type ReactNode } from 'react';

interface Props {
  children: ReactNode;
  /** shown above the message: where it broke ("Results", "Heatmap") */
  area?: string;
}
interface State {
  error: Error | null;
}

/** Never a blank screen: a render error shows what broke and a way back. */
export class ErrorBoundary extends Component<Props, State> {
  override state: State = { error: null };

  static getDerivedStateFromError(error: Error): State {
    return { error };
  }

  override componentDidCatch(error: Error, info: ErrorInfo): void {
    console.error(
      `QuantScope UI error${this.props.area ? ` in ${this.props.area}` : ''}:`,
      error,
      info.componentStack,
    );
  }

  override render() {
    if (!this.state.error) return this.props.children;
    return (
      <div className="crash" role="alert" data-testid="error-boundary">
        <h2>{this.props.area ? `${this.props.area} failed to display` : 'Something went wrong'}</h2>
        <p className="mono">{this.state.error.message}</p>
        <p>Your model and results are kept. Try again, or reload the window (Ctrl+Shift+R).</p>
        <button className="btn" onClick={() => this.setState({ error: null })}>
          Try again
        </button>
      </div>
    );
  }
}
