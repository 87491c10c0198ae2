import { execFile } from 'node:child_process';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listEvents } from '../../src/releases/index.js';
import { serveHttp, type HttpHandle } from '../../src/server/http.js';
import { prepareRequestSchema, releaseViewSchema } from '../../src/server/rest-schemas.js';
import type { Runtime } from '../../src/server/runtime.js';
import { tempDir, testRuntime } from '../helpers/harness.js';
import { columnsOf, ledgerConfig } from '../releases/fixtures.js';
import { TOKEN_CONFIG, TOKENS } from './http-fixtures.js';

const run = promisify(execFile);

interface Reply {
  status: number;
  body: { success: boolean; data?: Record<string, unknown>; error?: { code: string; message: string } };
}

/**
 * A curl command of seed 003, verbatim but for the host, token, tenant and release id; the
 * added --write-out only prints the status after the body.
 */
async function curl(command: string, vars: { base: string; token: string; tenant: string; release?: string }): Promise<Reply> {
  const substituted = command
    .replaceAll('https://api.example.com', vars.base)
    .replaceAll('${{ secrets.API_URL }}', vars.base)
    .replaceAll('<token>', vars.token)
    .replaceAll('${{ secrets.API_TOKEN }}', vars.token)
    .replaceAll('<tenant>', vars.tenant)
    .replaceAll('${{ secrets.TENANT_ID }}', vars.tenant)
    .replaceAll('${{ needs.prepare-release.outputs.release_id }}', vars.release ?? '')
    .replaceAll('rel_20240115_1200', vars.release ?? '');
  const { stdout } = await run('bash', ['-c', `${substituted} --silent --show-error --write-out '\\n%{http_code}'`]);
  const lines = stdout.trimEnd().split('\n');
  const status = Number(lines.pop());
  return { status, body: JSON.parse(lines.join('\n')) };
}

// From seed 003 (CI/CD integration and Troubleshooting), as written there.
const SEED = {
  prepare: `curl -X POST \${{ secrets.API_URL }}/api/releases/prepare \\
            -H "Authorization: Bearer \${{ secrets.API_TOKEN }}" \\
            -H "X-Tenant-Slug: \${{ secrets.TENANT_ID }}" \\
            -d '{"from_env": "dev", "to_env": "staging"}'`,
  promote: `curl -X POST \${{ secrets.API_URL }}/api/releases/promote \\
            -H "Authorization: Bearer \${{ secrets.API_TOKEN }}" \\
            -H "X-Tenant-Slug: \${{ secrets.TENANT_ID }}" \\
            -d '{"release_id": "\${{ needs.prepare-release.outputs.release_id }}"}'`,
  status: `curl -H "Authorization: Bearer <token>" \\
  -H "X-Tenant-Slug: <tenant>" \\
  https://api.example.com/api/releases/rel_20240115_1200`,
  rollback: `curl -X POST https://api.example.com/api/releases/rollback \\
  -H "Authorization: Bearer <token>" \\
  -H "X-Tenant-Slug: <tenant>" \\
  -d '{"release_id": "rel_20240115_1200"}'`,
  list: `curl -H "Authorization: Bearer <token>" \\
  -H "X-Tenant-Slug: <tenant>" \\
  https://api.example.com/api/releases/`,
};

/** The API Endpoint block of "Prepare Release", with its `[...]` columns written out. */
const SEED_PREPARE_BODY = {
  from_env: 'dev',
  to_env: 'staging',
  bundle_data: { database: { changes: [{ type: 'create_table', table: 'new_feature', columns: [{ name: 'id', type: 'INTEGER', primary_key: true }, { name: 'name', type: 'TEXT' }] }] } },
};

type OpenApi = { openapi: string; paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: { $ref: string } }> }>; requestBody?: { content: Record<string, { schema: { $ref: string } }> } }>>; components: { schemas: Record<string, unknown> } };

/** ajv over the document's components: validate a body against what a path documents. */
function documented(doc: OpenApi) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  ajv.addSchema({ $id: 'openapi.json', components: doc.components });
  const check = (ref: string, value: unknown) => {
    const validate = ajv.getSchema(`openapi.json${ref}`);
    if (!validate) throw new Error(`no schema ${ref}`);
    const ok = validate(value);
    return ok ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
  };
  return {
    response: (path: string, method: string, reply: Reply) => {
      const response = doc.paths[path]?.[method]?.responses[String(reply.status)];
      if (!response?.content) throw new Error(`${method} ${path} documents no ${reply.status}`);
      return check(response.content['application/json']!.schema.$ref, reply.body);
    },
    request: (path: string, method: string, body: unknown) => check(doc.paths[path]![method]!.requestBody!.content['application/json']!.schema.$ref, body),
  };
}

