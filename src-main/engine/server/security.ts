/**
 * The browser-mode server's request checks: the token and the DNS-rebinding check. Plain functions
 * so they are unit-tested without a server. The response headers both shells send are in the
 * contract (src-shared/contract/web.ts).
 */
import { timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';

/**
 * The token cookie's name for a server on `port`. Cookies are shared by every port of a host, so one
 * name per port keeps two servers (or a restarted one on another port) from overwriting each
 * other's token.
 */
export function tokenCookieName(port: number): string {
  return `qs_token_${port}`;
}

/** Constant-time comparison of a presented token with the server's. */
export function tokenMatches(presented: string | null | undefined, token: string): boolean {
  if (!presented) return false;
  const a = Buffer.from(presented, 'utf8');
  const b = Buffer.from(token, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The token a request carries: Authorization: Bearer, then ?token=, then the cookie named
 * `cookieName`. A cookie value that is not valid percent-encoding is returned as it is (it then
 * fails the token check with 401 like any wrong token).
 */
export function presentedToken(
  headers: { authorization?: string; cookie?: string },
  url: URL,
  cookieName: string,
): string | null {
  const auth = headers.authorization;
  if (auth) {
    const m = /^Bearer\s+(\S+)$/i.exec(auth.trim());
    if (m) return m[1];
  }
  const q = url.searchParams.get('token');
  if (q) return q;
  const cookie = headers.cookie;
  if (cookie) {
    for (const part of cookie.split(';')) {
      const eq = part.indexOf('=');
      if (eq > 0 && part.slice(0, eq).trim() === cookieName) {
        const raw = part.slice(eq + 1).trim();
        try {
          return decodeURIComponent(raw);
        } catch {
          return raw;
        }
      }
    }
  }
  return null;
}

/** Split a Host header ("127.0.0.1:8080", "[::1]:80", "localhost") into host name and port. */
export function parseHostHeader(host: string): { hostname: string; port: number | null } | null {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(host.trim());
  if (!m) return null;
  const hostname = m[1].startsWith('[') ? m[1].slice(1, -1) : m[1];
  return { hostname: hostname.toLowerCase(), port: m[2] !== undefined ? Number(m[2]) : null };
}

/**
 * DNS-rebinding defence: a rebinding attack reaches us under an attacker's DNS name, so the Host
 * header must be an IP literal, 'localhost', or a name the user configured, with our port.
 */
export function hostAllowed(
  hostHeader: string | undefined,
  port: number,
  extraNames: readonly string[] = [],
): boolean {
  if (!hostHeader) return false;
  const h = parseHostHeader(hostHeader);
  if (!h) return false;
  if ((h.port ?? 80) !== port) return false;
  if (isIP(h.hostname) !== 0) return true;
  if (h.hostname === 'localhost') return true;
  return extraNames.map((n) => n.toLowerCase()).includes(h.hostname);
}

/** An Origin header, when present, must be http://<the Host we were reached at>. */
export function originAllowed(origin: string | undefined, hostHeader: string | undefined): boolean {
  if (origin === undefined) return true;
  if (!hostHeader) return false;
  return origin.toLowerCase() === `http://${hostHeader.trim().toLowerCase()}`;
}
