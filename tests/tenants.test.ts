import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, ConfigError } from '../src/config.js';
import { MemoryDb, MIGRATIONS } from '../src/memory/index.js';
import { serveHttp, type HttpHandle } from '../src/server/http.js';
import type { Runtime } from '../src/server/runtime.js';
import type { RunResult, RunsResult } from '../src/tools/index.js';
import { connect, errorOf, tempDir, testRuntime } from './helpers/harness.js';
import { bundle, data, ledgerConfig, rowsOf, schemaOf, type Manifest } from './releases/fixtures.js';
import { httpClient, type HttpClient } from './server/http-fixtures.js';

/**
 * Two tenants on one server, each trying to reach the other's objects over HTTP: primary
 * (the default tenant) and other; a third tenant has tokens but no environment databases.
 */
const TOKENS = {
  A_ADMIN: 'tenant-a-admin-token-0123456789',
  A_OPERATOR: 'tenant-a-operator-token-0123456789',
  B_ADMIN: 'tenant-b-admin-token-0123456789',
  B_OPERATOR: 'tenant-b-operator-token-0123456789',
  B_VIEWER: 'tenant-b-viewer-token-0123456789',
  C_ADMIN: 'tenant-c-admin-token-0123456789',
};
const TOKEN_CONFIG = [
  { env: 'A_ADMIN', role: 'admin', tenant: 'primary' },
  { env: 'A_OPERATOR', role: 'operator', tenant: 'primary' },
  { env: 'B_ADMIN', role: 'admin', tenant: 'other' },
  { env: 'B_OPERATOR', role: 'operator', tenant: 'other' },
  { env: 'B_VIEWER', role: 'viewer', tenant: 'other' },
  { env: 'C_ADMIN', role: 'admin', tenant: 'third' },
];

const GATED = `name: gated_note
description: record a note once a person approves it
inputs:
  ticket: { type: string, required: true }
steps:
  - name: approve
    confirm: "Record the note for {{ inputs.ticket }}?"
  - name: record
    tool: memory_append
    args: { key: notes, list: released, item: "{{ inputs.ticket }}" }
`;

const run = (result: CallToolResult) => result.structuredContent as unknown as RunResult;
const runs = (result: CallToolResult) => data<RunsResult>(result);
interface ReadResult {
  lists: Record<string, Array<{ id: number; item: unknown }>>;
  totals: Record<string, number>;
  next_before: Record<string, number>;
}
interface JournalResult {
  entries: Array<{ id: number; action: string; actor: string }>;
}

