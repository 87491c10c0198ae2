import { join } from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SAFETY_RULES } from '../../src/releases/migration-safety.js';
import type { Runtime } from '../../src/server/runtime.js';
import { connect, errorOf, tempDir, testRuntime, type ConnectedClient } from '../helpers/harness.js';
import { sharedPostgres } from '../helpers/real-postgres.js';
import { bundle, data } from './fixtures.js';

const server = sharedPostgres();

const SEED = `
  CREATE TABLE users (id integer PRIMARY KEY, name text NOT NULL, email text, age integer, code varchar(20), team text, notes text);
  CREATE UNIQUE INDEX users_code_key ON users (code);
  INSERT INTO users (id, name, email, age, code, team) VALUES (1, 'ada', 'ada@example.com', 36, 'A', 'x'), (2, 'bob', NULL, 41, 'B', 'x'), (3, 'cy', 'cy@example.com', NULL, 'C', 'y');
  CREATE TABLE accounts (id integer PRIMARY KEY, label varchar(20));
`;

interface Finding {
  rule: string;
  severity: string;
  migration: number;
  message: string;
  fix: string;
  count?: number;
}

const sqlOp = (sql: string, rollback_sql: string | null = null) => ({ operation: 'sql', table: 'users', sql, rollback_sql });

/** Each rule: migrations that break it (refused, or a warning) and migrations that do the same safely (no finding). */
const CASES: Array<{ rule: keyof typeof SAFETY_RULES; severity: 'error' | 'warning'; bad: unknown[]; good: unknown[]; count?: number; releases?: Record<string, unknown> }> = [
  { rule: 'drop-column', severity: 'error', bad: [{ operation: 'drop_column', table: 'users', column: 'email' }], good: [{ operation: 'drop_column', table: 'users', column: 'notes' }], count: 2 },
  { rule: 'drop-table', severity: 'error', bad: [{ operation: 'drop_table', table: 'users' }], good: [{ operation: 'drop_table', table: 'accounts' }], count: 3 },
  {
    rule: 'add-column-not-null-without-default',
    severity: 'error',
    bad: [{ operation: 'add_column', table: 'users', column: { name: 'score', type: 'INTEGER', nullable: false } }],
    good: [{ operation: 'add_column', table: 'users', column: { name: 'score', type: 'INTEGER', nullable: false, default: 0 } }],
  },
  {
    rule: 'set-not-null-populated',
    severity: 'warning',
    bad: [{ operation: 'modify_column', table: 'users', column: { name: 'code', type: 'VARCHAR(20)', nullable: false } }],
    good: [{ operation: 'modify_column', table: 'accounts', column: { name: 'label', type: 'VARCHAR(20)', nullable: false } }],
    count: 3,
  },
  {
    rule: 'not-null-with-nulls',
    severity: 'error',
    bad: [{ operation: 'modify_column', table: 'users', column: { name: 'email', type: 'TEXT', nullable: false } }],
    good: [{ operation: 'modify_column', table: 'users', column: { name: 'code', type: 'VARCHAR(20)', nullable: false } }],
    count: 1,
  },
  {
    rule: 'type-change-rewrite',
    severity: 'warning',
    bad: [{ operation: 'modify_column', table: 'users', column: { name: 'age', type: 'BIGINT' } }],
    good: [{ operation: 'modify_column', table: 'users', column: { name: 'code', type: 'VARCHAR(40)' } }],
    count: 3,
  },
  {
    rule: 'index-not-concurrent',
    severity: 'error',
    bad: [sqlOp('CREATE INDEX users_age ON users (age)', 'DROP INDEX users_age')],
    good: [{ operation: 'create_index', table: 'users', index: 'users_age', columns: ['age'] }],
  },
  {
    rule: 'constraint-not-valid',
    severity: 'error',
    bad: [sqlOp('ALTER TABLE users ADD CONSTRAINT users_age_positive CHECK (age > 0)', 'ALTER TABLE users DROP CONSTRAINT users_age_positive')],
    good: [sqlOp('ALTER TABLE users ADD CONSTRAINT users_age_positive CHECK (age > 0) NOT VALID', 'ALTER TABLE users DROP CONSTRAINT users_age_positive')],
  },
  {
    rule: 'unique-constraint-without-index',
    severity: 'error',
    bad: [sqlOp('ALTER TABLE users ADD CONSTRAINT users_name_key UNIQUE (name)', 'ALTER TABLE users DROP CONSTRAINT users_name_key')],
    good: [sqlOp('ALTER TABLE users ADD CONSTRAINT users_code_unique UNIQUE USING INDEX users_code_key', 'ALTER TABLE users DROP CONSTRAINT users_code_unique')],
  },
  {
    rule: 'unique-with-duplicates',
    severity: 'error',
    bad: [{ operation: 'create_index', table: 'users', index: 'users_team', columns: ['team'], unique: true }],
    good: [{ operation: 'create_index', table: 'users', index: 'users_name_unique', columns: ['name'], unique: true }],
    count: 1,
  },
  {
    rule: 'missing-lock-timeout',
    severity: 'error',
    bad: [sqlOp('SET lock_timeout = 0; ALTER TABLE users ADD COLUMN score integer', 'ALTER TABLE users DROP COLUMN score')],
    good: [sqlOp('ALTER TABLE users ADD COLUMN score integer', 'ALTER TABLE users DROP COLUMN score')],
  },
  {
    rule: 'missing-statement-timeout',
    severity: 'error',
    bad: [{ operation: 'add_column', table: 'users', column: { name: 'score', type: 'INTEGER' } }],
    good: [{ operation: 'add_column', table: 'users', column: { name: 'score', type: 'INTEGER' } }],
    releases: { statement_timeout_ms: 0 },
  },
];

