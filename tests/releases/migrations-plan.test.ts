import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryDb } from '../../src/memory/index.js';
import { canonicalJson, migrationOpSchema, sha256Hex, TargetDb } from '../../src/releases/index.js';
import { insertPrepared } from '../../src/releases/ledger.js';
import { tempDir } from '../helpers/harness.js';
import { columnsOf, rowsOf, schemaOf, seedUsers, withDb } from './fixtures.js';

const ops = (list: unknown[]) => list.map((op) => migrationOpSchema.parse(op));

describe('migration planning and dry run on a real SQLite file', () => {
  let dir: ReturnType<typeof tempDir>;
  let path: string;
  beforeEach(async () => {
    dir = tempDir();
    path = join(dir.path, 'target.db');
    seedUsers(path);
  });
  afterEach(() => dir.cleanup());

  const apply = (list: unknown[]) => {
    const target = TargetDb.open(path);
    try {
      const plan = target.dryRun(ops(list));
      expect(plan.ok, JSON.stringify(plan.migrations.map((m) => m.dry_run_result))).toBe(true);
      target.beginAndApply(plan.migrations);
      target.commit();
      return plan;
    } finally {
      target.close();
    }
  };
  const revert = (plan: ReturnType<typeof apply>) => {
    const target = TargetDb.open(path);
    try {
      target.beginAndRevert(plan.migrations);
      target.commit();
    } finally {
      target.close();
    }
  };

  it('rejects identifiers that are not plain names and types outside the allow-list', async () => {
    expect(migrationOpSchema.safeParse({ operation: 'drop_column', table: 'users; DROP TABLE x', column: 'a' }).success).toBe(false);
    expect(migrationOpSchema.safeParse({ operation: 'add_column', table: 'users', column: { name: 'x', type: 'TEXT); DROP TABLE users; --' } }).success).toBe(false);
    expect(migrationOpSchema.safeParse({ operation: 'add_column', table: 'users', column: { name: '1x', type: 'TEXT' } }).success).toBe(false);
    expect(migrationOpSchema.safeParse({ operation: 'add_column', table: 'users', column: { name: 'x', type: 'varchar(20)' } }).success).toBe(true);
  });

  it('quotes default values as literals', async () => {
    const plan = apply([{ operation: 'add_column', table: 'users', column: { name: 'note', type: 'TEXT', default: "it's; DROP TABLE users" } }]);
    expect(plan.migrations[0]!.sql).toBe(`ALTER TABLE "users" ADD COLUMN "note" TEXT DEFAULT 'it''s; DROP TABLE users'`);
    expect(rowsOf(path, 'SELECT DISTINCT note FROM users')).toEqual([{ note: "it's; DROP TABLE users" }]);
  });

  it('modify_column rebuilds the table keeping rows and indexes, and its rollback rebuilds it back', async () => {
    const before = schemaOf(path);
    const plan = apply([{ operation: 'modify_column', table: 'users', column: { name: 'age', type: 'TEXT', default: 'unknown' } }]);
    expect(plan.migrations[0]!.sql).toContain('INSERT INTO "_release_mcp_new_users"');
    const info = rowsOf(path, 'PRAGMA table_info(users)') as Array<{ name: string; type: string; notnull: number; dflt_value: string | null; pk: number }>;
    expect(info.find((c) => c.name === 'age')).toMatchObject({ type: 'TEXT', notnull: 0, dflt_value: "'unknown'" });
    expect(info.find((c) => c.name === 'id')).toMatchObject({ pk: 1 });
    expect(rowsOf(path, "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'users'")).toEqual([{ name: 'users_name' }]);
    expect(rowsOf(path, 'SELECT id, name, age, typeof(age) AS t FROM users ORDER BY id')).toEqual([
      { id: 1, name: 'ada', age: '36', t: 'text' },
      { id: 2, name: 'bob', age: '41', t: 'text' },
      { id: 3, name: 'cy', age: null, t: 'null' },
    ]);
    revert(plan);
    const infoAfter = rowsOf(path, 'PRAGMA table_info(users)') as Array<{ name: string; type: string; notnull: number; dflt_value: string | null }>;
    expect(infoAfter.find((c) => c.name === 'age')).toMatchObject({ type: 'INTEGER', notnull: 0, dflt_value: null });
    expect(rowsOf(path, 'SELECT id, age, typeof(age) AS t FROM users ORDER BY id')).toEqual([
      { id: 1, age: 36, t: 'integer' },
      { id: 2, age: 41, t: 'integer' },
      { id: 3, age: null, t: 'null' },
    ]);
    expect(schemaOf(path).length).toBe(before.length);
  });

  it('reports a NOT NULL change over NULL values as a failed dry run, and changes nothing', async () => {
    const before = schemaOf(path);
    const target = TargetDb.open(path);
    const plan = target.dryRun(ops([{ operation: 'modify_column', table: 'users', column: { name: 'email', type: 'TEXT', nullable: false } }]));
    target.close();
    expect(plan.ok).toBe(false);
    expect(plan.migrations[0]!.dry_run_result.error).toMatch(/NOT NULL constraint failed/);
    expect(schemaOf(path)).toEqual(before);
  });

  it('refuses to rebuild a table with constraints the rebuild would drop', async () => {
    withDb(path, (db) => db.exec('CREATE TABLE accounts (id INTEGER PRIMARY KEY, code TEXT UNIQUE, n INTEGER)'));
    const target = TargetDb.open(path);
    const plan = target.dryRun(ops([{ operation: 'modify_column', table: 'accounts', column: { name: 'n', type: 'TEXT' } }]));
    target.close();
    expect(plan.migrations[0]!.dry_run_result.error).toMatch(/constraints the rebuild would not keep/);
  });

  it('plans each migration against the schema the earlier ones leave, and marks later ones not run after a failure', async () => {
    const target = TargetDb.open(path);
    const plan = target.dryRun(
      ops([
        { operation: 'create_table', table: 'teams', columns: [{ name: 'id', type: 'INTEGER', primary_key: true }, { name: 'name', type: 'TEXT' }] },
        { operation: 'create_index', table: 'teams', index: 'teams_name', columns: ['name'] },
        { operation: 'drop_column', table: 'teams', column: 'nope' },
        { operation: 'drop_table', table: 'users' },
      ]),
    );
    target.close();
    expect(plan.migrations.map((m) => m.dry_run_result.ok)).toEqual([true, true, false, false]);
    expect(plan.migrations[2]!.dry_run_result.error).toMatch(/no column teams.nope/);
    expect(plan.migrations[3]!.dry_run_result.error).toBe('not run: migration 3 failed');
    expect(columnsOf(path, 'teams')).toEqual([]);
  });

  it('drop_table keeps CREATE statements as rollback SQL and flags the rows it would lose', async () => {
    const target = TargetDb.open(path);
    const plan = target.dryRun(ops([{ operation: 'drop_table', table: 'users' }]));
    target.close();
    expect(plan.migrations[0]).toMatchObject({ data_loss: true, reversible: false, data_loss_detail: '3 rows in table users would be lost' });
    expect(plan.migrations[0]!.rollback_sql).toContain('CREATE INDEX users_name ON users (name)');
  });

  it('computes canonical JSON with sorted keys at every level', async () => {
    expect(canonicalJson({ b: [{ d: 1, c: 2 }], a: 'x' })).toBe('{"a":"x","b":[{"c":2,"d":1}]}');
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('gives two releases prepared in the same minute distinct ids', async () => {
    const memory = new MemoryDb({ path: ':memory:' });
    const actor = { role: 'admin' as const, tenant: 'primary', subject: 'test' };
    const release = { from_env: 'dev', to_env: 'staging', bundle_sha256: 'x', hotfix: false, allow_data_loss: false, bundle: {}, migrations: [], feature_flags: {}, schema_before: 'y' };
    const now = new Date('2024-01-15T12:00:30Z');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await insertPrepared(memory, release, actor, 1, now)).id);
    expect(ids).toEqual(['rel_20240115_1200', 'rel_20240115_1200_2', 'rel_20240115_1200_3']);
    expect((await insertPrepared(memory, release, actor, 1, new Date('2024-01-15T12:01:00Z'))).id).toBe('rel_20240115_1201');
    await memory.close();
  });
});
