import { AsyncLocalStorage } from 'node:async_hooks';
import type Database from 'better-sqlite3';
import pg from 'pg';
import { toPostgres, type Backend } from './dialect.js';

/**
 * The memory's storage behind one small async interface, with two implementations: SQLite
 * (better-sqlite3, one file, the embedded default) and PostgreSQL (a `pg` Pool, shared by server
 * replicas). SQL is written once with `?` parameters (see dialect.ts for where spellings differ).
 *
 * A transaction is the async function given to `transaction`: every call of the same store made
 * while it runs (awaited inside it, at any depth) goes to the transaction, found through
 * AsyncLocalStorage, so code that takes the store keeps working inside one; a nested
 * `transaction` is a savepoint.
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

interface TxState {
  store: object;
  done: boolean;
  savepoints: number;
  client?: pg.PoolClient;
}

const current = new AsyncLocalStorage<TxState>();

function activeTx(store: object): TxState | undefined {
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

async function savepoint<T>(tx: TxState, exec: (sql: string) => unknown, fn: () => Promise<T>): Promise<T> {
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

/**
 * The password goes into the URL: pg lets the parsed connection string override a separate
 * `password` option (with undefined, when the URL has none).
 */
function withPassword(url: string, password: string | undefined): string {
  if (password === undefined) return url;
  const parsed = new URL(url);
  if (parsed.password) return url;
  parsed.password = encodeURIComponent(password);
  return parsed.toString();
}

/** bigint (count, ids, epoch ms) and numeric (sums) as JS numbers, as SQLite returns them. */
const pgTypes = {
  getTypeParser: ((oid: number, format?: string) => {
    if (oid === 20 || oid === 1700) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format as 'text');
  }) as typeof pg.types.getTypeParser,
};

/** Serialization failures and deadlocks: the transaction is run again (a few times). */
const RETRYABLE = new Set(['40001', '40P01']);
const TX_ATTEMPTS = 4;

export interface PgStoreOptions {
  connectionString: string;
  password?: string | undefined;
  /** How long a statement waits for a row or table lock before failing (lock_timeout). */
  lockTimeoutMs: number;
  /** Longest a statement may run (statement_timeout); 0 for none. */
  statementTimeoutMs?: number;
  max?: number;
}

/**
 * PostgreSQL through a pg Pool. A transaction holds one pooled client for its duration; calls
 * outside one take any client. Row and table locks wait `lock_timeout`, then fail with 55P03,
 * which MemoryDb reports as a conflict (the SQLite busy timeout's counterpart).
 */
export class PgStore implements Store {
  readonly backend = 'postgresql' as const;
  readonly pool: pg.Pool;
  private readonly sqlCache = new Map<string, string>();

  constructor(readonly options: PgStoreOptions) {
    const statementTimeout = options.statementTimeoutMs ?? 0;
    this.pool = new pg.Pool({
      connectionString: withPassword(options.connectionString, options.password),
      max: options.max ?? 10,
      types: pgTypes,
      options: `-c lock_timeout=${Math.max(1, options.lockTimeoutMs)} -c statement_timeout=${statementTimeout}`,
      application_name: 'release-mcp',
    });
    // An idle client that loses its connection must not crash the process; the next query reconnects.
    this.pool.on('error', () => undefined);
  }

  private translate(sql: string): string {
    let text = this.sqlCache.get(sql);
    if (text === undefined) {
      text = toPostgres(sql);
      this.sqlCache.set(sql, text);
    }
    return text;
  }

  private async query<T>(sql: string, params: readonly unknown[]): Promise<pg.QueryResult & { rows: T[] }> {
    const tx = activeTx(this);
    const text = this.translate(sql);
    const values = params as unknown[];
    return (tx?.client ? tx.client.query(text, values) : this.pool.query(text, values)) as Promise<pg.QueryResult & { rows: T[] }>;
  }

  async get<T>(sql: string, params: readonly unknown[] = []): Promise<T | undefined> {
    return (await this.query<T>(sql, params)).rows[0];
  }

  async all<T>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    return (await this.query<T>(sql, params)).rows;
  }

  async run(sql: string, params: readonly unknown[] = []): Promise<{ changes: number }> {
    return { changes: (await this.query(sql, params)).rowCount ?? 0 };
  }

  async insert(sql: string, params: readonly unknown[] = []): Promise<number> {
    const row = (await this.query<{ id: number }>(`${sql} RETURNING id`, params)).rows[0];
    return Number(row?.id);
  }

  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    const outer = activeTx(this);
    if (outer) return savepoint(outer, (sql) => outer.client!.query(sql), fn);
    for (let attempt = 1; ; attempt++) {
      const client = await this.pool.connect();
      const tx: TxState = { store: this, done: false, savepoints: 0, client };
      let broken = false;
      try {
        await client.query('BEGIN');
        const result = await current.run(tx, fn);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => (broken = true));
        const code = (error as { code?: unknown }).code;
        if (attempt < TX_ATTEMPTS && typeof code === 'string' && RETRYABLE.has(code)) continue;
        throw error;
      } finally {
        tx.done = true;
        client.release(broken);
      }
    }
  }

  /**
   * A lock held until the running transaction ends (pg_advisory_xact_lock), for writes that read
   * before they write (the next release id, a learned fix's row). Outside a transaction: nothing.
   */
  async lock(key: string): Promise<void> {
    if (!activeTx(this)) return;
    await this.query('SELECT pg_advisory_xact_lock(hashtext(?))', [key]);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
