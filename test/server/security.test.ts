import { describe, it, expect } from 'vitest';
import { CONTENT_SECURITY_POLICY } from '../../src-shared/contract';
import {
  hostAllowed,
  originAllowed,
  parseHostHeader,
  presentedToken,
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
    expect(presentedToken({ authorization: 'Bearer b' }, u)).toBe('b');
    expect(presentedToken({}, u)).toBe('q');
    expect(presentedToken({ cookie: 'a=1; qs_token=c' }, new URL('http://h/'))).toBe('c');
    expect(presentedToken({}, new URL('http://h/'))).toBeNull();
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
