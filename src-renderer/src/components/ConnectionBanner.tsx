import { useState } from 'react';
import { useApp } from '../context';
import { reauthTarget } from '../lib/connection';

/**
 * The engine connection when it is not fine: "lost" is a strip (the store retries every second and
 * says when it is back); "unauthorized" is a page asking for the new URL or token of a restarted
 * `quantscope serve`.
 */
export function ConnectionBanner() {
  const s = useApp((s) => ({
    connection: s.connection,
    error: s.connectionError,
    check: s.checkConnection,
  }));
  if (s.connection === 'ok') return null;
  if (s.connection === 'lost')
    return (
      <div className="notice error conn" role="alert" data-testid="connection-lost">
        <span>
          Engine connection lost: reconnecting… <span className="muted">({s.error})</span>
        </span>
        <button className="btn small" onClick={() => void s.check()} data-testid="reconnect">
          Retry now
        </button>
      </div>
    );
  return <Reauth />;
}

function Reauth() {
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const go = () => {
    const t = reauthTarget(text, location.href);
    if ('error' in t) setError(t.error);
    else location.assign(t.href);
  };
  return (
    <div className="overlay">
      <div className="dialog reauth" role="dialog" aria-label="Reconnect" data-testid="reauth">
        <h2>The engine does not accept this page any more</h2>
        <p className="muted">
          <code>quantscope serve</code> was restarted and has a new access token. Paste the URL it printed (or
          just its token) to reconnect.
        </p>
        <div className="inline">
          <input
            autoFocus
            value={text}
            placeholder="http://127.0.0.1:PORT/?token=…"
            aria-label="Server URL or token"
            data-testid="reauth-input"
            onChange={(e) => setText(e.target.value)}
            onKeyDown={(e) => e.key === 'Enter' && go()}
          />
          <button className="btn primary" onClick={go} data-testid="reauth-go">
            Reconnect
          </button>
        </div>
        {error && (
          <p className="error-text" role="alert" data-testid="reauth-error">
            {error}
          </p>
        )}
      </div>
    </div>
  );
}
