import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalSession } from '../../src/server/context.js';
import { currentFlags, promoteRelease, type PromotionSkillRunner } from '../../src/releases/index.js';
import type { Runtime } from '../../src/server/runtime.js';
import { connect, errorOf, tempDir, testRuntime, type ConnectedClient } from '../helpers/harness.js';
import { sharedPostgres } from '../helpers/real-postgres.js';
import { bundle, columnsOf, data, seedUsers, type Manifest } from './fixtures.js';

const server = sharedPostgres();

type PgManifest = Omit<Manifest, 'migrations'> & {
  target_kind?: string;
  plan_sha256?: string;
  findings?: Array<{ rule: string; severity: string; migration: number; message: string; fix: string; count?: number }>;
  migrations: Array<Manifest['migrations'][number] & { transactional?: boolean }>;
};

const SEED = `
  CREATE TABLE users (id integer PRIMARY KEY, name text NOT NULL, email text, age integer, code varchar(20));
  CREATE INDEX users_name ON users (name);
  INSERT INTO users (id, name, email, age, code) VALUES (1, 'ada', 'ada@example.com', 36, 'A'), (2, 'bob', NULL, 41, 'B'), (3, 'cy', 'cy@example.com', NULL, 'C');
`;

const threeMigrations = [
  { operation: 'create_table', table: 'audit_log', columns: [{ name: 'id', type: 'INTEGER', primary_key: true }, { name: 'message', type: 'TEXT', nullable: false }] },
  { operation: 'add_column', table: 'users', column: { name: 'plan', type: 'varchar(32)', default: 'basic' } },
  { operation: 'create_index', table: 'users', index: 'users_email', columns: ['email'], unique: true },
];

