/** The commit a build is made from (see build-info.mjs). */
export function buildCommit(root: string): string;
