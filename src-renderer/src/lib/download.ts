/**
 * Saves text the engine made (a report, a comparison) in a browser: a download of a file of that
 * name. The desktop shell saves such files itself, with a save dialog, before they reach the view.
 */
export function download(fileName: string, content: string): void {
  const type = fileName.endsWith('.html')
    ? 'text/html'
    : fileName.endsWith('.json')
      ? 'application/json'
      : 'text/markdown';
  const url = URL.createObjectURL(new Blob([content], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
