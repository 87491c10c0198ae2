import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { ToolError } from '../errors.js';
import { redactSecrets, redactValue } from '../logger.js';
import { openSqlite, type SqliteDatabase } from '../sqlite.js';
import type { Backend } from './dialect.js';
import { MIGRATIONS, type Migration } from './migrations.js';
import { migratePostgres } from './migrate-postgres.js';
import type { PgStore } from './pg-store.js';
import { ScopedStorage } from './scoped-storage.js';
import { SqliteStore, type Store } from './sql-store.js';

export type Db = SqliteDatabase;

export interface OpenMemoryOptions {
  /** File path, or ':memory:' for tests (SQLite). */
  path: string;
  /** A postgresql:// URL: the memory lives in that PostgreSQL database instead of the file. */
  url?: string | undefined;
  /** The PostgreSQL password, when it is not in the URL (PGPASSWORD, config memory.password_env). */
  password?: string | undefined;
  /** Secret values to mask in anything written. */
  secrets?: readonly string[];
  /** Extra migrations (numbered after the core ones) from later layers. */
  migrations?: readonly Migration[];
  /** Tenant that rows written before tenants existed are given (config releases.default_tenant). */
  defaultTenant?: string;
  /**
   * How long a write waits for another writer's lock before it fails: SQLite's busy timeout (it
   * blocks the event loop meanwhile), PostgreSQL's lock_timeout.
   */
  busyTimeoutMs?: number;
  /**
   * SQLite: open the file when first asked (a query, `ready()`), not in the constructor, so that a
   * server can answer its client's handshake first. A failure to open is then `ready()`'s.
   */
  openWhenAsked?: boolean;
}

/** Short: better-sqlite3 waits synchronously, so a long wait stalls every request of the process. */
export const DEFAULT_BUSY_TIMEOUT_MS = 500;
/**
 * PostgreSQL's wait does not block the process, and several replicas queue on the same rows (a
 * fix everyone teaches, the release id sequence): its lock_timeout is at least this.
 */
export const MIN_PG_LOCK_TIMEOUT_MS = 5_000;

const LOCK_CODE = /^SQLITE_(BUSY|LOCKED)/;
/** PostgreSQL: lock_timeout expired (lock_not_available), statement_timeout (query_canceled). */
const PG_LOCK_CODES = new Set(['55P03', '57014']);

/** True for a failure to get a lock in time: SQLite busy/locked, PostgreSQL lock_timeout. */
export function isLockError(error: unknown): boolean {
  const code = String((error as { code?: unknown } | null)?.code ?? '');
  return LOCK_CODE.test(code) || PG_LOCK_CODES.has(code);
}

/** A postgresql:// URL as it may be shown: user, host, port and database, never the password. */
export function describeDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.password = '';
    parsed.search = '';
    return parsed.toString();
  } catch {
    return 'postgresql://(unparsable URL)';
  }
}

/**
 * The memory: its schema and its storage (see sql-store.ts). SQLite (the default): one file in WAL
 * mode, so readers (health, lookups) go on while another process writes; a writer waits briefly for
 * another writer's lock, then fails with a conflict that names the file. PostgreSQL (memory.url,
 * RELEASE_MCP_DATABASE_URL): one database shared by several server processes; a lock waits
 * lock_timeout, then fails the same way. SQLite opens (and migrates) in the constructor, or with
 * `openWhenAsked` at the first query or `ready()`; PostgreSQL connects and migrates before its
 * first query. `ready()` waits for either and throws its failure.
 */
export class MemoryDb {
  readonly path: string;
  readonly busyTimeoutMs: number;
  readonly backend: Backend;
  /** Set when the memory opens (the constructor, or the first ask for SQLite; the first startup task for PostgreSQL), before any query runs. */
  store!: Store;
  private readonly secrets: readonly string[];
  /** Opening work still running (PostgreSQL migrations, the runtime's startup tasks); queries wait for it. */
  private opening: Promise<void> | undefined;
  private openFailure: unknown;
  /** Marks the startup tasks' own queries, which must not wait for themselves. */
  private static readonly starting = new ScopedStorage<MemoryDb>();

