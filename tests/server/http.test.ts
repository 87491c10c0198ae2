import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { serveHttp, type HttpHandle } from '../../src/server/http.js';
import { testRuntime } from '../helpers/harness.js';

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
