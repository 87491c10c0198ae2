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
    this.secrets = options.secrets ?? [];
    let db: Db | undefined;
    try {
      if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
      db = new Database(options.path, { timeout: 10_000 });
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      migrate(db, [...MIGRATIONS, ...(options.migrations ?? [])]);
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

function migrate(db: Db, migrations: readonly Migration[]): void {
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  const seen = new Set<number>();
  for (const m of sorted) {
    if (seen.has(m.version)) throw new Error(`duplicate memory migration number ${m.version}`);
    seen.add(m.version);
  }
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