  constructor(options: OpenMemoryOptions) {
    // The caller's list is kept by reference (a runtime adds to it); the database password joins it.
    const own = [...(options.password ? [options.password] : []), ...urlPassword(options.url)].filter((p) => !(options.secrets ?? []).includes(p));
    this.secrets = own.length ? [...(options.secrets ?? []), ...own] : (options.secrets ?? []);
    this.busyTimeoutMs = options.url ? Math.max(options.busyTimeoutMs ?? 0, MIN_PG_LOCK_TIMEOUT_MS) : (options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS);
    const migrations = [...MIGRATIONS, ...(options.migrations ?? [])];
    const defaultTenant = options.defaultTenant ?? 'primary';
    if (options.url) {
      this.backend = 'postgresql';
      this.path = describeDatabaseUrl(options.url);
      const url = options.url;
      this.afterOpen(async () => {
        try {
          // pg loads only for a memory on PostgreSQL.
          const { PgStore } = await import('./pg-store.js');
          const pgStore = new PgStore({ connectionString: url, password: options.password, lockTimeoutMs: this.busyTimeoutMs });
          this.store = pgStore;
          await migratePostgres(pgStore.pool, migrations, defaultTenant);
        } catch (error) {
          throw new MemoryOpenError(this.path, 'other', `cannot open the memory database ${this.path}: ${this.redact((error as Error).message ?? String(error))}`);
        }
      });
      return;
    }
    this.backend = 'sqlite';
    this.path = options.path;
    const open = () => {
      this.store = new SqliteStore(openSqliteMemory(options.path, this.busyTimeoutMs, migrations, defaultTenant));
    };
    if (!options.openWhenAsked) {
      open();
      return;
    }
    // Waited for outside afterOpen: its tasks run in the `starting` scope, whose storage costs
    // every promise of the process while it is on.
    this.opening = new Promise<'open' | 'closed'>((resolve) => (this.startOpening = resolve)).then((how) => {
      if (how === 'closed') this.openFailure = new Error(`the memory ${this.path} was closed before it opened`);
    });
    this.afterOpen(async () => open());
  }

  /** Opens a memory made with `openWhenAsked` ('open'), or ends it unopened ('closed'); unset once called. */
  private startOpening: ((how: 'open' | 'closed') => void) | undefined;

  private ask(how: 'open' | 'closed'): void {
    const start = this.startOpening;
    this.startOpening = undefined;
    start?.(how);
  }

  /** The SQLite connection (tests, tools that inspect the file); PostgreSQL has none. */
  get db(): Db {
    if (this.backend === 'postgresql') throw new Error('the memory is on PostgreSQL: there is no SQLite connection');
    if (!(this.store instanceof SqliteStore)) throw new Error(`the memory ${this.path} is not open yet: await ready() first`);
    return this.store.db;
  }

  /**
   * Work to finish before the memory serves anyone (loading knowledge files, finishing open
   * promotions): queries wait for it, and its failure is every later query's (and `ready()`'s).
   */
  afterOpen(task: () => Promise<void>): void {
    const next = (this.opening ?? Promise.resolve()).then(async () => {
      if (this.openFailure) return;
      try {
        await MemoryDb.starting.run(this, task);
      } catch (error) {
        this.openFailure = error;
      }
    });
    this.opening = next;
    void next.then(() => {
      if (this.opening === next) this.opening = undefined;
    });
  }

  /** Resolves once the memory is open, migrated and its startup work done; throws what failed. */
  async ready(): Promise<void> {
    if (MemoryDb.starting.getStore() === this) return;
    this.ask('open');
    while (this.opening) await this.opening;
    if (this.openFailure) throw this.openFailure;
  }

  private get waits(): boolean {
    return (this.opening !== undefined || this.openFailure !== undefined) && MemoryDb.starting.getStore() !== this;
  }

  get<T>(sql: string, ...params: unknown[]): Promise<T | undefined> {
    return this.waits ? this.ready().then(() => this.store.get<T>(sql, params)) : this.store.get<T>(sql, params);
  }

  all<T>(sql: string, ...params: unknown[]): Promise<T[]> {
    return this.waits ? this.ready().then(() => this.store.all<T>(sql, params)) : this.store.all<T>(sql, params);
  }

  run(sql: string, ...params: unknown[]): Promise<{ changes: number }> {
    return this.waits ? this.ready().then(() => this.store.run(sql, params)) : this.store.run(sql, params);
  }

  /** An INSERT into a table with an integer `id`: the new row's id. */
  insert(sql: string, ...params: unknown[]): Promise<number> {
    return this.waits ? this.ready().then(() => this.store.insert(sql, params)) : this.store.insert(sql, params);
  }

