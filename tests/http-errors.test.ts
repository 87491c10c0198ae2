import { describe, expect, it } from 'vitest';
import { ToolError } from '../src/errors.js';
import { parseRetryAfter, requestFailureToToolError, statusToToolError, tokenHint, withRateLimitRetry } from '../src/integrations/http-errors.js';

describe('statusToToolError', () => {
  it('maps statuses to error codes', () => {
    const codes = [400, 401, 403, 404, 409, 422, 429, 500, 502, 503].map((status) => statusToToolError(status, { service: 'X' }).code);
    expect(codes).toEqual(['invalid_input', 'auth', 'forbidden', 'not_found', 'conflict', 'invalid_input', 'rate_limited', 'upstream', 'upstream', 'upstream']);
  });

  it('gives the 401 hint it is told (the variable to set, or how to log in again) and keeps the body message', () => {
    const error = statusToToolError(401, { service: 'GitLab', body: '401 Unauthorized', authHint: tokenHint('GITLAB_TOKEN', 'GitLab'), what: 'list MRs' });
    expect(error.message).toBe('GitLab rejected the credentials (401) (list MRs): 401 Unauthorized');
    expect(error.hint).toContain('GITLAB_TOKEN');
    expect(statusToToolError(401, { service: 'Konflux', authHint: 'oc login again' }).hint).toBe('oc login again');
    expect(statusToToolError(404, { service: 'Konflux', details: { reason: 'NotFound' } }).details).toEqual({ status: 404, reason: 'NotFound' });
  });

  it('carries Retry-After seconds on 429', () => {
    expect(statusToToolError(429, { service: 'Jira', retryAfter: '7' }).retryAfter).toBe(7);
    expect(statusToToolError(429, { service: 'Jira' }).retryAfter).toBeUndefined();
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('30')).toBe(30);
    expect(parseRetryAfter(5)).toBe(5);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', now)).toBe(10);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });
});

describe('requestFailureToToolError', () => {
  it('tells the caller\'s cancel, timeouts, connection failures and other failures apart', () => {
    expect(requestFailureToToolError(new Error('x'), { service: 'Svc', cancelled: true }).code).toBe('cancelled');
    expect(requestFailureToToolError(new Error('x'), { service: 'Svc', timedOut: true, timeoutMs: 10 }).message).toBe('Svc did not answer within 10 ms');
    expect(requestFailureToToolError(new DOMException('The operation was aborted due to timeout', 'TimeoutError'), { service: 'GitLab', timeoutMs: 500 }).code).toBe('timeout');
    expect(requestFailureToToolError(Object.assign(new Error('timeout of 500ms exceeded'), { code: 'ECONNABORTED' }), { service: 'Jira' }).code).toBe('timeout');
    const refused = requestFailureToToolError(new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) }), { service: 'Slack', networkHint: 'VPN?' });
    expect(refused).toMatchObject({ code: 'network', hint: 'VPN?', details: { code: 'ECONNREFUSED' } });
    expect(refused.message).toContain('ECONNREFUSED');
    expect(requestFailureToToolError(Object.assign(new Error('getaddrinfo'), { code: 'ENOTFOUND' }), { service: 'Quay' }).code).toBe('network');
    expect(requestFailureToToolError(new RangeError('weird'), { service: 'Quay', what: 'tag x' }).message).toBe('Quay request failed for tag x: weird');
  });

  it('names a certificate failure as one, with tls.ca_file in the hint, however the client wraps it (fetch, axios, node-fetch)', () => {
    const codes = ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_HAS_EXPIRED', 'ERR_TLS_CERT_ALTNAME_INVALID', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY'];
    for (const code of codes) {
      const tls = Object.assign(new Error('certificate problem'), { code });
      for (const wrapped of [new TypeError('fetch failed', { cause: tls }), Object.assign(new Error('request failed'), { name: 'FetchError', code }), Object.assign(new Error('x'), { cause: tls })]) {
        const error = requestFailureToToolError(wrapped, { service: 'Quay', networkHint: 'VPN?' });
        expect(error, code).toMatchObject({ code: 'network', details: { code, certificate: true } });
        expect(error.message, code).toMatch(new RegExp(`^certificate failure: Quay presented a TLS certificate that cannot be verified \\(${code}: `));
        expect(error.hint, code).toContain('tls.ca_file');
        expect(error.hint, code).not.toBe('VPN?');
      }
    }
    expect(requestFailureToToolError(Object.assign(new Error('expired'), { code: 'CERT_HAS_EXPIRED' }), { service: 'Jira' }).hint).toMatch(/renewed/);
  });
});

describe('withRateLimitRetry', () => {
  const limited = (retryAfter?: number) => new ToolError('rate_limited', 'slow down', retryAfter === undefined ? {} : { retryAfter });

  it('waits Retry-After (capped) and retries at most `retries` times', async () => {
    const waits: number[] = [];
    let calls = 0;
    const result = await withRateLimitRetry(
      async () => {
        calls++;
        if (calls < 3) throw limited(calls === 1 ? 90 : 2);
        return 'done';
      },
      { capSeconds: 30, sleep: async (ms) => void waits.push(ms) },
    );
    expect(result).toBe('done');
    expect(waits).toEqual([30_000, 2_000]);

    calls = 0;
    await expect(withRateLimitRetry(async () => { calls++; throw limited(1); }, { retries: 2, sleep: async () => {} })).rejects.toMatchObject({ code: 'rate_limited' });
    expect(calls).toBe(3);
  });

  it('does not retry other errors, 429s without Retry-After, or waits past the deadline', async () => {
    let calls = 0;
    const sleep = async () => {};
    await expect(withRateLimitRetry(async () => { calls++; throw new ToolError('upstream', 'boom'); }, { sleep })).rejects.toMatchObject({ code: 'upstream' });
    await expect(withRateLimitRetry(async () => { calls++; throw limited(); }, { sleep })).rejects.toMatchObject({ code: 'rate_limited' });
    await expect(withRateLimitRetry(async () => { calls++; throw limited(10); }, { sleep, deadline: Date.now() + 5_000 })).rejects.toMatchObject({ code: 'rate_limited' });
    expect(calls).toBe(3);
  });
});
