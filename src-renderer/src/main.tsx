import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { getApi } from './api';
import { App } from './App';
import { StoreProvider } from './context';
import { ErrorBoundary } from './components/ErrorBoundary';
import { createAppStore } from './store';
import './styles.css';

const rootEl = document.getElementById('root');
if (!rootEl) throw new Error('index.html has no #root element');

let content;
try {
  const api = getApi();
  const store = createAppStore(api);
  content = (
    <StoreProvider store={store}>
      <App api={api} />
    </StoreProvider>
  );
} catch (e) {
  content = (
    <div className="crash" role="alert" data-testid="error-boundary">
      <h2>QuantScope could not connect to its engine</h2>
      <p className="mono">{e instanceof Error ? e.message : String(e)}</p>
      <p>In the browser, open the exact URL that `quantscope serve` printed (it carries the access token).</p>
    </div>
  );
}

createRoot(rootEl).render(
  <StrictMode>
    <ErrorBoundary>{content}</ErrorBoundary>
  </StrictMode>,
);
