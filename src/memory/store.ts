import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { ToolError } from '../errors.js';
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
  /** How long a write waits for another writer's lock before it fails (it blocks the event loop meanwhile). */
  busyTimeoutMs?: number;
}

/** Short: better-sqlite3 waits synchronously, so a long wait stalls every request of the process. */
export const DEFAULT_BUSY_TIMEOUT_MS = 500;

const LOCK_CODE = /^SQLITE_(BUSY|LOCKED)/;

/**
 * The SQLite connection and its schema. WAL lets readers (health, lookups) go on while another
 * process writes; a writer waits briefly for another writer's lock, then fails with a conflict
 * that names the file. Transactions stay short and never span an await.
 */
export class MemoryDb {
  readonly db: Db;
  readonly path: string;
  readonly busyTimeoutMs: number;
  private readonly secrets: readonly string[];

  constructor(options: OpenMemoryOptions) {
    this.path = options.path;
    this.secrets = options.secrets ?? [];
    this.busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
    let db: Db | undefined;
    try {
      if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
      db = new Database(options.path, { timeout: this.busyTimeoutMs });
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      migrate(db, [...MIGRATIONS, ...(options.migrations ?? [])], options.defaultTenant ?? 'primary');
    } catch (error) {
      if (db?.open) db.close();
      throw memoryOpenError(options.path, error);
    }
    this.db = db;
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

  /**
   * A SQLite lock failure as the caller should see it: a conflict naming the file when this
   * database is the one another writer holds (checked with a lock attempt that does not wait).
   */
  lockError(error: unknown): ToolError | undefined {
    const code = (error as { code?: unknown } | null)?.code;
    if (typeof code !== 'string' || !LOCK_CODE.test(code)) return undefined;
    const hint = 'another process (a release-mcp server, a skill run, a sqlite3 shell) holds a write transaction; retry when it ends';
    if (!this.writeLocked()) return new ToolError('conflict', `a database is locked by another writer (${code})`, { hint, cause: error });
    return new ToolError('conflict', `the memory database ${this.path} is locked by another writer: gave up after ${this.busyTimeoutMs} ms (${code})`, { hint, cause: error });
  }

  private writeLocked(): boolean {
    if (!this.db.open || this.db.inTransaction) return false;
    const timeout = this.db.pragma('busy_timeout', { simple: true }) as number;
    this.db.pragma('busy_timeout = 0');
    try {
      this.db.exec('BEGIN IMMEDIATE');
      this.db.exec('ROLLBACK');
      return false;
    } catch {
      return true;
    } finally {
      this.db.pragma(`busy_timeout = ${timeout}`);
    }
  }
}

/** The memory file cannot be used; the message says which file and what to do. */
export class MemoryOpenError extends Error {
  override readonly name = 'MemoryOpenError';
  constructor(
    readonly path: string,
    readonly reason: 'corrupt' | 'not_writable' | 'other',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const CORRUPT = new Set(['SQLITE_NOTADB', 'SQLITE_CORRUPT']);
const NOT_WRITABLE = new Set(['SQLITE_READONLY', 'SQLITE_CANTOPEN', 'SQLITE_PERM', 'SQLITE_IOERR_WRITE', 'EACCES', 'EPERM', 'EROFS']);

/** Turn an open failure into a message a release engineer can act on (the CLI exits 2 with it). */
export function memoryOpenError(path: string, error: unknown): Error {
  const code = String((error as { code?: unknown }).code ?? '');
  const base = code.replace(/_[A-Z]+$/, '');
  const detail = (error as Error).message ?? String(error);
  if (CORRUPT.has(code) || CORRUPT.has(base)) {
    return new MemoryOpenError(
      path,
      'corrupt',
      `memory file ${path} is not a usable SQLite database (${detail}): restore it from a backup, or move it aside (mv "${path}" "${path}.corrupt") to start an empty one, or point --memory (config memory.path) to another file`,
      { cause: error },
    );
  }
  if (NOT_WRITABLE.has(code) || NOT_WRITABLE.has(base)) {
    return new MemoryOpenError(
      path,
      'not_writable',
      `cannot write the memory file ${path} (${detail}): fix the permissions of the file and its folder (the server needs to write both, for the WAL), or point --memory (config memory.path) to a writable file`,
      { cause: error },
    );
  }
  return error instanceof Error ? error : new Error(detail);
}

/**
 * Which migrations a file has is a table of applied versions, not one number: a migration merged
 * with a lower number than one a file already has is still applied. Migrations read values that
 * depend on config from `temp.migration_env` (one row: default_tenant), a connection-private table
 * that exists only while they run.
 */
function migrate(db: Db, migrations: readonly Migration[], defaultTenant: string): void {
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  const seen = new Set<number>();
  for (const m of sorted) {
    if (seen.has(m.version)) throw new Error(`duplicate memory migration number ${m.version}`);
    seen.add(m.version);
  }
  // Already current: no write lock needed (a writer elsewhere must not make opening fail).
  if (hasMigrationTable(db) && pendingMigrations(db, sorted).length === 0) return;
  // Opening a file is rare and must not fail beside a busy writer: wait longer for the lock here.
  const timeout = db.pragma('busy_timeout', { simple: true }) as number;
  db.pragma(`busy_timeout = ${Math.max(timeout, 10_000)}`);
  db.exec('CREATE TEMP TABLE migration_env (default_tenant TEXT NOT NULL)');
  db.prepare('INSERT INTO temp.migration_env (default_tenant) VALUES (?)').run(defaultTenant);
  try {
    migrateLocked(db, sorted);
  } finally {
    db.exec('DROP TABLE temp.migration_env');
    db.pragma(`busy_timeout = ${timeout}`);
  }
}

function hasMigrationTable(db: Db): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get() !== undefined;
}

/** The migrations a file with the migration table lacks. */
function pendingMigrations(db: Db, sorted: readonly Migration[]): Migration[] {
  const applied = new Set((db.prepare('SELECT version FROM schema_migrations').all() as Array<{ version: number }>).map((r) => r.version));
  return sorted.filter((m) => !applied.has(m.version));
}

function migrateLocked(db: Db, sorted: readonly Migration[]): void {
  // BEGIN IMMEDIATE takes the write lock first, so two processes opening a new file do not both migrate.
  // A file from before the table: every version up to its user_version counts as applied.
  db.transaction(() => {
    if (hasMigrationTable(db)) return;
    const version = db.pragma('user_version', { simple: true }) as number;
    db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
    const record = db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, 'before the migration table')");
    for (const m of sorted) if (m.version <= version) record.run(m.version, m.name);
  }).immediate();
  for (const migration of sorted) {
    const apply = db.transaction(() => {
      if (db.prepare('SELECT 1 FROM schema_migrations WHERE version = ?').get(migration.version)) return;
      db.exec(migration.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(migration.version, migration.name, nowIso());
      const current = db.pragma('user_version', { simple: true }) as number;
      // user_version stays the highest applied number, for older builds and for /health.
      if (migration.version > current) db.pragma(`user_version = ${migration.version}`);
    });
    apply.immediate();
  }
}

export function nowIso(): string {
  return new Date().toISOString();
}
