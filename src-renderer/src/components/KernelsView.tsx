/** The Kernels tab: the selftest of a backend, and verdicts on outputs made elsewhere. */
import '../kernels.css';
import { ErrorBoundary } from './ErrorBoundary';
import { SelftestPanel } from './SelftestPanel';
import { CheckPairPanel } from './CheckPairPanel';

export function KernelsView() {
  return (
    <div className="kernels-layout" data-testid="kernels-view">
      <ErrorBoundary area="Selftest">
        <SelftestPanel />
      </ErrorBoundary>
      <ErrorBoundary area="Check a pair">
        <CheckPairPanel />
      </ErrorBoundary>
    </div>
  );
}
