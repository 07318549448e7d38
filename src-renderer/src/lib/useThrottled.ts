import { useEffect, useRef, useState } from 'react';

/**
 * The value, updated at most once per `ms` (trailing update guaranteed). Heavy views (charts) use
 * it while a run streams so they redraw a few times a second instead of every animation frame.
 */
export function useThrottled<T>(value: T, ms: number): T {
  const [shown, setShown] = useState(value);
  const last = useRef(0);
  useEffect(() => {
    if (ms <= 0) {
      last.current = Date.now();
      setShown(value);
      return;
    }
    const wait = Math.max(0, last.current + ms - Date.now());
    const t = setTimeout(() => {
      last.current = Date.now();
      setShown(value);
    }, wait);
    return () => clearTimeout(t);
  }, [value, ms]);
  return ms <= 0 ? value : shown;
}
