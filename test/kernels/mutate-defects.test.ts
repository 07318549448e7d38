// The GPU mutation harness (scripts/mutate-gpu.mjs, run on a GPU machine, not here) plants its defects by
// text edits of the kernel sources: every edit must still find its snippet exactly as often as it
// expects, so that a kernel change cannot silently turn a planted defect into a no-op.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface Defect {
  id: string;
  edits?: [string, string, number?][];
  defines?: string;
  expect: string[];
}

describe('mutation harness defects', () => {
  it('every edit applies to the kernel sources, and there are at least thirteen defects', async () => {
    const mod = (await import(path.join(ROOT, 'scripts/mutate-gpu.mjs'))) as { DEFECTS: Defect[] };
    const dir = path.join(ROOT, 'kernels');
    const text = readdirSync(dir)
      .filter((f) => /\.(h|cu)$/.test(f))
      .map((f) => readFileSync(path.join(dir, f), 'utf8'))
      .join('\n');
    expect(mod.DEFECTS.length).toBeGreaterThanOrEqual(13);
    for (const d of mod.DEFECTS) {
      expect(d.edits || d.defines, d.id).toBeTruthy();
      let t = text;
      for (const [find, repl, count = 1] of d.edits ?? []) {
        expect(t.split(find).length - 1, `${d.id}: ${find}`).toBe(count);
        t = t.split(find).join(repl);
      }
      expect(d.expect.length, d.id).toBeGreaterThan(0);
    }
  });
});