  /**
   * Run `fn` as one transaction (SQLite: BEGIN IMMEDIATE). Every call on this memory awaited
   * inside it is part of it; a nested call is a savepoint. Keep it short: no network calls inside.
   */
  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    await this.ready();
    return this.store.transaction(fn);
  }

  /**
   * Inside a transaction, serialise with every other process writing under the same key until it
   * ends (PostgreSQL advisory lock); SQLite's BEGIN IMMEDIATE already serialises every writer.
   */
  async lock(key: string): Promise<void> {
    if (this.backend === 'postgresql') await (this.store as PgStore).lock(key);
  }

  /** Run `fn` with a shorter lock wait (SQLite busy_timeout; PostgreSQL lock_timeout of its transaction). */
  async withLockWait<T>(ms: number, fn: () => Promise<T>): Promise<T> {
    await this.ready();
    if (this.store instanceof SqliteStore) {
      const db = this.store.db;
      const busy = db.pragma('busy_timeout', { simple: true }) as number;
      db.pragma(`busy_timeout = ${Math.min(busy, ms)}`);
      try {
        return await fn();
      } finally {
        db.pragma(`busy_timeout = ${busy}`);
      }
    }
    return this.transaction(async () => {
      await this.run(`SET LOCAL lock_timeout = ${Math.max(1, Math.min(this.busyTimeoutMs, ms))}`);
      return fn();
    });
  }

  /** Mask secrets in text bound for the database. */
  redact(text: string): string {
    return redactSecrets(text, this.secrets);
  }

  /** Mask secrets in a JSON-able value and serialise it. */
  json(value: unknown): string {
    return JSON.stringify(redactValue(value, this.secrets) ?? null);
  }

  /** The highest applied migration. */
  async schemaVersion(): Promise<number> {
    await this.ready();
    if (this.store instanceof SqliteStore) return this.store.db.pragma('user_version', { simple: true }) as number;
    const row = await this.get<{ v: number | null }>('SELECT max(version) AS v FROM schema_migrations');
    return row?.v ?? 0;
  }

  async ok(): Promise<boolean> {
    try {
      await this.get('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    // A memory never asked for stays unopened: its file is not even created.
    this.ask('closed');
    while (this.opening) await this.opening.catch(() => undefined);
    // Undefined when PostgreSQL's store could not even be made (its failure is ready()'s).
    await this.store?.close();
  }

  /**
   * A lock failure as the caller should see it: a conflict naming the file (or database) when this
   * memory is the one another writer holds (for SQLite, checked with a lock attempt that does not wait).
   */
  lockError(error: unknown): ToolError | undefined {
    const code = (error as { code?: unknown } | null)?.code;
    if (typeof code !== 'string') return undefined;
    if (this.backend === 'postgresql') {
      if (!PG_LOCK_CODES.has(code)) return undefined;
      return new ToolError('conflict', `the memory database ${this.path} is locked by another writer: gave up after ${this.busyTimeoutMs} ms (${code})`, {
        hint: 'another release-mcp process holds the rows this call writes; retry when it ends',
        cause: error,
      });
    }
    if (!LOCK_CODE.test(code)) return undefined;
    const hint = 'another process (a release-mcp server, a skill run, a sqlite3 shell) holds a write transaction; retry when it ends';
    if (!this.writeLocked()) return new ToolError('conflict', `a database is locked by another writer (${code})`, { hint, cause: error });
    return new ToolError('conflict', `the memory database ${this.path} is locked by another writer: gave up after ${this.busyTimeoutMs} ms (${code})`, { hint, cause: error });
  }

  private writeLocked(): boolean {
    // A memory not open yet (openWhenAsked) holds no lock: the error came from another database.
    if (!(this.store instanceof SqliteStore)) return false;
    const db = this.store.db;
    if (!db.open || db.inTransaction) return false;
    const timeout = db.pragma('busy_timeout', { simple: true }) as number;
    db.pragma('busy_timeout = 0');
    try {
      db.exec('BEGIN IMMEDIATE');
      db.exec('ROLLBACK');
      return false;
    } catch {
      return true;
    } finally {
      db.pragma(`busy_timeout = ${timeout}`);
    }
  }
}

function urlPassword(url: string | undefined): string[] {
  if (!url) return [];
  try {
    const password = decodeURIComponent(new URL(url).password);
    return password ? [password] : [];
  } catch {
    return [];
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

/** Open (creating it if needed) and migrate a SQLite memory file; a MemoryOpenError says what to fix. */
function openSqliteMemory(path: string, busyTimeoutMs: number, migrations: readonly Migration[], defaultTenant: string): Db {
  let db: Db | undefined;
  try {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    db = openSqlite(path, { timeout: busyTimeoutMs });
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    migrate(db, migrations, defaultTenant);
    return db;
  } catch (error) {
    if (db?.open) db.close();
    throw memoryOpenError(path, error);
  }
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
