import { describe, it, expect } from 'vitest';
import { CONTENT_SECURITY_POLICY } from '../../src-shared/contract';
import {
  hostAllowed,
  originAllowed,
  parseHostHeader,
  presentedToken,
  tokenCookieName,
  tokenMatches,
} from '../../src-main/engine/server/security';

describe('server security helpers', () => {
  it('parses Host headers', () => {
    expect(parseHostHeader('127.0.0.1:8080')).toEqual({ hostname: '127.0.0.1', port: 8080 });
    expect(parseHostHeader('[::1]:80')).toEqual({ hostname: '::1', port: 80 });
    expect(parseHostHeader('LocalHost')).toEqual({ hostname: 'localhost', port: null });
    expect(parseHostHeader('a:b:c')).toBeNull();
    expect(parseHostHeader('')).toBeNull();
  });

  it('allows IP literals and localhost on our port only', () => {
    expect(hostAllowed('127.0.0.1:5000', 5000)).toBe(true);
    expect(hostAllowed('localhost:5000', 5000)).toBe(true);
    expect(hostAllowed('[::1]:5000', 5000)).toBe(true);
    expect(hostAllowed('192.168.1.4:5000', 5000)).toBe(true);
    expect(hostAllowed('127.0.0.1:5001', 5000)).toBe(false);
    expect(hostAllowed('attacker.example:5000', 5000)).toBe(false);
    expect(hostAllowed('127.0.0.1.nip.io:5000', 5000)).toBe(false);
    expect(hostAllowed(undefined, 5000)).toBe(false);
    expect(hostAllowed('mybox:5000', 5000, ['MyBox'])).toBe(true);
    expect(hostAllowed('localhost', 80)).toBe(true);
  });

  it('requires Origin, when sent, to match the Host', () => {
    expect(originAllowed(undefined, '127.0.0.1:1')).toBe(true);
    expect(originAllowed('http://127.0.0.1:1', '127.0.0.1:1')).toBe(true);
    expect(originAllowed('http://evil.com', '127.0.0.1:1')).toBe(false);
    expect(originAllowed('null', '127.0.0.1:1')).toBe(false);
    expect(originAllowed('https://127.0.0.1:1', '127.0.0.1:1')).toBe(false);
  });

  it('finds the token in bearer, query or cookie and compares it exactly', () => {
    const u = new URL('http://h/x?token=q');
    const name = tokenCookieName(8080);
    expect(name).toBe('qs_token_8080');
    expect(presentedToken({ authorization: 'Bearer b' }, u, name)).toBe('b');
    expect(presentedToken({}, u, name)).toBe('q');
    expect(presentedToken({ cookie: 'a=1; qs_token_8080=c' }, new URL('http://h/'), name)).toBe('c');
    expect(presentedToken({ cookie: 'qs_token_8081=c; qs_token=d' }, new URL('http://h/'), name)).toBeNull();
    expect(presentedToken({ cookie: 'qs_token_8080=a%2Db' }, new URL('http://h/'), name)).toBe('a-b');
    // not valid percent-encoding: handed back as it is, so the token check refuses it
    expect(presentedToken({ cookie: 'qs_token_8080=%E0%A4%A' }, new URL('http://h/'), name)).toBe('%E0%A4%A');
    expect(presentedToken({}, new URL('http://h/'), name)).toBeNull();
    expect(tokenMatches('abc', 'abc')).toBe(true);
    expect(tokenMatches('abd', 'abc')).toBe(false);
    expect(tokenMatches('ab', 'abc')).toBe(false);
    expect(tokenMatches(null, 'abc')).toBe(false);
  });

  it('has a strict CSP', () => {
    expect(CONTENT_SECURITY_POLICY).toContain("default-src 'none'");
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/script-src[^;]*unsafe/);
    expect(CONTENT_SECURITY_POLICY).toContain("frame-ancestors 'none'");
  });
});