describe('tenants over HTTP', () => {
  const dir = tempDir();
  let runtime: Runtime;
  let http: HttpHandle;
  let aAdmin: HttpClient;
  let aOperator: HttpClient;
  let bAdmin: HttpClient;
  let bOperator: HttpClient;
  let bViewer: HttpClient;
  let cAdmin: HttpClient;

  beforeAll(async () => {
    mkdirSync(join(dir.path, 'skills'));
    writeFileSync(join(dir.path, 'skills', 'gated_note.yaml'), GATED);
    const config = ledgerConfig(dir.path, { http: { tokens: TOKEN_CONFIG }, skills_dirs: [join(dir.path, 'skills')], memory: { item_max_bytes: 1024 } });
    // The tenant checks use tools of every family (memory lists, skills, releases).
    runtime = testRuntime({ config, env: TOKENS, memoryPath: join(dir.path, 'memory.db'), persona: 'all' });
    http = await serveHttp(runtime, { host: '127.0.0.1', port: 0 });
    [aAdmin, aOperator, bAdmin, bOperator, bViewer, cAdmin] = await Promise.all(Object.values(TOKENS).map((t) => httpClient(http.url, t)));
  });
  afterAll(async () => {
    for (const c of [aAdmin, aOperator, bAdmin, bOperator, bViewer, cAdmin]) await c?.close();
    await http?.close();
    runtime?.close();
    dir.cleanup();
  });

  it("keeps a skill run to its tenant: another tenant can neither see, resume nor approve it", async () => {
    const paused = run(await aAdmin.call('skill_run', { name: 'gated_note', inputs: { ticket: 'AAP-1111 secret plan' } }));
    expect(paused.status).toBe('awaiting_approval');

    // Tenant B: the run is not in its list, and asking for it by id is not_found, whatever the role.
    expect(runs(await bViewer.call('skill_runs', {})).runs.map((r) => r.run_id)).not.toContain(paused.run_id);
    expect(errorOf(await bViewer.call('skill_runs', { run_id: paused.run_id })).code).toBe('not_found');
    for (const hostile of [bOperator, bAdmin]) {
      const approve = await hostile.call('skill_run', { resume: paused.run_id, approve: true });
      expect(errorOf(approve).code).toBe('not_found');
      expect(errorOf(approve).message).not.toContain('AAP-1111');
      expect(errorOf(await hostile.call('skill_run', { name: 'gated_note', resume: paused.run_id })).code).toBe('not_found');
      expect(errorOf(await hostile.call('skill_abandon', { run_id: paused.run_id })).code).toBe('not_found');
    }
    // Nothing moved: the run still waits, and its mutating step never ran.
    const mine = runs(await aAdmin.call('skill_runs', { run_id: paused.run_id })).run!;
    expect(mine.summary).toMatchObject({ status: 'awaiting_approval', started_by: 'token:A_ADMIN' });
    expect(mine.inputs).toEqual({ ticket: 'AAP-1111 secret plan' });
    expect(mine.steps.map((s) => s.name)).toEqual(['approve']);

    // An operator of the same tenant may approve it.
    const approved = run(await aOperator.call('skill_run', { resume: paused.run_id, approve: true }));
    expect(approved.status).toBe('succeeded');
    expect(data<ReadResult>(await aAdmin.call('memory_read', { key: 'notes', list: 'released' })).lists.released!.map((i) => i.item)).toEqual(['AAP-1111 secret plan']);
    // ... and the item the skill appended is tenant A's, not B's.
    expect(data<ReadResult>(await bAdmin.call('memory_read', { key: 'notes' })).lists).toEqual({});
  });

  it("lists each tenant's own runs; a viewer may look and plan, not run", async () => {
    const own = run(await bOperator.call('skill_run', { name: 'gated_note', inputs: { ticket: 'B-1' } }));
    expect(own.status).toBe('awaiting_approval');
    const seenByB = runs(await bViewer.call('skill_runs', { skill: 'gated_note' })).runs.map((r) => r.run_id);
    expect(seenByB).toEqual([own.run_id]);
    expect(runs(await bViewer.call('skill_runs', { run_id: own.run_id })).run!.inputs).toEqual({ ticket: 'B-1' });
    expect(runs(await aAdmin.call('skill_runs', {})).runs.map((r) => r.run_id)).not.toContain(own.run_id);
    expect(errorOf(await aAdmin.call('skill_run', { resume: own.run_id, approve: true })).code).toBe('not_found');

    // The viewer role calls read-only tools only: skill_run is unknown to it, skill_plan runs.
    expect(errorOf(await bViewer.call('skill_run', { resume: own.run_id, approve: true })).code).toBe('not_found');
    expect(runs(await bViewer.call('skill_runs', { run_id: own.run_id })).run!.summary.status).toBe('awaiting_approval');
    const plan = run(await bViewer.call('skill_plan', { name: 'gated_note', inputs: { ticket: 'B-2' } }));
    expect(plan.dry_run).toBe(true);
    expect(runs(await aAdmin.call('skill_runs', {})).runs.map((r) => r.run_id)).not.toContain(plan.run_id);
  });

  it("keeps the session journal per tenant and names who wrote each entry", async () => {
    await aAdmin.call('memory_session_log', { action: 'A released 1.2.3', details: 'internal detail of A' });
    await bOperator.call('memory_session_log', { action: 'B checked staging' });
    const a = data<JournalResult>(await aOperator.call('memory_session_read', {})).entries;
    const b = data<JournalResult>(await bViewer.call('memory_session_read', {})).entries;
    expect(a.map((e) => e.action)).toContain('A released 1.2.3');
    expect(a.map((e) => e.action)).not.toContain('B checked staging');
    expect(b.map((e) => e.action)).toEqual(['B checked staging']);
    expect(b[0]!.actor).toBe('token:B_OPERATOR');
  });

  it("keeps memory lists per tenant: the same key and list are two lists", async () => {
    for (const sha of ['a1', 'a2', 'a3']) await aAdmin.call('memory_append', { key: 'state/releases', list: 'history', item: { sha } });
    expect(data<ReadResult>(await bViewer.call('memory_read', { key: 'state/releases' }))).toMatchObject({ lists: {}, totals: {} });
    const appended = data<{ length: number }>(await bOperator.call('memory_append', { key: 'state/releases', list: 'history', item: { sha: 'b1' } }));
    expect(appended.length).toBe(1);
    const a = data<ReadResult>(await aOperator.call('memory_read', { key: 'state/releases', list: 'history' }));
    expect(a.lists.history!.map((i) => i.item)).toEqual([{ sha: 'a1' }, { sha: 'a2' }, { sha: 'a3' }]);
    expect(a.totals).toEqual({ history: 3 });
    const b = data<ReadResult>(await bViewer.call('memory_read', { key: 'state/releases', list: 'history' }));
    expect(b.lists.history!.map((i) => i.item)).toEqual([{ sha: 'b1' }]);
    // A cursor into tenant A's items pages through B's own list only (b1 is newer: nothing older).
    const cursor = a.lists.history!.at(-1)!.id + 1;
    const paged = data<ReadResult>(await bViewer.call('memory_read', { key: 'state/releases', list: 'history', before: cursor }));
    expect(paged).toMatchObject({ lists: { history: [] }, totals: { history: 1 }, next_before: {} });
  });

  it('refuses an item over memory.item_max_bytes, naming the field and the cap, and appends nothing', async () => {
    const result = await aAdmin.call('memory_append', { key: 'big', list: 'blobs', item: { text: 'x'.repeat(2000) } });
    expect(errorOf(result).code).toBe('invalid_input');
    expect(errorOf(result).message).toMatch(/^item: expected at most 1024 bytes of JSON \(memory\.item_max_bytes\), got 20\d\d$/);
    expect(data<ReadResult>(await aAdmin.call('memory_read', { key: 'big' })).totals).toEqual({});
    expect(data<{ length: number }>(await aAdmin.call('memory_append', { key: 'big', list: 'blobs', item: { text: 'x'.repeat(900) } })).length).toBe(1);
  });

  it("keeps environment databases per tenant: B's release migrates B's database, never A's", async () => {
    const staging = join(dir.path, 'staging.db');
    const bStaging = join(dir.path, 'other-staging.db');
    const before = schemaOf(staging);
    const drop = [{ operation: 'drop_table', table: 'users' }];
    const prepared = data<Manifest>(await bAdmin.call('release_prepare', { from_env: 'dev', to_env: 'staging', allow_data_loss: true, bundle: bundle(drop) }));
    const promoted = data<Manifest>(await bAdmin.call('release_promote', { release_id: prepared.id }));
    expect(promoted.status).toBe('promoted');
    expect(schemaOf(bStaging).map((o) => (o as { name: string }).name)).not.toContain('users');
    expect(schemaOf(staging)).toEqual(before);
    expect(rowsOf(staging, 'SELECT name FROM users ORDER BY id')).toEqual([{ name: 'ada' }, { name: 'bob' }, { name: 'cy' }]);
    expect(promoted.backup_path).toContain(dir.path);
    expect(promoted.backup_path).toMatch(/other-staging\.staging\.before-/);
    expect(errorOf(await aAdmin.call('release_get', { release_id: prepared.id })).code).toBe('not_found');
  });

  it('refuses a release to an environment where the tenant has no database, touching no file', async () => {
    const staging = join(dir.path, 'staging.db');
    const before = schemaOf(staging);
    const result = await cAdmin.call('release_prepare', { from_env: 'dev', to_env: 'staging', allow_data_loss: true, bundle: bundle([{ operation: 'drop_table', table: 'users' }]) });
    expect(errorOf(result)).toMatchObject({ code: 'config', message: 'environment staging has no database for tenant "third"' });
    expect(errorOf(result).hint).toMatch(/environments\[\]\.databases\.third/);
    expect(schemaOf(staging)).toEqual(before);
    expect(data<{ count: number }>(await cAdmin.call('release_list', {})).count).toBe(0);
    const refused = data<{ events: Array<{ actor: string; details: { code: string } }> }>(await cAdmin.call('release_events', { event: 'release.refused' })).events;
    expect(refused.at(-1)).toMatchObject({ actor: 'token:C_ADMIN', details: { code: 'config' } });
  });
});

