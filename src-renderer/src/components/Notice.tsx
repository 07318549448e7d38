import { useEffect } from 'react';
import { useApp } from '../context';

/** A one-line message strip (export done, drop refused, cancel failed); info fades after 6 s. */
export function Notice() {
  const { notice, setNotice } = useApp((s) => ({ notice: s.notice, setNotice: s.setNotice }));
  useEffect(() => {
    if (notice?.kind !== 'info') return;
    const t = setTimeout(() => setNotice(null), 6000);
    return () => clearTimeout(t);
  }, [notice, setNotice]);
  if (!notice) return null;
  return (
    <div
      className={`notice ${notice.kind}`}
      role={notice.kind === 'error' ? 'alert' : 'status'}
      data-testid="notice"
    >
      <span>{notice.text}</span>
      <button className="btn icon small" onClick={() => setNotice(null)} aria-label="Dismiss">
        ×
      </button>
    </div>
  );
}
