import pg from 'pg';
import { toPostgres } from './dialect.js';
import { activeTx, current, savepoint, type Store, type TxState } from './sql-store.js';

// PostgreSQL's store, in a module of its own: a memory on SQLite never loads pg.

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
