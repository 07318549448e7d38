// One Content-Security-Policy: the header both shells send comes from the contract, and the <meta>
// in the renderer's index.html (source, and the built copy when there is one) is the same policy
// less frame-ancestors, which a <meta> cannot carry.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CONTENT_SECURITY_POLICY,
  CSP_DIRECTIVES,
  META_CONTENT_SECURITY_POLICY,
  SECURITY_HEADERS,
} from '../../src-shared/contract/web';

function metaCsp(html: string): string | null {
  const m = /<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]*)"/i.exec(html);
  return m ? m[1] : null;
}

describe('content security policy', () => {
  it('the header is the contract policy; the meta is it less frame-ancestors', () => {
    expect(SECURITY_HEADERS['Content-Security-Policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(CONTENT_SECURITY_POLICY).toBe(CSP_DIRECTIVES.join('; '));
    expect(CONTENT_SECURITY_POLICY).toContain("frame-ancestors 'none'");
    expect(META_CONTENT_SECURITY_POLICY).toBe(
      CONTENT_SECURITY_POLICY.split('; ')
        .filter((d) => !d.startsWith('frame-ancestors'))
        .join('; '),
    );
    expect(SECURITY_HEADERS['X-Frame-Options']).toBe('DENY');
  });

  for (const rel of ['src-renderer/index.html', 'out/renderer/index.html']) {
    it(`${rel} carries exactly the meta policy`, (ctx) => {
      const file = path.resolve(rel);
      if (!existsSync(file)) {
        console.log(`skipped: ${rel} is not built (npm run build)`);
        ctx.skip();
        return;
      }
      expect(metaCsp(readFileSync(file, 'utf8'))).toBe(META_CONTENT_SECURITY_POLICY);
    });
  }
});
