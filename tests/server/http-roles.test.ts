import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveHttp, type HttpHandle } from '../../src/server/http.js';
import type { Runtime } from '../../src/server/runtime.js';
import { errorOf, tempDir, testRuntime } from '../helpers/harness.js';
import { bundle, data, ledgerConfig, type Manifest } from '../releases/fixtures.js';
import { httpClient, TOKEN_CONFIG, TOKENS, type HttpClient } from './http-fixtures.js';

interface Events {
  events: Array<{ event: string; actor: string; role: string; release_id: string | null; details: Record<string, unknown> }>;
}

describe('roles and tenants over HTTP', () => {
  const dir = tempDir();
  let runtime: Runtime;
  let http: HttpHandle;
  let admin: HttpClient;
  let operator: HttpClient;
  let viewer: HttpClient;
  let other: HttpClient;
  let releaseId: string;

  beforeAll(async () => {
    runtime = testRuntime({ config: ledgerConfig(dir.path, { http: { tokens: TOKEN_CONFIG } }), env: TOKENS });
    http = await serveHttp(runtime, { host: '127.0.0.1', port: 0 });
    [admin, operator, viewer, other] = await Promise.all([TOKENS.ADMIN_TOKEN, TOKENS.OPERATOR_TOKEN, TOKENS.VIEWER_TOKEN, TOKENS.OTHER_ADMIN_TOKEN].map((t) => httpClient(http.url, t)));
    releaseId = data<Manifest>(await admin.call('release_prepare', { from_env: 'dev', to_env: 'staging', bundle: bundle([]) })).id;
  });
  afterAll(async () => {
    for (const c of [admin, operator, viewer, other]) await c?.close();
    await http?.close();
    dir.cleanup();
  });

  it('refuses requests without a valid token, and audits the refusal', async () => {
    const none = await fetch(http.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{}' });
    expect(none.status).toBe(401);
    const wrong = await fetch(http.url.replace('/mcp', '/metrics'), { headers: { authorization: 'Bearer not-a-token' } });
    expect(wrong.status).toBe(401);
    const health = await fetch(http.url.replace('/mcp', '/health'));
    expect(health.status).toBe(200);
    const refused = data<Events>(await admin.call('release_events', { event: 'access.refused' })).events;
    expect(refused.filter((e) => e.actor === 'anonymous').map((e) => e.details.reason)).toEqual(expect.arrayContaining(['missing bearer token', 'invalid bearer token']));
  });

  it('lets an operator read but not change the ledger', async () => {
    const tools = (await operator.client.listTools()).tools.map((t) => t.name);
    expect(tools).toEqual(expect.arrayContaining(['release_prepare', 'release_list']));
    expect(data<{ count: number }>(await operator.call('release_list')).count).toBeGreaterThan(0);
    const result = await operator.call('release_promote', { release_id: releaseId });
    expect(errorOf(result).code).toBe('forbidden');
    expect(errorOf(result).message).toMatch(/needs the admin role \(you are operator\)/);
    expect(data<Manifest>(await admin.call('release_get', { release_id: releaseId })).status).toBe('prepared');
    const events = data<Events>(await admin.call('release_events', { release_id: releaseId })).events;
    expect(events.at(-1)).toMatchObject({ event: 'release.refused', actor: 'token:OPERATOR_TOKEN', role: 'operator', details: { tool: 'release_promote', code: 'forbidden' } });
  });

  it('shows a viewer read-only tools only and refuses the others as unknown, with an audit event', async () => {
    const tools = (await viewer.client.listTools()).tools;
    expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(['release_list', 'release_get', 'release_events', 'http_health_check']));
    expect(tools.every((t) => t.annotations?.readOnlyHint === true)).toBe(true);
    expect(tools.map((t) => t.name)).not.toContain('release_prepare');
    expect(data<Manifest>(await viewer.call('release_get', { release_id: releaseId })).id).toBe(releaseId);
    const result = await viewer.call('release_rollback', { release_id: releaseId });
    expect(errorOf(result).code).toBe('not_found');
    const refused = data<Events>(await admin.call('release_events', { event: 'access.refused' })).events;
    expect(refused.at(-1)).toMatchObject({ actor: 'token:VIEWER_TOKEN', role: 'viewer', details: { tool: 'release_rollback' } });
  });

  it("keeps each tenant's releases to itself", async () => {
    expect(data<{ count: number }>(await other.call('release_list')).count).toBe(0);
    expect(errorOf(await other.call('release_get', { release_id: releaseId })).code).toBe('not_found');
    expect(errorOf(await other.call('release_promote', { release_id: releaseId })).code).toBe('not_found');
    const own = data<Manifest & { tenant: string }>(await other.call('release_prepare', { from_env: 'dev', to_env: 'staging', bundle: bundle([]) }));
    expect(own.tenant).toBe('other');
    const primary = data<{ releases: Array<{ id: string }> }>(await admin.call('release_list')).releases.map((r) => r.id);
    expect(primary).toContain(releaseId);
    expect(primary).not.toContain(own.id);
    // The other tenant's refused promote is in its own audit trail, not in primary's.
    expect(data<Events>(await other.call('release_events', { event: 'release.refused' })).events.map((e) => e.release_id)).toContain(releaseId);
    expect(data<Events>(await admin.call('release_events', { release_id: releaseId })).events.some((e) => e.actor === 'token:OTHER_ADMIN_TOKEN')).toBe(false);
  });

  it('binds a session to the principal that opened it', async () => {
    const sessionId = admin.transport.sessionId!;
    const hijack = await fetch(http.url, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKENS.VIEWER_TOKEN}`, 'mcp-session-id': sessionId, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 99, method: 'tools/call', params: { name: 'release_rollback', arguments: { release_id: releaseId } } }),
    });
    expect(hijack.status).toBe(404);
    expect(data<Manifest>(await admin.call('release_get', { release_id: releaseId })).status).toBe('prepared');
  });

  it('reports the latest release in /health', async () => {
    const health = (await (await fetch(http.url.replace('/mcp', '/health'))).json()) as { releases: Record<string, unknown> };
    expect(health.releases).toMatchObject({ configured: true, ok: true, latest_release: releaseId, environment: 'staging' });
  });
});
