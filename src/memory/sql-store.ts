import type Database from 'better-sqlite3';
import type pg from 'pg';
import type { Backend } from './dialect.js';
import { ScopedStorage } from './scoped-storage.js';

/**
 * The memory's storage behind one small async interface, with two implementations: SQLite
 * (better-sqlite3, one file, the embedded default) and PostgreSQL (a `pg` Pool, shared by server
 * replicas). SQL is written once with `?` parameters (see dialect.ts for where spellings differ).
 *
 * A transaction is the async function given to `transaction`: every call of the same store made
 * while it runs (awaited inside it, at any depth) goes to the transaction, found through
 * AsyncLocalStorage (on only while a transaction runs: scoped-storage.ts), so code that takes
 * the store keeps working inside one; a nested `transaction` is a savepoint.
 */
export interface Store {
  readonly backend: Backend;
  get<T>(sql: string, params?: readonly unknown[]): Promise<T | undefined>;
  all<T>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  run(sql: string, params?: readonly unknown[]): Promise<{ changes: number }>;
  /** An INSERT into a table with an integer `id`; returns the new row's id. */
  insert(sql: string, params?: readonly unknown[]): Promise<number>;
  transaction<T>(fn: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface TxState {
  store: object;
  done: boolean;
  savepoints: number;
  client?: pg.PoolClient;
}

export const current = new ScopedStorage<TxState>();

export function activeTx(store: object): TxState | undefined {
  const tx = current.getStore();
  return tx && tx.store === store && !tx.done ? tx : undefined;
}

/**
 * SQLite. better-sqlite3 is synchronous, so each call completes before it returns; the only thing
 * to guard is the one connection: while a transaction of this process awaits, other callers wait
 * for it to end instead of writing into it. BEGIN IMMEDIATE takes the write lock first (another
 * process's lock waits busy_timeout, then fails with SQLITE_BUSY, as before).
 */
export class SqliteStore implements Store {
  readonly backend = 'sqlite' as const;
  private readonly statements = new Map<string, Database.Statement>();
  /** Settles when this process's running transaction ends. */
  private busy: Promise<void> | undefined;

  constructor(readonly db: Database.Database) {}

  /** A prepared statement, kept for reuse: hot lookups should not re-parse their SQL. */
  statement(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  private async turn(): Promise<void> {
    if (activeTx(this)) return;
    while (this.busy) await this.busy;
  }

  async get<T>(sql: string, params: readonly unknown[] = []): Promise<T | undefined> {
    await this.turn();
    return this.statement(sql).get(...params) as T | undefined;
  }

  async all<T>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    await this.turn();
    return this.statement(sql).all(...params) as T[];
  }

  async run(sql: string, params: readonly unknown[] = []): Promise<{ changes: number }> {
    await this.turn();
    return { changes: this.statement(sql).run(...params).changes };
  }

  async insert(sql: string, params: readonly unknown[] = []): Promise<number> {
    await this.turn();
    return Number(this.statement(sql).run(...params).lastInsertRowid);
  }

  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    const outer = activeTx(this);
    if (outer) return savepoint(outer, (sql) => void this.db.exec(sql), fn);
    while (this.busy) await this.busy;
    this.db.exec('BEGIN IMMEDIATE');
    let release!: () => void;
    this.busy = new Promise((resolve) => (release = resolve));
    const tx: TxState = { store: this, done: false, savepoints: 0 };
    try {
      const result = await current.run(tx, fn);
      this.db.exec('COMMIT');
      return result;
    } catch (error) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      throw error;
    } finally {
      tx.done = true;
      this.busy = undefined;
      release();
    }
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

export async function savepoint<T>(tx: TxState, exec: (sql: string) => unknown, fn: () => Promise<T>): Promise<T> {
  const name = `sp_${++tx.savepoints}`;
  await exec(`SAVEPOINT ${name}`);
  try {
    const result = await fn();
    await exec(`RELEASE SAVEPOINT ${name}`);
    return result;
  } catch (error) {
    await exec(`ROLLBACK TO SAVEPOINT ${name}`);
    await exec(`RELEASE SAVEPOINT ${name}`);
    throw error;
  }
}
