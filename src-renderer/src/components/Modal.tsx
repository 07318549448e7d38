import { useEffect, useId, useRef, useState, type ReactNode } from 'react';

const FOCUSABLE =
  'a[href], button:not(:disabled), input:not(:disabled), select:not(:disabled), textarea:not(:disabled), [tabindex]:not([tabindex="-1"])';

function focusables(root: HTMLElement): HTMLElement[] {
  return [...root.querySelectorAll<HTMLElement>(FOCUSABLE)].filter(
    (el) => el.tabIndex >= 0 && el.getClientRects().length > 0,
  );
}

/**
 * The focus back to `el`; where a render replaced it meanwhile, to the control that took its place
 * (the same test id), so closing a dialog never leaves the focus on the page's body.
 */
function restoreFocus(el: HTMLElement | null): void {
  if (!el || el === document.body) return;
  if (el.isConnected) {
    el.focus();
    return;
  }
  const id = el.dataset.testid;
  if (id) document.querySelector<HTMLElement>(`[data-testid="${CSS.escape(id)}"]`)?.focus();
}

/**
 * A modal dialog over the app. The focus moves into it when it opens (to the first element that
 * `initialFocus` selects, else its first control), Tab and Shift+Tab cycle through its controls
 * only, and the focus returns to where it was when it closes. A click on the backdrop closes it;
 * Escape closes it through the app's shortcuts (lib/shortcuts.ts).
 */
export function Modal({
  title,
  onClose,
  className,
  initialFocus,
  testId,
  closeTestId,
  children,
}: {
  title: string;
  onClose: () => void;
  className?: string;
  initialFocus?: string;
  testId?: string;
  closeTestId?: string;
  children: ReactNode;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const titleId = useId();
  const focusFirst = useRef(initialFocus);
  // Where the focus was when the dialog was asked for: taken at its first render, before anything
  // the opening renders can move the focus, and given back on close.
  const [opener] = useState(() =>
    document.activeElement instanceof HTMLElement ? document.activeElement : null,
  );

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    const wanted = focusFirst.current ? dialog.querySelector<HTMLElement>(focusFirst.current) : null;
    (wanted ?? focusables(dialog)[0] ?? dialog).focus();
    const onKey = (e: KeyboardEvent) => {
      // A control that uses Tab itself (the path field completes with it) has already acted.
      if (e.key !== 'Tab' || e.defaultPrevented) return;
      const list = focusables(dialog);
      const first = list[0];
      const last = list[list.length - 1];
      const at = document.activeElement;
      // Another dialog that has the focus (the reconnect prompt) keeps its own Tab order.
      if (at instanceof Element && !dialog.contains(at) && at.closest('[role=dialog]')) return;
      const inside = at instanceof Node && dialog.contains(at) && at !== dialog;
      if (!first) {
        e.preventDefault();
        dialog.focus();
      } else if (!inside || (e.shiftKey ? at === first : at === last)) {
        e.preventDefault();
        (e.shiftKey ? last : first).focus();
      }
    };
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('keydown', onKey);
      restoreFocus(opener);
    };
  }, [opener]);

  return (
    <div className="overlay" onClick={onClose}>
      <div
        ref={ref}
        className={`dialog${className ? ` ${className}` : ''}`}
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        tabIndex={-1}
        data-testid={testId}
        onClick={(e) => e.stopPropagation()}
      >
        <div className="dialog-head">
          <h2 id={titleId}>{title}</h2>
          <button className="btn icon" onClick={onClose} aria-label="Close" data-testid={closeTestId}>
            ×
          </button>
        </div>
        {children}
      </div>
    </div>
  );
}
