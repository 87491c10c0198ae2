import { spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import pg from 'pg';
import { checkPgMigration, timeoutsSql, type Finding, type SafetyOptions } from './migration-safety.js';
import type { MigrationOp } from './migration-ops.js';
import { planPgMigration } from './migrations-plan-pg.js';
import { PlanError, type MigrationPlan } from './migrations-plan.js';
import { PG_MARKER_TABLE, pgFingerprint, readPgSchema } from './pg-schema.js';
import type { TargetDatabase, TargetDryRun } from './target.js';
import { dryRunFailed, dryRunSucceeded, MigrationError, notRun, type PlannedMigration } from './target-db.js';

/**
 * A PostgreSQL target database. Its DDL is transactional: the migrations run in one transaction,
 * and the dry run in one that is rolled back. A promotion holds a transaction-scoped advisory
 * lock (one promoter at a time per database) only while its migrations apply, never while the
 * promotion skill runs. The password comes from the environment, never from the URL.
 */

/** One advisory lock key for every promotion to one database. */
const PROMOTION_LOCK = "hashtext('release-mcp promotion')";
const LOCK_WAIT_MS = 2_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The URL for display and for pg_dump: never a password. */
export function displayUrl(url: string): string {
  const parsed = new URL(url);
  parsed.password = '';
  return parsed.toString();
}

/** Connection settings from the URL (pg lets a connectionString override an explicit password). */
function clientConfig(url: string): pg.ClientConfig {
  const u = new URL(url);
  const sslmode = u.searchParams.get('sslmode');
  return {
    host: decodeURIComponent(u.hostname),
    port: u.port ? Number(u.port) : 5432,
    database: decodeURIComponent(u.pathname.slice(1)),
    ...(u.username ? { user: decodeURIComponent(u.username) } : {}),
    ...(sslmode === 'require' || sslmode === 'verify-ca' || sslmode === 'verify-full' ? { ssl: { rejectUnauthorized: sslmode !== 'require' } } : {}),
  };
}

export class PostgresTarget implements TargetDatabase {
  readonly kind = 'postgresql' as const;
  readonly location: string;
  private inTransaction = false;

  private constructor(
    private readonly client: pg.Client,
    url: string,
    private readonly password: string | undefined,
  ) {
    this.location = displayUrl(url);
  }

  /** Connect; the error names the database (never the password) and what to check. */
  static async open(url: string, password: string | undefined): Promise<PostgresTarget> {
    const client = new pg.Client({ ...clientConfig(url), ...(password !== undefined ? { password } : {}), connectionTimeoutMillis: 10_000 });
    // An idle client whose server goes away emits 'error'; the next query reports it.
    client.on('error', () => undefined);
    try {
      await client.connect();
    } catch (error) {
      await client.end().catch(() => undefined);
      throw new Error(`cannot connect to ${displayUrl(url)}: ${(error as Error).message}`, { cause: error });
    }
    return new PostgresTarget(client, url, password);
  }

  private async query<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    return (await this.client.query(sql, params)).rows as T[];
  }

  async fingerprint(): Promise<string> {
    return pgFingerprint(await readPgSchema(this.client));
  }

  async count(sql: string): Promise<number> {
    const rows = await this.query<{ n: number | string }>(sql);
    return Number(rows[0]?.n ?? 0);
  }

  /** A count inside the open transaction that cannot abort it (a savepoint around it). */
  private async countSafely(sql: string): Promise<number | undefined> {
    await this.client.query('SAVEPOINT release_mcp_check');
    try {
      const n = await this.count(sql);
      await this.client.query('RELEASE SAVEPOINT release_mcp_check');
      return n;
    } catch {
      await this.client.query('ROLLBACK TO SAVEPOINT release_mcp_check');
      return undefined;
    }
  }

  async dryRun(ops: readonly MigrationOp[], options: SafetyOptions): Promise<TargetDryRun> {
    const schemaBefore = await this.fingerprint();
    const migrations: PlannedMigration[] = [];
    const findings: Finding[] = [];
    const created = new Set<string>();
    let failedAt: number | undefined;
    let outsideFrom: number | undefined;
    await this.client.query('BEGIN');
    try {
      await this.client.query(timeoutsSql(options));
      for (const [i, op] of ops.entries()) {
        const index = i + 1;
        if (failedAt !== undefined) {
          migrations.push(notRun(op, index, `not run: migration ${failedAt} failed`));
          continue;
        }
        let plan: MigrationPlan | undefined;
        try {
          const schema = await readPgSchema(this.client);
          plan = planPgMigration(op, schema);
          const check = await checkPgMigration(plan.sql, { index, schema, created, count: (sql) => this.countSafely(sql), options });
          findings.push(...check.findings);
          plan.transactional = check.transactional;
          if (!check.transactional) outsideFrom ??= index;
          else if (outsideFrom !== undefined) {
            throw new PlanError(`migration ${outsideFrom} (CREATE INDEX CONCURRENTLY) runs after the migrations' transaction commits, so it must come after every other migration: move it to the end of the release`);
          }
          // The dry run builds a concurrent index inside its transaction: same checks (duplicates, columns), nothing kept.
          const runnable = check.transactional ? plan.sql : plan.sql.replace(/\bCONCURRENTLY\b/i, '');
          await this.client.query('SAVEPOINT release_mcp_migration');
          try {
            await this.client.query(runnable);
            await this.client.query('RELEASE SAVEPOINT release_mcp_migration');
          } catch (error) {
            await this.client.query('ROLLBACK TO SAVEPOINT release_mcp_migration');
            throw error;
          }
          migrations.push(dryRunSucceeded(index, plan, check.data_loss, 'restore the pre-promotion backup (pg_restore)'));
        } catch (error) {
          failedAt = index;
          migrations.push(dryRunFailed(op, index, plan, (error as Error).message));
        }
      }
    } finally {
      await this.client.query('ROLLBACK');
    }
    return { migrations, schema_before: schemaBefore, ok: failedAt === undefined, findings };
  }

  /** pg_dump in its custom format (pg_restore reads it); the password goes through PGPASSWORD. */
  async backup(destination: string): Promise<void> {
    mkdirSync(dirname(destination), { recursive: true });
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', ...(this.password !== undefined ? { PGPASSWORD: this.password } : {}) };
    const stderr: string[] = [];
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn('pg_dump', ['--format=custom', '--no-owner', `--file=${destination}`, `--dbname=${this.location}`], { env, stdio: ['ignore', 'ignore', 'pipe'] });
      child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
      child.once('error', (error) => reject(new Error(`cannot run pg_dump (install the PostgreSQL client tools): ${error.message}`)));
      child.once('close', resolve);
    });
    if (code !== 0) {
      rmSync(destination, { force: true });
      throw new Error(`pg_dump of ${this.location} failed (exit ${code}): ${stderr.join('').trim()}`);
    }
  }

  async begin(): Promise<void> {
    await this.client.query('BEGIN');
    this.inTransaction = true;
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      const [row] = await this.query<{ locked: boolean }>(`SELECT pg_try_advisory_xact_lock(${PROMOTION_LOCK}) AS locked`);
      if (row?.locked) return;
      if (Date.now() >= deadline) {
        await this.rollback();
        throw new Error(`another promotion to ${this.location} holds its lock (waited ${LOCK_WAIT_MS} ms)`);
      }
      await sleep(50);
    }
  }

  async apply(migrations: readonly PlannedMigration[], options: SafetyOptions): Promise<void> {
    await this.client.query(timeoutsSql(options));
    for (const m of migrations) {
      if (m.transactional === false) continue;
      try {
        await this.client.query(m.sql);
      } catch (error) {
        throw new MigrationError(`migration ${m.index} failed: ${(error as Error).message}`, m.index);
      }
    }
  }

  async markPromoted(releaseId: string): Promise<void> {
    await this.client.query(`CREATE TABLE IF NOT EXISTS ${PG_MARKER_TABLE} (release_id text PRIMARY KEY, committed_at timestamptz NOT NULL)`);
    await this.client.query(`INSERT INTO ${PG_MARKER_TABLE} (release_id, committed_at) VALUES ($1, now()) ON CONFLICT (release_id) DO UPDATE SET committed_at = excluded.committed_at`, [releaseId]);
  }

  async commit(): Promise<void> {
    await this.client.query('COMMIT');
    this.inTransaction = false;
  }

  async rollback(): Promise<void> {
    if (!this.inTransaction) return;
    this.inTransaction = false;
    await this.client.query('ROLLBACK');
  }

  async applyOutsideTransaction(migrations: readonly PlannedMigration[], options: SafetyOptions): Promise<void> {
    const outside = migrations.filter((m) => m.transactional === false);
    if (!outside.length) return;
    await this.client.query(timeoutsSql(options, false));
    try {
      for (const m of outside) {
        try {
          await this.client.query(m.sql);
        } catch (error) {
          throw new MigrationError(`migration ${m.index} failed: ${(error as Error).message}`, m.index);
        }
      }
    } finally {
      await this.client.query('RESET lock_timeout; RESET statement_timeout');
    }
  }

  async revert(migrations: readonly PlannedMigration[], options: SafetyOptions, releaseId?: string): Promise<void> {
    await this.begin();
    try {
      await this.client.query(timeoutsSql(options));
      for (const m of [...migrations].reverse()) {
        try {
          await this.client.query(m.rollback_sql ?? '');
        } catch (error) {
          throw new MigrationError(`rollback of migration ${m.index} failed: ${(error as Error).message}`, m.index);
        }
      }
      if (releaseId) {
        const [marker] = await this.query<{ t: string | null }>('SELECT to_regclass($1) AS t', [PG_MARKER_TABLE]);
        if (marker?.t) await this.client.query(`DELETE FROM ${PG_MARKER_TABLE} WHERE release_id = $1`, [releaseId]);
      }
      await this.commit();
    } catch (error) {
      await this.rollback();
      throw error;
    }
  }

  async promotionCommitted(releaseId: string): Promise<boolean | undefined> {
    const [lock] = await this.query<{ locked: boolean }>(`SELECT pg_try_advisory_lock(${PROMOTION_LOCK}) AS locked`);
    if (!lock?.locked) return undefined;
    try {
      const [marker] = await this.query<{ t: string | null }>('SELECT to_regclass($1) AS t', [PG_MARKER_TABLE]);
      if (!marker?.t) return false;
      return (await this.query(`SELECT 1 FROM ${PG_MARKER_TABLE} WHERE release_id = $1`, [releaseId])).length > 0;
    } finally {
      await this.client.query(`SELECT pg_advisory_unlock(${PROMOTION_LOCK})`);
    }
  }

  async close(): Promise<void> {
    await this.rollback().catch(() => undefined);
    await this.client.end().catch(() => undefined);
  }
}
