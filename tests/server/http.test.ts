import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { join } from 'node:path';
import { MemoryDb } from '../../src/memory/index.js';
import { serveHttp, type HttpHandle } from '../../src/server/http.js';
import { Metrics, renderMetrics } from '../../src/server/metrics.js';
import { tempDir, testRuntime } from '../helpers/harness.js';

const INIT = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } };
const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

/** fetch cannot set Host; node:http can, as a rebinding attacker's browser would send it. */
function postWithHost(url: string, host: string, body: unknown): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { ...HEADERS, host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

describe('HTTP server', () => {
  let handle: HttpHandle | undefined;
  afterEach(async () => {
    await handle?.close();
    handle = undefined;
  });

  it('serves MCP at /mcp with sessions and reports health', async () => {
    handle = await serveHttp(testRuntime(), { host: '127.0.0.1', port: 0 });
    const client = new Client({ name: 'http-test', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(handle.url));
    await client.connect(transport);
    expect(transport.sessionId).toBeTruthy();
    const result = await client.callTool({ name: 'memory_session_log', arguments: { action: 'over http' } });
    expect(result.structuredContent).toMatchObject({ action: 'over http' });

    const health = await fetch(handle.url.replace('/mcp', '/health'));
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', name: 'release-mcp', persona: 'release', memory: { ok: true }, sessions: 1 });
    await client.close();
  });

  it('refuses a foreign Host or Origin (DNS rebinding)', async () => {
    handle = await serveHttp(testRuntime(), { host: '127.0.0.1', port: 0 });
    expect(await postWithHost(handle.url, `evil.example.com:${handle.port}`, INIT)).toBe(403);
    expect(await postWithHost(handle.url, `localhost:${handle.port}`, INIT)).toBe(200);
    const foreignOrigin = await fetch(handle.url, { method: 'POST', headers: { ...HEADERS, origin: 'http://evil.example.com' }, body: JSON.stringify(INIT) });
    expect(foreignOrigin.status).toBe(403);
    const localOrigin = await fetch(handle.url, { method: 'POST', headers: { ...HEADERS, origin: `http://127.0.0.1:${handle.port}` }, body: JSON.stringify(INIT) });
    expect(localOrigin.status).toBe(200);
  });

  it('requires the bearer token when one is set: 401 without it, a session with it', async () => {
    handle = await serveHttp(testRuntime(), { host: '127.0.0.1', port: 0, token: 's3cret-token-value' });
    const without = await fetch(handle.url, { method: 'POST', headers: HEADERS, body: JSON.stringify(INIT) });
    expect(without.status).toBe(401);
    expect(without.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const wrong = await fetch(handle.url, { method: 'POST', headers: { ...HEADERS, authorization: 'Bearer nope' }, body: JSON.stringify(INIT) });
    expect(wrong.status).toBe(401);

    const client = new Client({ name: 'http-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(handle.url), { requestInit: { headers: { authorization: 'Bearer s3cret-token-value' } } }));
    expect((await client.listTools()).tools.length).toBeGreaterThan(0);
    await client.close();
  });

  it('refuses to start on a non-loopback address without a token', async () => {
    await expect(serveHttp(testRuntime(), { host: '0.0.0.0', port: 0 })).rejects.toThrow(/without a bearer token/);
  });

  it('answers an unknown session with 404 and a non-initialize first request with 400', async () => {
    handle = await serveHttp(testRuntime(), { host: '127.0.0.1', port: 0 });
    const unknown = await fetch(handle.url, { method: 'POST', headers: { ...HEADERS, 'mcp-session-id': 'nope' }, body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }) });
    expect(unknown.status).toBe(404);
    const noInit = await fetch(handle.url, { method: 'POST', headers: HEADERS, body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }) });
    expect(noInit.status).toBe(400);
  });
});

describe('HTTP authentication hardening', () => {
  let handle: HttpHandle | undefined;
  let dir: { path: string; cleanup(): void } | undefined;
  afterEach(async () => {
    await handle?.close();
    handle = undefined;
    dir?.cleanup();
    dir = undefined;
  });

  const TOKEN = 'a-long-enough-token-0123456789';

  it('answers repeated bad tokens with 429 and Retry-After, audits one row per address per minute, and a good token still works', async () => {
    dir = tempDir();
    const memoryPath = join(dir.path, 'memory.db');
    handle = await serveHttp(testRuntime({ memoryPath }), { host: '127.0.0.1', port: 0, token: TOKEN, authFailureLimits: { burst: 5, perSecond: 0.5 } });
    const statuses: number[] = [];
    const retryAfter = new Set<string>();
    for (let batch = 0; batch < 10; batch++) {
      const responses = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          fetch(handle!.url, { method: 'POST', headers: { ...HEADERS, ...(i % 2 ? { authorization: `Bearer wrong-${i}` } : {}) }, body: JSON.stringify(INIT) }),
        ),
      );
      for (const r of responses) {
        statuses.push(r.status);
        if (r.status === 429) retryAfter.add(r.headers.get('retry-after') ?? '');
        await r.arrayBuffer();
      }
    }
    const unauthorized = statuses.filter((s) => s === 401).length;
    const limited = statuses.filter((s) => s === 429).length;
    expect(unauthorized + limited).toBe(200);
    expect(unauthorized).toBeGreaterThanOrEqual(5);
    expect(unauthorized).toBeLessThan(20);
    expect([...retryAfter].every((v) => /^[1-9]\d*$/.test(v))).toBe(true);

    const client = new Client({ name: 'http-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(handle.url), { requestInit: { headers: { authorization: `Bearer ${TOKEN}` } } }));
    expect((await client.listTools()).tools.length).toBeGreaterThan(0);
    await client.close();
    await handle.close();
    handle = undefined;

    const memory = new MemoryDb({ path: memoryPath });
    const rows = memory.db.prepare("SELECT details FROM release_events WHERE event = 'access.refused'").all() as Array<{ details: string }>;
    const details = rows.map((r) => JSON.parse(r.details) as { count: number; rate_limited: number; remote: string });
    // One row per minute and reason (missing or invalid token): the 200 requests may straddle a minute boundary.
    expect(rows.length).toBeGreaterThanOrEqual(2);
    expect(rows.length).toBeLessThanOrEqual(4);
    expect(details.reduce((n, d) => n + d.count, 0)).toBe(200);
    expect(details.reduce((n, d) => n + d.rate_limited, 0)).toBe(limited);
    expect(await renderMetrics(memory, new Metrics(), 30_000)).toMatch(/^release_calls_refused_total 200$/m);
    memory.close();
  });

  it('refuses at start a bearer token shorter than 16 characters, from the command line or from http.tokens', async () => {
    await expect(serveHttp(testRuntime(), { host: '127.0.0.1', port: 0, token: 'short-token' })).rejects.toThrow(/shorter than 16 characters \(RELEASE_MCP_HTTP_TOKEN or --http-token\)/);
    const runtime = testRuntime({ config: { http: { tokens: [{ env: 'TEAM_TOKEN', role: 'viewer' }] } }, env: { TEAM_TOKEN: 'abc123' } });
    const error = await serveHttp(runtime, { host: '127.0.0.1', port: 0 }).catch((e: Error) => e);
    expect((error as Error).message).toMatch(/shorter than 16 characters \(TEAM_TOKEN\)/);
    expect((error as Error).message).not.toContain('abc123');
    runtime.close();
  });

  it('bound off loopback, checks Host and Origin against the configured names', async () => {
    handle = await serveHttp(testRuntime(), { host: '0.0.0.0', port: 0, token: TOKEN, allowedHosts: ['release.example.com'] });
    const url = `http://127.0.0.1:${handle.port}/mcp`;
    const send = (headers: Record<string, string>) =>
      new Promise<number>((resolve, reject) => {
        const req = request(url, { method: 'POST', headers: { ...HEADERS, authorization: `Bearer ${TOKEN}`, ...headers } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end(JSON.stringify(INIT));
      });
    expect(await send({ host: 'evil.example.com' })).toBe(403);
    expect(await send({ host: 'release.example.com', origin: 'http://evil.example.com' })).toBe(403);
    expect(await send({ host: 'release.example.com', origin: 'https://release.example.com' })).toBe(200);
    expect(await send({ host: 'release.example.com' })).toBe(200);
  });
});
