import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import pg from 'pg';
import { parseConfig } from '../src/config.js';
import { MemoryDb } from '../src/memory/index.js';
import type { Principal } from '../src/principal.js';
import { migrationOpSchema, prepareRelease, promoteRelease, type Bundle } from '../src/releases/index.js';
import { postgresBinDir, startPostgres, type RealPostgres } from '../tests/helpers/real-postgres.js';
import { figure, median } from './stats.js';

/**
 * release_prepare (plan, safety checks, dry run) and release_promote (backup, one transaction,
 * commit) of the same three migrations on a PostgreSQL target against a SQLite target (the
 * baseline), each on a fresh database of `rows` users. PostgreSQL runs on a throw-away cluster
 * (as the tests do); without PostgreSQL installed the bench says it was skipped.
 * Run alone: `node --import tsx bench/releases.ts [samples] [rows]`.
 */

const ADMIN: Principal = { role: 'admin', subject: 'bench', tenant: 'primary' };

const MIGRATIONS = [
  { operation: 'create_table', table: 'audit_log', columns: [{ name: 'id', type: 'INTEGER', primary_key: true }, { name: 'message', type: 'TEXT', nullable: false }] },
  { operation: 'add_column', table: 'users', column: { name: 'plan', type: 'varchar(32)', default: 'basic' } },
  { operation: 'create_index', table: 'users', index: 'users_email', columns: ['email'], unique: true },
].map((op) => migrationOpSchema.parse(op));

const bundle: Bundle = { commit_sha: '0'.repeat(40), images: {}, migrations: MIGRATIONS, feature_flags: { new_ui: true } };

const SCHEMA = 'CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT, age INTEGER); CREATE INDEX users_name ON users (name);';
const USER_COLUMNS = "SELECT i, 'user' || i, 'user' || i || '@example.com', i % 90";

interface Times {
  prepare: number[];
  promote: number[];
}

/** One prepare and one promote on a fresh target database named by `database`. */
async function once(work: string, database: string, env: NodeJS.ProcessEnv, times: Times): Promise<void> {
  const config = parseConfig({ environments: [{ name: 'dev', database: join(work, 'dev.db') }, { name: 'staging', database }] }, work);
  const memory = new MemoryDb({ path: join(work, `memory-${times.prepare.length}.db`) });
  const target_passwords: Record<string, string> = env.PGPASSWORD ? { PGPASSWORD: env.PGPASSWORD } : {};
  const deps = { config, memory, secrets: { target_passwords } };
  try {
    let started = performance.now();
    const release = await prepareRelease(deps, ADMIN, { from_env: 'dev', to_env: 'staging', bundle, hotfix: false, allow_data_loss: false });
    times.prepare.push(performance.now() - started);
    started = performance.now();
    await promoteRelease(deps, ADMIN, release.id, async () => undefined);
    times.promote.push(performance.now() - started);
  } finally {
    memory.close();
  }
}

async function sqliteTimes(work: string, samples: number, rows: number): Promise<Times> {
  const times: Times = { prepare: [], promote: [] };
  for (let i = 0; i < samples; i++) {
    const file = join(work, `staging-${i}.db`);
    const db = new Database(file);
    db.exec(`${SCHEMA} WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${rows}) INSERT INTO users (id, name, email, age) ${USER_COLUMNS} FROM n;`);
    db.close();
    await once(work, file, {}, times);
  }
  return times;
}

async function postgresTimes(server: RealPostgres, work: string, samples: number, rows: number): Promise<Times> {
  const times: Times = { prepare: [], promote: [] };
  for (let i = 0; i < samples; i++) {
    const url = await server.createDatabase('bench');
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(`${SCHEMA} INSERT INTO users (id, name, email, age) ${USER_COLUMNS} FROM generate_series(1, ${rows}) AS i;`);
    await client.end();
    const bare = new URL(url);
    bare.password = '';
    await once(work, bare.toString(), { PGPASSWORD: server.password }, times);
  }
  return times;
}

export async function benchReleases(samples = 5, rows = 10_000): Promise<void> {
  console.log(`releases: prepare and promote of 3 migrations on ${rows.toLocaleString('en')} rows, PostgreSQL against SQLite (p50 of ${samples})`);
  if (!postgresBinDir()) {
    console.log('  skipped: PostgreSQL is not installed (Debian package postgresql)');
    return;
  }
  const work = mkdtempSync(join(tmpdir(), 'release-mcp-bench-releases-'));
  const server = await startPostgres();
  try {
    const sqlite = await sqliteTimes(work, samples, rows);
    const postgres = await postgresTimes(server, work, samples, rows);
    console.log(figure('release_prepare (PostgreSQL)', median(postgres.prepare), median(sqlite.prepare), 'ms'));
    console.log(figure('release_promote with pg_dump (PostgreSQL)', median(postgres.promote), median(sqlite.promote), 'ms'));
  } finally {
    await server.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await benchReleases(Number(process.argv[2] ?? 5), Number(process.argv[3] ?? 10_000));