describe.skipIf(!server)('safe-migration rules on a PostgreSQL target', () => {
  let dir: ReturnType<typeof tempDir>;
  let runtime: Runtime | undefined;
  let mcp: ConnectedClient | undefined;
  let url: string;

  const start = async (releases?: Record<string, unknown>) => {
    await mcp?.close();
    runtime?.close();
    const bare = new URL(url);
    bare.password = '';
    const config = {
      environments: [
        { name: 'dev', database: join(dir.path, 'dev.db') },
        { name: 'staging', database: bare.toString() },
      ],
      ...(releases ? { releases } : {}),
    };
    runtime = testRuntime({ config, env: { PGPASSWORD: server!.password }, memoryPath: join(dir.path, 'memory.db') });
    mcp = await connect(runtime);
  };
  const prepare = (migrations: unknown[]) => mcp!.call('release_prepare', { from_env: 'dev', to_env: 'staging', bundle: bundle(migrations) });

  beforeEach(async () => {
    dir = tempDir();
    url = await server!.createDatabase('safety');
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(SEED);
    await client.end();
  });
  afterEach(async () => {
    await mcp?.close();
    runtime?.close();
    mcp = undefined;
    runtime = undefined;
    dir.cleanup();
  });

  it.each(CASES)('$rule: reported with its fix, and not reported when done safely', async ({ rule, severity, bad, good, count, releases }) => {
    await start(releases);
    const result = await prepare(bad);
    let found: Finding | undefined;
    if (severity === 'error') {
      const error = errorOf(result);
      expect(error.code).toBe('precondition');
      expect(error.message).toContain(rule.startsWith('drop-') ? `[rule ${rule}]` : `[${rule}]`);
      if (!rule.startsWith('drop-')) expect(error.message).toContain(`fix: ${SAFETY_RULES[rule].fix}`);
      found = ((result._meta as Record<string, { details: { findings: Finding[] } }>)['release-mcp/error']!.details.findings).find((f) => f.rule === rule);
      expect(found?.severity).toBe('error');
      // Refused: nothing stored.
      expect(data<{ count: number }>(await mcp!.call('release_list', {})).count).toBe(0);
    } else {
      found = data<{ findings: Finding[] }>(result).findings.find((f) => f.rule === rule);
      expect(found).toMatchObject({ severity: 'warning', migration: 1, fix: SAFETY_RULES[rule].fix });
    }
    expect(found).toBeDefined();
    if (count !== undefined) expect(found!.count).toBe(count);

    if (releases) await start();
    const safe = data<{ findings: Array<{ rule: string }> }>(await prepare(good));
    expect(safe.findings.map((f) => f.rule)).not.toContain(rule);
  });

  it('drop with allow_data_loss: prepared, the loss kept as a warning', async () => {
    await start();
    const result = await mcp!.call('release_prepare', { from_env: 'dev', to_env: 'staging', allow_data_loss: true, bundle: bundle([{ operation: 'drop_column', table: 'users', column: 'email' }]) });
    const manifest = data<{ findings: Finding[]; migrations: Array<{ data_loss: boolean; reversible: boolean }> }>(result);
    expect(manifest.findings).toEqual([expect.objectContaining({ rule: 'drop-column', severity: 'warning', count: 2 })]);
    expect(manifest.migrations[0]).toMatchObject({ data_loss: true, reversible: false });
  });

  it('reports a syntax error of received SQL with its position, and plans CREATE INDEX CONCURRENTLY last', async () => {
    await start();
    const syntax = errorOf(await prepare([sqlOp('ALTER TABLE users ADD COLUMN x integr er')]));
    expect(syntax.message).toMatch(/dry run on staging failed at migration 1 \(sql users\): not valid PostgreSQL: syntax error at or near "er" at character \d+/);
    const misplaced = errorOf(await prepare([{ operation: 'create_index', table: 'users', index: 'users_age', columns: ['age'] }, { operation: 'add_column', table: 'users', column: { name: 'score', type: 'INTEGER' } }]));
    expect(misplaced.message).toMatch(/migration 1 \(CREATE INDEX CONCURRENTLY\) runs after the migrations' transaction commits, so it must come after every other migration/);
  });
});
