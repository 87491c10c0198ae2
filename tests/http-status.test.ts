import { describe, expect, it } from 'vitest';
import { parseRetryAfter, requestFailureToToolError, statusToToolError } from '../src/integrations/http-status.js';

const ctx = { service: 'Svc', what: 'thing', authHint: 'log in again' };

describe('statusToToolError', () => {
  it('maps each status to its code', () => {
    const cases: Array<[number, string]> = [[401, 'auth'], [403, 'forbidden'], [404, 'not_found'], [409, 'conflict'], [429, 'rate_limited'], [400, 'invalid_input'], [422, 'invalid_input'], [500, 'upstream'], [503, 'upstream']];
    for (const [status, code] of cases) expect(statusToToolError(status, ctx).code, String(status)).toBe(code);
    expect(statusToToolError(401, ctx).hint).toBe('log in again');
    expect(statusToToolError(429, { ...ctx, retryAfter: '12' }).retryAfter).toBe(12);
  });

  it('reads Retry-After as seconds or a date', () => {
    expect(parseRetryAfter('5')).toBe(5);
    expect(parseRetryAfter(new Date(Date.UTC(2030, 0, 1, 0, 0, 30)).toUTCString(), Date.UTC(2030, 0, 1))).toBe(30);
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});

describe('requestFailureToToolError', () => {
  const base = { service: 'Svc', what: 'thing', timeoutMs: 10, cancelled: false, timedOut: false };
  it('tells cancel, timeout and network failures apart', () => {
    expect(requestFailureToToolError(new Error('x'), { ...base, cancelled: true })!.code).toBe('cancelled');
    expect(requestFailureToToolError(new Error('x'), { ...base, timedOut: true })!.code).toBe('timeout');
    const refused = Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }) });
    expect(requestFailureToToolError(refused, base)).toMatchObject({ code: 'network', details: { code: 'ECONNREFUSED' } });
    expect(requestFailureToToolError(Object.assign(new Error('getaddrinfo'), { code: 'ENOTFOUND' }), base)!.code).toBe('network');
    expect(requestFailureToToolError(new RangeError('weird'), base)).toBeUndefined();
  });
});
