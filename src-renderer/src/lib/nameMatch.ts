/**
 * The tensor name filter (pure, unit-tested): the CLI's --tensors syntax plus plain substrings.
 *
 * A comma list of alternatives; a name matches when any alternative matches. An alternative is one
 * or more space-separated terms that must all match. A term with `*` or `?` is a glob over the whole
 * name, as in `quantscope verify --tensors` (`blk.*.ffn_*`); a term without them matches anywhere in
 * the name (`ffn_down`). Case is ignored.
 */
export function nameMatcher(spec: string): ((name: string) => boolean) | null {
  const alternatives = spec
    .split(',')
    .map((alt) => alt.trim().toLowerCase().split(/\s+/).filter(Boolean).map(termMatcher))
    .filter((terms) => terms.length > 0);
  if (alternatives.length === 0) return null;
  return (name) => {
    const n = name.toLowerCase();
    return alternatives.some((terms) => terms.every((t) => t(n)));
  };
}

function termMatcher(term: string): (name: string) => boolean {
  if (!/[*?]/.test(term)) return (name) => name.includes(term);
  const re = new RegExp(
    '^' +
      term
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.') +
      '$',
  );
  return (name) => re.test(name);
}
