/**
 * A sortable column header of a virtual table: the label is a button (focusable; Enter and Space
 * sort like a click), and the header carries aria-sort while the table is sorted by it.
 */
export function SortHeader({
  label,
  name,
  title,
  cls,
  dir,
  onSort,
  testId,
}: {
  label: string;
  /** accessible name where the label is a symbol */
  name?: string;
  title?: string;
  cls?: string;
  /** the sort direction when the table is sorted by this column, else null */
  dir: 'asc' | 'desc' | null;
  onSort: () => void;
  testId?: string;
}) {
  return (
    <div
      role="columnheader"
      className={`sortable ${cls ?? ''}`}
      aria-sort={dir === null ? undefined : dir === 'asc' ? 'ascending' : 'descending'}
      data-testid={testId}
    >
      <button type="button" className="sort-btn" title={title} aria-label={name} onClick={onSort}>
        {label}
        {dir && (
          <span className="sort-ind" aria-hidden>
            {dir === 'asc' ? '▲' : '▼'}
          </span>
        )}
      </button>
    </div>
  );
}
