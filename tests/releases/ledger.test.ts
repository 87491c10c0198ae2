import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { currentFlags } from '../../src/releases/index.js';
import { connect, errorOf, tempDir, testRuntime, type ConnectedClient } from '../helpers/harness.js';
import type { Runtime } from '../../src/server/runtime.js';
import { bundle, columnsOf, data, ledgerConfig, rowsOf, schemaOf, withDb, type Manifest } from './fixtures.js';

describe('release ledger through an MCP client', () => {
  let dir: ReturnType<typeof tempDir>;
  let runtime: Runtime;
  let mcp: ConnectedClient;
  let staging: string;

  const start = async (extra: Record<string, unknown> = {}) => {
    runtime = testRuntime({ config: ledgerConfig(dir.path, extra) });
    mcp = await connect(runtime);
  };
  const flags = () => currentFlags(runtime.memory, 'primary', runtime.config.environments.find((e) => e.name === 'staging')!);
  const events = async (release_id: string) => data<{ events: Array<{ event: string; actor: string; details: Record<string, unknown> }> }>(await mcp.call('release_events', { release_id })).events;

  beforeEach(async () => {
    dir = tempDir();
    staging = join(dir.path, 'staging.db');
  });
  afterEach(async () => {
    await mcp?.close();
    runtime?.close();
    dir.cleanup();
  });

  const threeMigrations = [
    { operation: 'create_table', table: 'audit_log', columns: [{ name: 'id', type: 'INTEGER', primary_key: true }, { name: 'message', type: 'TEXT', nullable: false }] },
    { operation: 'add_column', table: 'users', column: { name: 'plan', type: 'varchar(32)', default: 'basic' } },
    { operation: 'create_index', table: 'users', index: 'users_email', columns: ['email'], unique: true },
  ];

  it('prepares: plans SQL and rollback SQL, dry-runs without changing the target, stores the manifest', async () => {
    await start();
    const before = schemaOf(staging);
    const result = await mcp.call('release_prepare', { from_env: 'dev', to_env: 'staging', bundle: bundle(threeMigrations, { new_ui: true }) });
    const manifest = data<Manifest & { from_env: string; to_env: string; created_by: string }>(result);
    expect(manifest.id).toMatch(/^rel_\d{8}_\d{4}(_\d+)?$/);
    expect(manifest).toMatchObject({ status: 'prepared', from_env: 'dev', to_env: 'staging' });
    expect(manifest.bundle_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(manifest.migrations.map((m) => m.operation)).toEqual(['create_table', 'add_column', 'create_index']);
    expect(manifest.migrations[0]!.sql).toBe('CREATE TABLE "audit_log" ("id" INTEGER PRIMARY KEY, "message" TEXT NOT NULL)');
    expect(manifest.migrations[0]!.rollback_sql).toBe('DROP TABLE "audit_log"');
    expect(manifest.migrations[1]!.sql).toBe(`ALTER TABLE "users" ADD COLUMN "plan" VARCHAR(32) DEFAULT 'basic'`);
    expect(manifest.migrations[1]!.rollback_sql).toBe('ALTER TABLE "users" DROP COLUMN "plan"');
    expect(manifest.migrations[2]!.dry_run_result).toEqual({ ok: true, affected: ['index:users_email'] });
    expect(schemaOf(staging)).toEqual(before);
    expect(columnsOf(staging, 'users')).not.toContain('plan');

    const got = data<Manifest>(await mcp.call('release_get', { release_id: manifest.id }));
    expect(got.bundle_sha256).toBe(manifest.bundle_sha256);
    expect((await events(manifest.id)).map((e) => e.event)).toEqual(['release.prepared']);
  });

  it('gives the same bundle the same sha256 whatever the key order, and a different bundle another', async () => {
    await start();
    const a = data<Manifest>(await mcp.call('release_prepare', { from_env: 'dev', to_env: 'staging', bundle: { feature_flags: { b: true, a: 'x' }, commit_sha: bundle([]).commit_sha, images: {} } }));
    const b = data<Manifest>(await mcp.call('release_prepare', { from_env: 'dev', to_env: 'staging', bundle: { images: {}, commit_sha: bundle([]).commit_sha, feature_flags: { a: 'x', b: true } } }));
    const c = data<Manifest>(await mcp.call('release_prepare', { from_env: 'dev', to_env: 'staging', bundle: { images: {}, commit_sha: bundle([]).commit_sha, feature_flags: { a: 'y', b: true } } }));
    expect(a.bundle_sha256).toBe(b.bundle_sha256);
    expect(c.bundle_sha256).not.toBe(a.bundle_sha256);
    expect(new Set([a.id, b.id, c.id]).size).toBe(3);
  });

  it('refuses a path that skips or goes back, except a hotfix on a configured hotfix path', async () => {
    await start();
    const skip = await mcp.call('release_prepare', { from_env: 'dev', to_env: 'prod', bundle: bundle([]) });
    expect(errorOf(skip)).toMatchObject({ code: 'precondition' });
    expect(errorOf(skip).message).toMatch(/skips staging/);
    expect(errorOf(skip).hint).toMatch(/hotfix: true/);
    expect(errorOf(await mcp.call('release_prepare', { from_env: 'staging', to_env: 'dev', bundle: bundle([]) })).code).toBe('precondition');
    expect(errorOf(await mcp.call('release_prepare', { from_env: 'staging', to_env: 'qa', bundle: bundle([]) })).code).toBe('invalid_input');
    const hotfix = data<Manifest>(await mcp.call('release_prepare', { from_env: 'dev', to_env: 'prod', hotfix: true, bundle: bundle([]) }));
    expect(hotfix.status).toBe('prepared');
    const refused = data<{ events: Array<{ event: string; details: { tool: string } }> }>(await mcp.call('release_events', { event: 'release.refused' })).events;
    expect(refused.length).toBe(3);
    expect(refused.every((e) => e.details.tool === 'release_prepare')).toBe(true);
  });

  it('promotes: backs up, applies every migration and the flags, marks promoted; a second promote is refused', async () => {
    await start();
    const before = schemaOf(staging);
    const { id } = data<Manifest>(await mcp.call('release_prepare', { from_env: 'dev', to_env: 'staging', bundle: bundle(threeMigrations, { new_ui: true, beta: 'gold' }) }));
    const promoted = data<Manifest>(await mcp.call('release_promote', { release_id: id }));
    expect(promoted.status).toBe('promoted');
    expect(promoted.promoted_at).toBeTruthy();
    expect(columnsOf(staging, 'users')).toContain('plan');
    expect(rowsOf(staging, "SELECT name FROM sqlite_master WHERE name IN ('audit_log', 'users_email') ORDER BY name")).toEqual([{ name: 'audit_log' }, { name: 'users_email' }]);
    expect(rowsOf(staging, 'SELECT plan FROM users ORDER BY id')).toEqual([{ plan: 'basic' }, { plan: 'basic' }, { plan: 'basic' }]);
    expect(await flags()).toEqual({ new_ui: true, plan: 'basic', beta: 'gold' });
    expect(existsSync(promoted.backup_path!)).toBe(true);
    expect(schemaOf(promoted.backup_path!)).toEqual(before);

    const again = await mcp.call('release_promote', { release_id: id });
    expect(errorOf(again)).toMatchObject({ code: 'precondition' });
    expect(errorOf(again).message).toMatch(/is promoted: only a release that is prepared can be promoted/);
    expect((await events(id)).map((e) => e.event)).toEqual(['release.prepared', 'release.promoted', 'release.refused']);
  });

  it('applies all or nothing: a failure in the third migration rolls back the first two and the flags', async () => {
    await start();
    const before = schemaOf(staging);
    const { id } = data<Manifest>(await mcp.call('release_prepare', { from_env: 'dev', to_env: 'staging', bundle: bundle(threeMigrations, { new_ui: true }) }));
    // Data changes after prepare (no schema change): the unique index of migration 3 can no longer be built.
    withDb(staging, (db) => db.prepare("INSERT INTO users (name, email) VALUES ('dup', 'ada@example.com')").run());
    const failed = await mcp.call('release_promote', { release_id: id });
    expect(errorOf(failed).code).toBe('precondition');
    expect(errorOf(failed).message).toMatch(/migration 3 failed: UNIQUE constraint failed/);
    expect(schemaOf(staging)).toEqual(before);
    expect(columnsOf(staging, 'users')).not.toContain('plan');
    expect(await flags()).toEqual({ new_ui: false, plan: 'basic' });
    const manifest = data<Manifest>(await mcp.call('release_get', { release_id: id }));
    expect(manifest.status).toBe('failed');
    expect(manifest.failed_at).toBeTruthy();
    expect(manifest.error_message).toMatch(/migration 3/);
    const evs = await events(id);
    expect(evs.map((e) => e.event)).toEqual(['release.prepared', 'release.failed']);
    expect(evs[1]!.details).toMatchObject({ migration: 3 });

    expect(errorOf(await mcp.call('release_promote', { release_id: id })).code).toBe('precondition');
    const rolled = data<Manifest & { reverted_migrations: number }>(await mcp.call('release_rollback', { release_id: id }));
    expect(rolled).toMatchObject({ status: 'rolled_back', reverted_migrations: 0 });
  });

  it('rolls back a promoted release: the schema and the flags are as before', async () => {
    await start();
    const before = schemaOf(staging);
    const columnsBefore = rowsOf(staging, 'PRAGMA table_info(users)');
    const { id } = data<Manifest>(await mcp.call('release_prepare', { from_env: 'dev', to_env: 'staging', bundle: bundle(threeMigrations, { new_ui: true, beta: 'gold' }) }));
    data(await mcp.call('release_promote', { release_id: id }));
    const rolled = data<Manifest & { rolled_back: boolean; reverted_migrations: number }>(await mcp.call('release_rollback', { release_id: id }));
    expect(rolled).toMatchObject({ status: 'rolled_back', rolled_back: true, reverted_migrations: 3 });
    expect(rowsOf(staging, 'PRAGMA table_info(users)')).toEqual(columnsBefore);
    expect(schemaOf(staging)).toEqual(before);
    expect(rowsOf(staging, 'SELECT COUNT(*) AS n FROM users')).toEqual([{ n: 3 }]);
    expect(await flags()).toEqual({ new_ui: false, plan: 'basic' });
    const again = await mcp.call('release_rollback', { release_id: id });
    expect(errorOf(again).message).toMatch(/is rolled_back: only a release that is promoted or failed can be rolled back/);
    expect((await events(id)).map((e) => e.event)).toEqual(['release.prepared', 'release.promoted', 'release.rollback', 'release.refused']);
  });

  it('two promotions racing to one environment: the second is refused once the first changed the schema it was planned on', async () => {
    await start();
    const r1 = data<Manifest>(await mcp.call('release_prepare', { from_env: 'dev', to_env: 'staging', bundle: bundle([{ operation: 'add_column', table: 'users', column: { name: 'plan', type: 'TEXT', default: 'gold' } }]) }));
    const r2 = data<Manifest>(await mcp.call('release_prepare', { from_env: 'dev', to_env: 'staging', bundle: bundle([{ operation: 'modify_column', table: 'users', column: { name: 'age', type: 'TEXT' } }]) }));
    const [a, b] = await Promise.all([mcp.call('release_promote', { release_id: r1.id }), mcp.call('release_promote', { release_id: r2.id })]);
    const outcomes = [a, b].map((r) => !r.isError);
    expect(outcomes.filter(Boolean)).toHaveLength(1);
    const refused = a.isError ? a : b;
    expect(errorOf(refused).code).toBe('precondition');
    expect(errorOf(refused).message).toMatch(/schema of staging changed/);
    // Whichever went first, its change is intact: r1's column and its values were not dropped by r2's table rebuild.
    if (!a.isError) expect(rowsOf(staging, 'SELECT plan FROM users ORDER BY id')).toEqual([{ plan: 'gold' }, { plan: 'gold' }, { plan: 'gold' }]);
    const loser = a.isError ? r1.id : r2.id;
    expect(data<Manifest>(await mcp.call('release_get', { release_id: loser })).status).toBe('prepared');
  });

  it('refuses to roll back flags that a later release changed, instead of silently overwriting them', async () => {
    await start();
    const a = data<Manifest>(await mcp.call('release_prepare', { from_env: 'dev', to_env: 'staging', bundle: bundle([], { beta: 'gold' }) }));
    data(await mcp.call('release_promote', { release_id: a.id }));
    const b = data<Manifest>(await mcp.call('release_prepare', { from_env: 'dev', to_env: 'staging', bundle: bundle([], { beta: 'silver' }) }));
    data(await mcp.call('release_promote', { release_id: b.id }));
    const refused = await mcp.call('release_rollback', { release_id: a.id });
    expect(errorOf(refused).code).toBe('precondition');
    expect(errorOf(refused).message).toContain('beta');
    expect(errorOf(refused).message).toContain(b.id);
    expect(await flags()).toMatchObject({ beta: 'silver' });
    expect(data<Manifest>(await mcp.call('release_get', { release_id: a.id })).status).toBe('promoted');
    data(await mcp.call('release_rollback', { release_id: b.id }));
    data(await mcp.call('release_rollback', { release_id: a.id }));
    expect(await flags()).toEqual({ new_ui: false, plan: 'basic' });
  });

  it('refuses a rollback that would drop data written to the new structures, and points at the backup', async () => {
    await start();
    const { id } = data<Manifest>(await mcp.call('release_prepare', { from_env: 'dev', to_env: 'staging', bundle: bundle(threeMigrations) }));
    const promoted = data<Manifest>(await mcp.call('release_promote', { release_id: id }));
    withDb(staging, (db) => db.prepare("INSERT INTO audit_log (message) VALUES ('written after promotion')").run());
    const refused = await mcp.call('release_rollback', { release_id: id });
    expect(errorOf(refused).code).toBe('precondition');
    expect(errorOf(refused).message).toContain('migration 1 (create_table audit_log): 1 rows in table audit_log were written');
    expect(errorOf(refused).message).toContain(promoted.backup_path!);
    expect(columnsOf(staging, 'audit_log')).toEqual(['id', 'message']);
    expect(data<Manifest>(await mcp.call('release_get', { release_id: id })).status).toBe('promoted');
  });

  it('guards data loss: dropping a column with values needs allow_data_loss, and its rollback is refused', async () => {
    await start();
    const drop = [{ operation: 'drop_column', table: 'users', column: 'email' }];
    const refused = await mcp.call('release_prepare', { from_env: 'dev', to_env: 'staging', bundle: bundle(drop) });
    expect(errorOf(refused).code).toBe('precondition');
    expect(errorOf(refused).message).toMatch(/would lose data: #1 drop_column users: 2 rows with a value in users.email/);
    expect(data<{ count: number }>(await mcp.call('release_list', {})).count).toBe(0);

    const prepared = data<Manifest>(await mcp.call('release_prepare', { from_env: 'dev', to_env: 'staging', allow_data_loss: true, bundle: bundle(drop) }));
    expect(prepared.migrations[0]).toMatchObject({ data_loss: true, reversible: false, rollback_sql: 'ALTER TABLE "users" ADD COLUMN "email" TEXT' });
    const promoted = data<Manifest>(await mcp.call('release_promote', { release_id: prepared.id }));
    expect(columnsOf(staging, 'users')).not.toContain('email');
    expect(columnsOf(promoted.backup_path!, 'users')).toContain('email');
    const rollback = await mcp.call('release_rollback', { release_id: prepared.id });
    expect(errorOf(rollback).message).toMatch(/migration 1 \(drop_column users\) is not reversible/);
    expect(errorOf(rollback).hint).toContain(promoted.backup_path!);
  });

  it('refuses to promote when the target schema changed since prepare', async () => {
    await start();
    const { id } = data<Manifest>(await mcp.call('release_prepare', { from_env: 'dev', to_env: 'staging', bundle: bundle(threeMigrations) }));
    withDb(staging, (db) => db.exec('CREATE TABLE other (x INTEGER)'));
    const result = await mcp.call('release_promote', { release_id: id });
    expect(errorOf(result).message).toMatch(/schema of staging changed since/);
    expect(data<Manifest>(await mcp.call('release_get', { release_id: id })).status).toBe('prepared');
  });

  it('refuses a release whose dry run fails, naming the migration, and stores nothing', async () => {
    await start();
    const result = await mcp.call('release_prepare', {
      from_env: 'dev',
      to_env: 'staging',
      bundle: bundle([threeMigrations[0], { operation: 'add_column', table: 'missing', column: { name: 'x', type: 'TEXT' } }, threeMigrations[2]]),
    });
    expect(errorOf(result).message).toMatch(/dry run on staging failed at migration 2 \(add_column missing\): no table missing/);
    expect(data<{ count: number }>(await mcp.call('release_list', {})).count).toBe(0);
    expect(schemaOf(staging).length).toBe(2);
  });

  it('fails a promotion whose promotion skill cannot run, leaving nothing applied', async () => {
    const config = ledgerConfig(dir.path);
    (config.environments as Array<Record<string, unknown>>)[1]!.promotion_skill = 'deploy_staging';
    runtime = testRuntime({ config });
    mcp = await connect(runtime);
    const before = schemaOf(staging);
    const { id } = data<Manifest>(await mcp.call('release_prepare', { from_env: 'dev', to_env: 'staging', bundle: bundle(threeMigrations, { new_ui: true }) }));
    const result = await mcp.call('release_promote', { release_id: id });
    expect(errorOf(result).code).toBe('not_found');
    expect(errorOf(result).message).toMatch(/promotion skill deploy_staging failed: no skill "deploy_staging"/);
    expect(schemaOf(staging)).toEqual(before);
    expect(await flags()).toEqual({ new_ui: false, plan: 'basic' });
    expect(data<Manifest>(await mcp.call('release_get', { release_id: id })).status).toBe('failed');
  });

  it('lists releases newest first and filters by status and environment', async () => {
    await start();
    const first = data<Manifest>(await mcp.call('release_prepare', { from_env: 'dev', to_env: 'staging', bundle: bundle([]) }));
    data(await mcp.call('release_promote', { release_id: first.id }));
    const second = data<Manifest>(await mcp.call('release_prepare', { from_env: 'staging', to_env: 'prod', bundle: bundle([]) }));
    const all = data<{ releases: Array<{ id: string; status: string; commit_sha: string }> }>(await mcp.call('release_list', {}));
    expect(all.releases.map((r) => r.id)).toEqual([second.id, first.id]);
    expect(all.releases[0]!.commit_sha).toBe(bundle([]).commit_sha);
    expect(data<{ releases: Array<{ id: string }> }>(await mcp.call('release_list', { status: 'promoted' })).releases.map((r) => r.id)).toEqual([first.id]);
    expect(data<{ releases: Array<{ id: string }> }>(await mcp.call('release_list', { environment: 'prod' })).releases.map((r) => r.id)).toEqual([second.id]);
    expect(errorOf(await mcp.call('release_get', { release_id: 'rel_19990101_0000' })).code).toBe('not_found');
  });
});