const post = (base: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

const asReply = async (response: Response): Promise<Reply> => ({ status: response.status, body: (await response.json()) as Reply['body'] });

describe('REST API (seed 003) over HTTP', () => {
  const dir = tempDir();
  let runtime: Runtime;
  let http: HttpHandle;
  let base: string;
  let doc: OpenApi;
  const admin = { authorization: `Bearer ${TOKENS.ADMIN_TOKEN}`, 'x-tenant-slug': 'primary' };

  beforeAll(async () => {
    runtime = testRuntime({ config: ledgerConfig(dir.path, { http: { tokens: TOKEN_CONFIG } }), env: TOKENS, memoryPath: join(dir.path, 'memory.db') });
    http = await serveHttp(runtime, { host: '127.0.0.1', port: 0, maxBodyBytes: 64 * 1024, authFailureLimits: { burst: 3, perSecond: 0.01 } });
    base = `http://127.0.0.1:${http.port}`;
    doc = (await (await fetch(`${base}/api/openapi.json`)).json()) as OpenApi;
  });
  afterAll(async () => {
    await http?.close();
    dir.cleanup();
  });

  it('runs the seed curl examples: prepare, promote, get, list, rollback, each answer as documented', async () => {
    const check = documented(doc);
    const vars = { base, token: TOKENS.ADMIN_TOKEN, tenant: 'primary' };
    expect(check.request('/api/releases/prepare', 'post', SEED_PREPARE_BODY)).toEqual([]);

    const prepared = await curl(SEED.prepare, vars);
    expect(prepared.status).toBe(201);
    expect(prepared.body).toMatchObject({ success: true, data: { status: 'prepared', from_env: 'dev', to_env: 'staging', migrations: [], commit_sha: null } });
    expect(prepared.body.data!.release_id).toMatch(/^rel_\d{8}_\d{4}(_\d+)?$/);
    expect(prepared.body.data!.bundle_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(check.response('/api/releases/prepare', 'post', prepared)).toEqual([]);
    const release = prepared.body.data!.release_id as string;

    // The "Prepare Release" endpoint block: a create_table under bundle_data.database.changes.
    const withTable = await asReply(await post(base, '/api/releases/prepare', SEED_PREPARE_BODY, { ...admin, authorization: `Bearer ${TOKENS.ADMIN_TOKEN}` }));
    expect(withTable.status).toBe(201);
    const migration = (withTable.body.data!.migrations as Array<Record<string, unknown>>)[0]!;
    expect(migration).toMatchObject({ operation: 'create_table', table: 'new_feature', dry_run_result: { ok: true } });
    expect(migration.sql).toMatch(/^CREATE TABLE "new_feature"/);
    expect(check.response('/api/releases/prepare', 'post', withTable)).toEqual([]);

    const promoted = await curl(SEED.promote, { ...vars, release });
    expect(promoted.status).toBe(200);
    expect(promoted.body).toMatchObject({ success: true, data: { release_id: release, status: 'promoted', from_env: 'dev', to_env: 'staging' } });
    expect(promoted.body.data!.promoted_at).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(check.response('/api/releases/promote', 'post', promoted)).toEqual([]);

    const got = await curl(SEED.status, { ...vars, release });
    expect(got.status).toBe(200);
    expect(got.body.data).toMatchObject({ release_id: release, id: release, status: 'promoted', promotion_running: false });
    expect(check.response('/api/releases/{release_id}', 'get', got)).toEqual([]);

    const listed = await curl(SEED.list, vars);
    expect(listed.status).toBe(200);
    expect((listed.body.data!.releases as Array<{ release_id: string }>).map((r) => r.release_id)).toEqual([withTable.body.data!.release_id, release]);
    expect(listed.body.data!.count).toBe(2);
    expect(check.response('/api/releases/', 'get', listed)).toEqual([]);

    const rolledBack = await curl(SEED.rollback, { ...vars, release });
    expect(rolledBack.status).toBe(200);
    expect(rolledBack.body).toMatchObject({ success: true, data: { release_id: release, rolled_back: true, status: 'rolled_back' } });
    expect(check.response('/api/releases/rollback', 'post', rolledBack)).toEqual([]);
  });

  it('promotes the seed body that creates a table, and rollback drops it again', async () => {
    const prepared = await asReply(await post(base, '/api/releases/prepare', { ...SEED_PREPARE_BODY, bundle_data: { ...SEED_PREPARE_BODY.bundle_data, feature_flags: { new_ui: true } } }, admin));
    const id = prepared.body.data!.release_id as string;
    // Earlier test left a prepared release to staging with the same table: promote this one only if that one was not.
    const promoted = await asReply(await post(base, '/api/releases/promote', { release_id: id }, admin));
    expect(promoted.status).toBe(200);
    expect(columnsOf(join(dir.path, 'staging.db'), 'new_feature')).toEqual(['id', 'name']);
    const rolledBack = await asReply(await post(base, '/api/releases/rollback', { release_id: id }, admin));
    expect(rolledBack.body.data).toMatchObject({ rolled_back: true, reverted_migrations: 1 });
    expect(columnsOf(join(dir.path, 'staging.db'), 'new_feature')).toEqual([]);
  });

  it('answers each error with its status and {success: false, error: {code, message}}', async () => {
    const check = documented(doc);
    const expectError = async (response: Response, status: number, code: string, message: RegExp, path: string, method: string) => {
      const reply = await asReply(response);
      expect(reply.status, JSON.stringify(reply.body)).toBe(status);
      expect(reply.body).toMatchObject({ success: false, error: { code } });
      expect(reply.body.error!.message).toMatch(message);
      expect(check.response(path, method, reply)).toEqual([]);
      return reply;
    };
    const bad = { from_env: 'dev', to_env: 'staging', bundle_data: { database: { changes: [{ type: 'create_table', table: 'x-y', columns: [] }] } } };
    await expectError(await post(base, '/api/releases/prepare', bad, admin), 400, 'invalid_input', /bundle_data\.database\.changes\.0\.table: expected an identifier.*bundle_data\.database\.changes\.0\.columns/, '/api/releases/prepare', 'post');
    await expectError(await post(base, '/api/releases/prepare', { to_env: 'staging' }, admin), 400, 'invalid_input', /from_env: required/, '/api/releases/prepare', 'post');
    await expectError(await post(base, '/api/releases/promote', '{"release_id": ', admin), 400, 'invalid_input', /not valid JSON/, '/api/releases/promote', 'post');
    await expectError(await fetch(`${base}/api/releases/rel_1`, { headers: admin }), 400, 'invalid_input', /expected a release id like rel_20240115_1200/, '/api/releases/{release_id}', 'get');
    await expectError(await fetch(`${base}/api/releases/`, { headers: { authorization: admin.authorization } }), 400, 'invalid_input', /X-Tenant-Slug header is required/, '/api/releases/', 'get');

    const unauthenticated = await fetch(`${base}/api/releases/`, { headers: { 'x-tenant-slug': 'primary' } });
    expect(unauthenticated.headers.get('www-authenticate')).toMatch(/^Bearer/);
    await expectError(unauthenticated, 401, 'auth', /missing or invalid bearer token/, '/api/releases/', 'get');

    const operator = { authorization: `Bearer ${TOKENS.OPERATOR_TOKEN}`, 'x-tenant-slug': 'primary' };
    await expectError(await post(base, '/api/releases/prepare', { from_env: 'dev', to_env: 'staging' }, operator), 403, 'forbidden', /needs the admin role \(you are operator\)/, '/api/releases/prepare', 'post');
    await expectError(await fetch(`${base}/api/releases/rel_19990101_0000`, { headers: admin }), 404, 'not_found', /rel_19990101_0000/, '/api/releases/{release_id}', 'get');

    // A release of tenant "other" is not found for primary's admin.
    const otherAdmin = { authorization: `Bearer ${TOKENS.OTHER_ADMIN_TOKEN}`, 'x-tenant-slug': 'other' };
    const others = await asReply(await post(base, '/api/releases/prepare', { from_env: 'dev', to_env: 'staging' }, otherAdmin));
    expect(others.status).toBe(201);
    await expectError(await fetch(`${base}/api/releases/${others.body.data!.release_id as string}`, { headers: admin }), 404, 'not_found', /not found|no release/i, '/api/releases/{release_id}', 'get');

    const prepared = await asReply(await post(base, '/api/releases/prepare', { from_env: 'dev', to_env: 'staging' }, admin));
    const id = prepared.body.data!.release_id as string;
    expect((await post(base, '/api/releases/promote', { release_id: id }, admin)).status).toBe(200);
    await expectError(await post(base, '/api/releases/promote', { release_id: id }, admin), 409, 'precondition', /promoted/, '/api/releases/promote', 'post');
    await expectError(await post(base, '/api/releases/prepare', { from_env: 'staging', to_env: 'dev' }, admin), 409, 'precondition', /does not come after/, '/api/releases/prepare', 'post');

    const big = { from_env: 'dev', to_env: 'staging', bundle_data: { images: { big: 'x'.repeat(70 * 1024) } } };
    await expectError(await post(base, '/api/releases/prepare', big, admin), 413, 'invalid_input', /request body over 65536 bytes/, '/api/releases/prepare', 'post');
    // Without Content-Length (chunked) the limit holds while reading.
    const chunked = await new Promise<Reply>((resolve, reject) => {
      const req = request(`${base}/api/releases/prepare`, { method: 'POST', headers: { ...admin, 'transfer-encoding': 'chunked' } }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
      });
      req.on('error', reject);
      for (let i = 0; i < 70; i++) req.write('x'.repeat(1024));
      req.end();
    });
    expect(chunked.status).toBe(413);
    expect(chunked.body.error!.message).toBe('request body over 65536 bytes');
    // Authentication comes first: a caller without a token is refused before its body is read.
    await expectError(await post(base, '/api/releases/prepare', big, { 'x-tenant-slug': 'primary' }), 401, 'auth', /bearer token/, '/api/releases/prepare', 'post');
  });

  it('refuses an X-Tenant-Slug of another tenant with 403 and audits it', async () => {
    const before = (await listEvents(runtime.memory, 'primary', { event: 'access.refused', limit: 100 })).length;
    const reply = await asReply(await fetch(`${base}/api/releases/`, { headers: { ...admin, 'x-tenant-slug': 'other' } }));
    expect(reply.status).toBe(403);
    expect(reply.body).toEqual({ success: false, error: { code: 'forbidden', message: 'X-Tenant-Slug "other" is not the tenant of your token' } });
    const events = await listEvents(runtime.memory, 'primary', { event: 'access.refused', limit: 100 });
    expect(events.length).toBe(before + 1);
    expect(events.at(-1)).toMatchObject({ actor: 'token:ADMIN_TOKEN', role: 'admin', details: { path: '/api/releases/', reason: 'X-Tenant-Slug names another tenant', tenant: 'other' } });
  });

  it('answers repeated bad tokens with 429 and Retry-After, audited once per address and minute', async () => {
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 6; i++) {
      const r = await fetch(`${base}/api/releases/`, { headers: { authorization: `Bearer wrong-token-${i}-0123456789`, 'x-tenant-slug': 'primary' } });
      statuses.push(r.status);
      if (r.status === 429) {
        retryAfter = r.headers.get('retry-after');
        expect(await r.json()).toMatchObject({ success: false, error: { code: 'rate_limited' } });
      } else await r.body?.cancel();
    }
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(3);
    expect(Number(retryAfter)).toBeGreaterThan(0);
    const rows = (await listEvents(runtime.memory, 'primary', { event: 'access.refused', limit: 100 })).filter((e) => e.details.path === '/api/releases' && e.details.reason === 'invalid bearer token');
    expect(rows).toHaveLength(1);
    // A valid token still passes.
    expect((await fetch(`${base}/api/releases/`, { headers: admin })).status).toBe(200);
  });

  it('serves an OpenAPI 3.1 document generated from the zod schemas', async () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths).sort()).toEqual(['/api/releases/', '/api/releases/prepare', '/api/releases/promote', '/api/releases/rollback', '/api/releases/{release_id}']);
    const strip = (s: Record<string, unknown>) => {
      const { $schema: _, ...rest } = s;
      return rest;
    };
    expect(doc.components.schemas.PrepareRequest).toEqual(strip(z.toJSONSchema(prepareRequestSchema, { io: 'input' }) as Record<string, unknown>));
    expect(doc.components.schemas.ReleaseView).toEqual(strip(z.toJSONSchema(releaseViewSchema) as Record<string, unknown>));
    // The document's schemas and zod agree on what a body may be.
    const check = documented(doc);
    for (const body of [SEED_PREPARE_BODY, { from_env: 'dev', to_env: 'staging' }, { from_env: 'dev' }, { from_env: 'dev', to_env: 'staging', extra: 1 }, { from_env: 'dev', to_env: 'staging', bundle_data: { database: { changes: [{ type: 'drop_table' }] } } }]) {
      expect(check.request('/api/releases/prepare', 'post', body).length === 0).toBe(prepareRequestSchema.safeParse(body).success);
    }
  });
});