describe.skipIf(!server)('PostgreSQL target environments', () => {
  let dir: ReturnType<typeof tempDir>;
  let runtime: Runtime | undefined;
  let mcp: ConnectedClient | undefined;
  /** The staging database's URL with the password (for the test's own connections) and without (config). */
  let stagingUrl: string;
  let configUrl: string;
  const results: string[] = [];

  const sql = async <T = Record<string, unknown>>(text: string, url = stagingUrl): Promise<T[]> => {
    // A query waiting for a lock fails after 1 s instead of queueing behind a promotion.
    const client = new pg.Client({ connectionString: url, lock_timeout: 1_000 });
    await client.connect();
    try {
      return (await client.query(text)).rows as T[];
    } finally {
      await client.end();
    }
  };
  /** Tables, columns (type, null, default), indexes and constraints of the public schema. */
  const schema = async () => ({
    columns: await sql(`SELECT table_name, column_name, data_type, character_maximum_length, is_nullable, column_default FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> '_release_mcp_promotions' ORDER BY table_name, ordinal_position`),
    indexes: await sql(`SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename <> '_release_mcp_promotions' ORDER BY indexname`),
    constraints: await sql(`SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE connamespace = 'public'::regnamespace AND conrelid <> COALESCE(to_regclass('_release_mcp_promotions'), 0)::oid ORDER BY conname`),
  });

  const configFor = (extra: { staging?: Record<string, unknown>; releases?: Record<string, unknown> } = {}) => {
    return {
      environments: [
        { name: 'dev', database: join(dir.path, 'dev.db'), feature_flags: { new_ui: true } },
        { name: 'staging', database: configUrl, password_env: 'STAGING_DB_PASSWORD', feature_flags: { new_ui: false }, ...extra.staging },
        { name: 'prod', database: join(dir.path, 'prod.db'), feature_flags: { new_ui: false } },
      ],
      ...(extra.releases ? { releases: extra.releases } : {}),
    };
  };
  const start = async (extra: Parameters<typeof configFor>[0] = {}, env: NodeJS.ProcessEnv = { STAGING_DB_PASSWORD: server!.password }) => {
    runtime = testRuntime({ config: configFor(extra), env, memoryPath: join(dir.path, 'memory.db') });
    mcp = await connect(runtime);
    return mcp;
  };
  const call = async (name: string, args: Record<string, unknown>) => {
    const result = await mcp!.call(name, args);
    results.push(JSON.stringify(result));
    return result;
  };
  const prepare = (migrations: unknown[], more: Record<string, unknown> = {}) => call('release_prepare', { from_env: 'dev', to_env: 'staging', bundle: bundle(migrations, { new_ui: true }), ...more });
  const flags = () => currentFlags(runtime!.memory, 'primary', runtime!.config.environments.find((e) => e.name === 'staging')!);

  beforeEach(async () => {
    dir = tempDir();
    seedUsers(join(dir.path, 'prod.db'));
    results.length = 0;
    stagingUrl = await server!.createDatabase('staging');
    const bare = new URL(stagingUrl);
    bare.password = '';
    configUrl = bare.toString();
    await sql(SEED);
  });
  afterEach(async () => {
    await mcp?.close();
    runtime?.close();
    mcp = undefined;
    runtime = undefined;
    dir.cleanup();
  });

  it('plans PostgreSQL SQL and dry-runs it in a transaction that is rolled back: the target is unchanged', async () => {
    await start();
    const before = await schema();
    const manifest = data<PgManifest>(await prepare(threeMigrations));
    expect(manifest).toMatchObject({ status: 'prepared', target_kind: 'postgresql' });
    expect(manifest.plan_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(manifest.migrations.map((m) => m.sql)).toEqual([
      'CREATE TABLE "audit_log" ("id" integer PRIMARY KEY, "message" text NOT NULL)',
      `ALTER TABLE "users" ADD COLUMN "plan" character varying(32) DEFAULT 'basic'`,
      'CREATE UNIQUE INDEX CONCURRENTLY "users_email" ON "users" ("email")',
    ]);
    expect(manifest.migrations.map((m) => m.transactional)).toEqual([true, true, false]);
    expect(manifest.migrations.every((m) => m.dry_run_result.ok)).toBe(true);
    expect(manifest.findings).toEqual([]);
    expect(await schema()).toEqual(before);
    expect(await sql(`SELECT count(*)::int AS n FROM pg_class WHERE relname IN ('audit_log', 'users_email')`)).toEqual([{ n: 0 }]);
  });

  it('applies the migrations in one transaction: a failing third migration leaves nothing applied and the flags as they were', async () => {
    await start();
    await sql(`UPDATE users SET email = 'bob@example.com' WHERE id = 2`);
    const before = await schema();
    const migrations = [threeMigrations[0], threeMigrations[1], { operation: 'modify_column', table: 'users', column: { name: 'email', type: 'TEXT', nullable: false } }];
    const { id } = data<PgManifest>(await prepare(migrations));
    // A data change after prepare (no schema change): SET NOT NULL of migration 3 now fails.
    await sql(`INSERT INTO users (id, name, email) VALUES (4, 'dee', NULL)`);
    const failed = errorOf(await call('release_promote', { release_id: id }));
    expect(failed.message).toMatch(/migration 3 failed: column "email" of relation "users" contains null values/);
    expect(await schema()).toEqual(before);
    expect(await flags()).toEqual({ new_ui: false });
    expect(data<PgManifest>(await call('release_get', { release_id: id })).status).toBe('failed');
  });

  it('promotes with a pg_dump backup recorded in the release, and rolls back to the schema from before', async () => {
    await start();
    const before = await schema();
    const { id } = data<PgManifest>(await prepare(threeMigrations));
    const promoted = data<PgManifest>(await call('release_promote', { release_id: id }));
    expect(promoted.status).toBe('promoted');
    expect(await sql(`SELECT plan FROM users ORDER BY id`)).toEqual([{ plan: 'basic' }, { plan: 'basic' }, { plan: 'basic' }]);
    expect(await sql(`SELECT indisvalid FROM pg_index WHERE indexrelid = 'users_email'::regclass`)).toEqual([{ indisvalid: true }]);
    expect(await flags()).toEqual({ new_ui: true });

    expect(promoted.backup_path).toBe(join(dir.path, 'backups', `${new URL(stagingUrl).pathname.slice(1)}.staging.before-${id}.dump`));
    expect(existsSync(promoted.backup_path!)).toBe(true);
    const listing = spawnSync('pg_restore', ['--list', promoted.backup_path!], { encoding: 'utf8' });
    expect(listing.status).toBe(0);
    expect(listing.stdout).toMatch(/TABLE public users/);
    expect(listing.stdout).not.toMatch(/audit_log/);

    const rolled = data<PgManifest & { reverted_migrations: number }>(await call('release_rollback', { release_id: id }));
    expect(rolled).toMatchObject({ status: 'rolled_back', reverted_migrations: 3 });
    expect(await schema()).toEqual(before);
    expect(await sql(`SELECT count(*)::int AS n FROM users`)).toEqual([{ n: 3 }]);
    expect(await flags()).toEqual({ new_ui: false });
  });

  it('never shows the password: not in results, errors, events or the memory file', async () => {
    await start();
    const { id } = data<PgManifest>(await prepare(threeMigrations));
    data(await call('release_promote', { release_id: id }));
    data(await call('release_events', { release_id: id }));
    const memoryRows = ['releases', 'release_events', 'release_promotions', 'feature_flags'].flatMap((t) => runtime!.memory.db.prepare(`SELECT * FROM ${t}`).all());
    expect(JSON.stringify(memoryRows)).not.toContain(server!.password);
    expect(results.join('\n')).not.toContain(server!.password);
    await mcp!.close();
    runtime!.close();

    // A wrong password: refused by the server, and the error does not echo either password.
    await start({}, { STAGING_DB_PASSWORD: `${server!.password}-wrong` });
    const wrong = errorOf(await prepare([]));
    expect(wrong).toMatchObject({ code: 'network' });
    expect(wrong.message).toMatch(/password authentication failed/);
    expect(JSON.stringify(wrong)).not.toContain(server!.password);
    await mcp!.close();
    runtime!.close();

    // The variable is not set: a config error naming it.
    await start({}, {});
    expect(errorOf(await prepare([]))).toMatchObject({ code: 'config', message: expect.stringContaining('STAGING_DB_PASSWORD, which is not set') });
    // A password in the URL is refused at start.
    expect(() => testRuntime({ config: configFor({ staging: { database: stagingUrl } }) })).toThrow(/environments\.1\.database.*must not carry the password/s);
  });

  it('refuses to promote a release whose stored plan no longer matches the SQL that was dry-run', async () => {
    await start();
    const before = await schema();
    const { id } = data<PgManifest>(await prepare(threeMigrations));
    const changed = runtime!.memory.db.prepare(`UPDATE releases SET manifest = replace(manifest, 'DEFAULT ''basic''', 'DEFAULT ''gold''') WHERE id = ?`).run(id);
    expect(changed.changes).toBe(1);
    const refused = errorOf(await call('release_promote', { release_id: id }));
    expect(refused).toMatchObject({ code: 'precondition' });
    expect(refused.message).toMatch(/not the SQL that was dry-run at prepare \(plan sha256 [0-9a-f]{12}\.\.\. no longer matches\)/);
    expect(await schema()).toEqual(before);
    expect(data<PgManifest>(await call('release_get', { release_id: id })).status).toBe('prepared');
  });

  it('reverts with the planned rollback SQL when the promotion skill fails after the commit', async () => {
    await start({ staging: { promotion_skill: 'deploy_staging' } });
    const before = await schema();
    const { id } = data<PgManifest>(await prepare(threeMigrations));
    const failed = errorOf(await call('release_promote', { release_id: id }));
    expect(failed.message).toMatch(/promotion skill deploy_staging failed/);
    expect(await schema()).toEqual(before);
    expect(await sql(`SELECT count(*)::int AS n FROM _release_mcp_promotions WHERE release_id = '${id}'`)).toEqual([{ n: 0 }]);
    expect(await flags()).toEqual({ new_ui: false });
    expect(data<PgManifest>(await call('release_get', { release_id: id })).status).toBe('failed');
  });

  it('runs the promotion skill with no lock held: readers, writers and another environment go on; a second promoter is refused', async () => {
    await start({ staging: { promotion_skill: 'deploy_staging' } });
    const { id } = data<PgManifest>(await prepare([threeMigrations[1]!]));
    let inSkill!: () => void;
    const skillStarted = new Promise<void>((resolve) => (inSkill = resolve));
    let finishSkill!: () => void;
    const skillDone = new Promise<void>((resolve) => (finishSkill = resolve));
    const runSkill: PromotionSkillRunner = async () => {
      inSkill();
      await skillDone;
    };
    const promotion = promoteRelease({ config: runtime!.config, memory: runtime!.memory, secrets: runtime!.secrets }, new LocalSession(runtime!).principal, id, runSkill);
    await skillStarted;
    // The migrations committed; the target is free for readers and writers while the skill runs.
    const started = performance.now();
    expect(await sql(`SELECT count(*)::int AS n FROM users WHERE plan = 'basic'`)).toEqual([{ n: 3 }]);
    await sql(`UPDATE users SET age = age + 1 WHERE id = 1`);
    await sql(`ALTER TABLE users ADD COLUMN probe integer`);
    expect(performance.now() - started).toBeLessThan(1_500);
    // Another environment's release goes through meanwhile.
    const other = data<PgManifest>(await call('release_prepare', { from_env: 'staging', to_env: 'prod', bundle: bundle([{ operation: 'add_column', table: 'users', column: { name: 'tier', type: 'TEXT' } }]) }));
    expect(data<PgManifest>(await call('release_promote', { release_id: other.id })).status).toBe('promoted');
    expect(columnsOf(join(dir.path, 'prod.db'), 'users')).toContain('tier');
    // The same release cannot be promoted twice: its claim is held by a live promotion.
    const second = errorOf(await call('release_promote', { release_id: id }));
    expect(second).toMatchObject({ code: 'conflict', message: expect.stringMatching(/is still open and its process .* is alive: it is running/) });
    expect(data<PgManifest>(await call('release_get', { release_id: id })).status).toBe('prepared');
    finishSkill();
    expect((await promotion).status).toBe('promoted');
  });

  it('two promotes of one release at once: one promotes, the other is refused, the flags are applied once', async () => {
    await start();
    for (let round = 0; round < 6; round++) {
      const { id } = data<PgManifest>(await call('release_prepare', { from_env: 'dev', to_env: 'staging', bundle: bundle([], { new_ui: round % 2 === 0 }) }));
      const [a, b] = await Promise.all([call('release_promote', { release_id: id }), call('release_promote', { release_id: id })]);
      const outcomes = [a, b].map((r) => (r.isError ? errorOf(r).message : 'promoted'));
      expect(outcomes.filter((o) => o === 'promoted'), JSON.stringify(outcomes)).toHaveLength(1);
      expect(outcomes.find((o) => o !== 'promoted')).toMatch(/is promoted: only a release that is prepared|is being promoted by another call|is still open/);
      expect(await flags()).toEqual({ new_ui: round % 2 === 0 });
      const events = data<{ events: Array<{ event: string }> }>(await call('release_events', { release_id: id })).events.map((e) => e.event);
      expect(events.filter((e) => e === 'release.promoted')).toHaveLength(1);
    }
  });

  it('finishes a promotion stopped after the target commit at the next release_get, from the marker', async () => {
    await start();
    const { id } = data<PgManifest>(await prepare([threeMigrations[1]!]));
    await expect(promoteRelease({ config: runtime!.config, memory: runtime!.memory, secrets: runtime!.secrets, crashAt: 'after_target_commit' }, new LocalSession(runtime!).principal, id, async () => {})).rejects.toThrow(/stopped after the target commit/);
    expect(runtime!.memory.db.prepare('SELECT status FROM releases WHERE id = ?').get(id)).toEqual({ status: 'prepared' });
    const got = data<PgManifest>(await call('release_get', { release_id: id }));
    expect(got.status).toBe('promoted');
    expect(await flags()).toEqual({ new_ui: true });
  });
});
