import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { redactSecrets, redactValue } from '../logger.js';
import { MIGRATIONS, type Migration } from './migrations.js';

export type Db = Database.Database;

export interface OpenMemoryOptions {
  /** File path, or ':memory:' for tests. */
  path: string;
  /** Secret values to mask in anything written. */
  secrets?: readonly string[];
  /** Extra migrations (numbered after the core ones) from later layers. */
  migrations?: readonly Migration[];
  /** Tenant that rows written before tenants existed are given (config releases.default_tenant). */
  defaultTenant?: string;
}

/**
 * The SQLite connection and its schema. WAL plus a busy timeout let several server
 * processes write to one file: a writer waits for the lock instead of failing.
 */
export class MemoryDb {
  readonly db: Db;
  readonly path: string;
  private readonly secrets: readonly string[];

  constructor(options: OpenMemoryOptions) {
    this.path = options.path;
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
    this.db = new Database(options.path, { timeout: 10_000 });
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.secrets = options.secrets ?? [];
    migrate(this.db, [...MIGRATIONS, ...(options.migrations ?? [])], options.defaultTenant ?? 'primary');
  }

  private readonly statements = new Map<string, Database.Statement>();

  /** A prepared statement, kept for reuse: hot lookups should not re-parse their SQL. */
  statement(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  /** Mask secrets in text bound for the database. */
  redact(text: string): string {
    return redactSecrets(text, this.secrets);
  }

  /** Mask secrets in a JSON-able value and serialise it. */
  json(value: unknown): string {
    return JSON.stringify(redactValue(value, this.secrets) ?? null);
  }

  get schemaVersion(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  ok(): boolean {
    try {
      this.db.prepare('SELECT 1').get();
      return true;
    } catch {
      return false;
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/**
 * Migrations read values that depend on config from `temp.migration_env` (one row:
 * default_tenant), a connection-private table that exists only while they run.
 */
function migrate(db: Db, migrations: readonly Migration[], defaultTenant: string): void {
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  const seen = new Set<number>();
  for (const m of sorted) {
    if (seen.has(m.version)) throw new Error(`duplicate memory migration number ${m.version}`);
    seen.add(m.version);
  }
  db.exec('CREATE TEMP TABLE migration_env (default_tenant TEXT NOT NULL)');
  db.prepare('INSERT INTO temp.migration_env (default_tenant) VALUES (?)').run(defaultTenant);
  try {
    applyMigrations(db, sorted);
  } finally {
    db.exec('DROP TABLE temp.migration_env');
  }
}

function applyMigrations(db: Db, sorted: readonly Migration[]): void {
  // BEGIN IMMEDIATE takes the write lock first, so two processes opening a new file do not both migrate.
  for (const migration of sorted) {
    const apply = db.transaction(() => {
      const current = db.pragma('user_version', { simple: true }) as number;
      if (migration.version <= current) return;
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
    });
    apply.immediate();
  }
}

export function nowIso(): string {
  return new Date().toISOString();
}