describe('environment databases in config', () => {
  it('refuses one file for two tenants, naming both places', () => {
    const raw = {
      environments: [
        { name: 'staging', database: '/srv/a/staging.db' },
        { name: 'prod', database: '/srv/a/prod.db', databases: { other: '/srv/a/staging.db' } },
      ],
    };
    expect(() => parseConfig(raw, '/')).toThrow(ConfigError);
    try {
      parseConfig(raw, '/');
    } catch (error) {
      expect((error as ConfigError).problems).toEqual([
        'environments.1.databases.other: /srv/a/staging.db is already the database of tenant "primary" (environments.0.database); each tenant needs its own file',
      ]);
    }
  });

  it('resolves per-tenant paths relative to the config file', () => {
    const config = parseConfig({ environments: [{ name: 'dev', database: 'dev.db', databases: { other: 'other/dev.db' } }] }, '/etc/release-mcp');
    expect(config.environments[0]).toMatchObject({ database: '/etc/release-mcp/dev.db', databases: { other: '/etc/release-mcp/other/dev.db' } });
  });
});

describe('memory written before tenants', () => {
  it('belongs to the default tenant after the upgrade, and is hidden from the others', async () => {
    const dir = tempDir();
    const path = join(dir.path, 'memory.db');
    // A memory file as the previous version left it: schema 3, with a run, a journal entry and list items.
    const old = new Database(path);
    for (const m of [...MIGRATIONS].filter((m) => m.version <= 3).sort((a, b) => a.version - b.version)) old.exec(m.sql);
    old.pragma('user_version = 3');
    old.exec(`
      INSERT INTO skill_runs (id, skill, status, inputs, started_at, updated_at) VALUES ('20260101-000000-abcdef', 'gated_note', 'failed', '{"ticket":"OLD-1"}', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');
      INSERT INTO session_log (ts, action) VALUES ('2026-01-01T00:00:00Z', 'released before tenants');
      INSERT INTO kv_items (key, list, item, created_at) VALUES ('state', 'history', '"one"', 'x'), ('state', 'history', '"two"', 'x');
    `);
    old.close();

    const runtime = testRuntime({ config: { releases: { default_tenant: 'acme' } }, memoryPath: path, persona: 'all' });
    try {
      expect(await runtime.memory.schemaVersion()).toBeGreaterThanOrEqual(4);
      const local = await connect(runtime);
      expect(runs(await local.call('skill_runs', { run_id: '20260101-000000-abcdef' })).run!.inputs).toEqual({ ticket: 'OLD-1' });
      expect(data<JournalResult>(await local.call('memory_session_read', {})).entries.map((e) => e.action)).toEqual(['released before tenants']);
      expect(data<ReadResult>(await local.call('memory_read', { key: 'state' }))).toMatchObject({ totals: { history: 2 } });
      expect(data<{ length: number }>(await local.call('memory_append', { key: 'state', list: 'history', item: 'three' })).length).toBe(3);
      const stranger = await connect(runtime, { principal: { role: 'admin', tenant: 'other', subject: 'token:X' } });
      expect(errorOf(await stranger.call('skill_runs', { run_id: '20260101-000000-abcdef' })).code).toBe('not_found');
      expect(data<JournalResult>(await stranger.call('memory_session_read', {})).entries).toEqual([]);
      expect(data<ReadResult>(await stranger.call('memory_read', { key: 'state' })).lists).toEqual({});
      await Promise.all([local.close(), stranger.close()]);
    } finally {
      runtime.close();
      dir.cleanup();
    }
  });

  it('opens a new memory file with no default-tenant table left behind', () => {
    const memory = new MemoryDb({ path: ':memory:', defaultTenant: 'acme' });
    expect(memory.db.prepare("SELECT count(*) AS n FROM temp.sqlite_master WHERE name = 'migration_env'").get()).toEqual({ n: 0 });
    memory.close();
  });
});