describe('REST API: a promotion that outlasts the wait, and a failure inside', () => {
  const dir = tempDir();
  let runtime: Runtime;
  let http: HttpHandle;
  let slow: Server;
  let base: string;
  const admin = { authorization: `Bearer ${TOKENS.ADMIN_TOKEN}`, 'x-tenant-slug': 'primary' };

  beforeAll(async () => {
    // The promotion skill waits on a health URL that answers after 1.5 s.
    slow = createServer((_req, res) => void setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'), 1500));
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    const skills = join(dir.path, 'skills');
    mkdirSync(skills);
    writeFileSync(
      join(skills, 'slow_promotion.yaml'),
      `name: slow_promotion
description: Wait for the target's health URL
version: "1"
inputs:
  release_id: { type: string }
  environment: { type: string }
  from_env: { type: string }
  commit_sha: { type: string }
  images: { type: object }
steps:
  - name: healthy
    tool: http_health_check
    args: { environment: "{{ inputs.environment }}", kind: health, retries: 0, timeout_ms: 5000 }
`,
    );
    const config = ledgerConfig(dir.path, { http: { tokens: TOKEN_CONFIG, promote_wait_ms: 200 }, skills_dirs: [skills] });
    const staging = (config.environments as Array<Record<string, unknown>>)[1]!;
    staging.promotion_skill = 'slow_promotion';
    staging.health_urls = [{ url: `http://127.0.0.1:${(slow.address() as AddressInfo).port}/health` }];
    // prod's database is a directory: opening it fails inside the service.
    (config.environments as Array<Record<string, unknown>>)[2]!.database = dir.path;
    runtime = testRuntime({ config, env: TOKENS, memoryPath: join(dir.path, 'memory.db') });
    http = await serveHttp(runtime, { host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${http.port}`;
  });
  afterAll(async () => {
    await http?.close();
    slow?.closeAllConnections();
    await new Promise((resolve) => slow?.close(resolve));
    dir.cleanup();
  });

  it('answers 202 with Location while the promotion skill runs, and GET shows how it ended', async () => {
    const prepared = await asReply(await post(base, '/api/releases/prepare', { from_env: 'dev', to_env: 'staging', bundle_data: { feature_flags: { new_ui: true } } }, admin));
    const id = prepared.body.data!.release_id as string;
    const response = await post(base, '/api/releases/promote', { release_id: id }, admin);
    expect(response.status).toBe(202);
    expect(response.headers.get('location')).toBe(`/api/releases/${id}`);
    expect(await response.json()).toEqual({ success: true, data: { release_id: id, status: 'promoting', status_url: `/api/releases/${id}` } });
    const running = await asReply(await fetch(`${base}/api/releases/${id}`, { headers: admin }));
    expect(running.body.data).toMatchObject({ status: 'prepared', promotion_running: true });
    expect((await asReply(await post(base, '/api/releases/promote', { release_id: id }, admin))).status).toBe(409);
    let final: Reply = running;
    for (let i = 0; i < 100 && final.body.data!.promotion_running; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      final = await asReply(await fetch(`${base}${response.headers.get('location')!}`, { headers: admin }));
    }
    expect(final.body.data).toMatchObject({ status: 'promoted', promotion_running: false, feature_flags: { new_ui: true } });
  });

  it('answers 500 without internals when the service fails unexpectedly', async () => {
    const prepared = await asReply(await post(base, '/api/releases/prepare', { from_env: 'staging', to_env: 'prod' }, admin));
    expect(prepared.status).toBe(500);
    expect(prepared.body).toEqual({ success: false, error: { code: 'internal', message: 'internal server error' } });
  });
});
