import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { openSqlite, type SqliteDatabase } from '../sqlite.js';
import { canonicalJson, sha256Hex } from './bundle.js';
import type { MigrationOp } from './migration-ops.js';
import { PlanError, planMigration, quoteIdent, type ColumnInfo, type MigrationPlan, type SchemaView } from './migrations-plan.js';

export interface DryRunResult {
  ok: boolean;
  error?: string;
  /** Objects the migration creates, changes or removes. */
  affected: string[];
}

/** A planned migration as the manifest keeps it. */
export interface PlannedMigration extends MigrationPlan {
  /** 1-based position in the release. */
  index: number;
  data_loss: boolean;
  data_loss_detail?: string;
  dry_run_result: DryRunResult;
}

export interface DryRun {
  migrations: PlannedMigration[];
  /** sha256 of the schema before the release. */
  schema_before: string;
  ok: boolean;
}

/** Where a target database records the promotions that committed to it. */
export const MARKER_TABLE = '_release_mcp_promotions';

/** A failure while applying or rolling back, with the migration it happened in. */
export class MigrationError extends Error {
  override readonly name = 'MigrationError';
  constructor(
    message: string,
    readonly index: number | undefined,
  ) {
    super(message);
  }
}

/**
 * One environment's SQLite database. Migrations run with foreign_keys off (as SQLite's table
 * rebuild procedure requires) and a foreign_key_check before anything is kept.
 */
export class TargetDb implements SchemaView {
  private readonly db: SqliteDatabase;

  private constructor(
    readonly path: string,
    busyTimeoutMs: number,
  ) {
    mkdirSync(dirname(path), { recursive: true });
    this.db = openSqlite(path, { timeout: busyTimeoutMs });
    this.db.pragma('foreign_keys = OFF');
  }

  /** busyTimeoutMs: how long to wait for another writer's lock (the wait blocks the process). */
  static open(path: string, busyTimeoutMs = 2_000): TargetDb {
    return new TargetDb(path, busyTimeoutMs);
  }

  /**
   * Mark, inside the open transaction, that this release's promotion committed: the memory's
   * promotion journal reads it after a crash to know which side of the commit it stopped on.
   */
  markPromoted(releaseId: string): void {
    this.db.exec(`CREATE TABLE IF NOT EXISTS ${MARKER_TABLE} (release_id TEXT PRIMARY KEY, committed_at TEXT NOT NULL)`);
    this.db.prepare(`INSERT OR REPLACE INTO ${MARKER_TABLE} (release_id, committed_at) VALUES (?, ?)`).run(releaseId, new Date().toISOString());
  }

  /** Forget, inside the open transaction, that a promotion committed (its migrations were reverted). */
  unmarkPromoted(releaseId: string): void {
    const table = this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(MARKER_TABLE);
    if (table) this.db.prepare(`DELETE FROM ${MARKER_TABLE} WHERE release_id = ?`).run(releaseId);
  }

  /**
   * Whether a promotion committed here; undefined while another connection holds the write lock
   * (a promotion may be under way: its outcome is not known yet).
   */
  promotionCommitted(releaseId: string): boolean | undefined {
    try {
      this.db.exec('BEGIN IMMEDIATE');
    } catch (error) {
      if (/^SQLITE_(BUSY|LOCKED)/.test(String((error as { code?: unknown }).code))) return undefined;
      throw error;
    }
    try {
      const table = this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(MARKER_TABLE);
      return table ? this.db.prepare(`SELECT 1 FROM ${MARKER_TABLE} WHERE release_id = ?`).get(releaseId) !== undefined : false;
    } finally {
      this.db.exec('ROLLBACK');
    }
  }

  close(): void {
    if (this.db.inTransaction) this.db.exec('ROLLBACK');
    if (this.db.open) this.db.close();
  }

  columns(table: string): ColumnInfo[] | undefined {
    const rows = this.db.pragma(`table_info(${quoteIdent(table)})`) as Array<{ name: string; type: string; notnull: number; dflt_value: string | null; pk: number }>;
    if (!rows.length) return undefined;
    return rows.map((r) => ({ name: r.name, type: r.type, notnull: r.notnull === 1, dflt_value: r.dflt_value, pk: r.pk }));
  }

  tableSql(table: string): string | undefined {
    const row = this.db.prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ? COLLATE NOCASE").get(table) as { sql: string } | undefined;
    return row?.sql;
  }

  indexes(table: string): Array<{ name: string; sql: string; columns: string[] }> {
    const rows = this.db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? COLLATE NOCASE AND sql IS NOT NULL ORDER BY name").all(table) as Array<{ name: string; sql: string }>;
    return rows.map((r) => ({ ...r, columns: (this.db.pragma(`index_info(${quoteIdent(r.name)})`) as Array<{ name: string }>).map((c) => c.name) }));
  }

  dependents(table: string): string[] {
    const word = new RegExp(`(^|[^A-Za-z0-9_])${table}([^A-Za-z0-9_]|$)`, 'i');
    const rows = this.db.prepare("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE type IN ('trigger', 'view')").all() as Array<{ type: string; name: string; tbl_name: string; sql: string | null }>;
    return rows.filter((r) => r.tbl_name.toLowerCase() === table.toLowerCase() || word.test(r.sql ?? '')).map((r) => `${r.type} ${r.name}`);
  }

  /** sha256 over every schema object (but the promotion marker): any DDL since a release was planned changes it. */
  fingerprint(): string {
    const rows = this.db.prepare("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' AND tbl_name <> ? ORDER BY type, name").all(MARKER_TABLE);
    return sha256Hex(canonicalJson(rows));
  }

  count(sql: string): number {
    return (this.db.prepare(sql).get() as { n: number }).n;
  }

  private foreignKeyViolations(): number {
    return (this.db.pragma('foreign_key_check') as unknown[]).length;
  }

  /**
   * Plan and run every migration inside one transaction that is always rolled back: each
   * migration is planned against the schema the earlier ones leave, so the plan is exact.
   */
  dryRun(ops: readonly MigrationOp[]): DryRun {
    const schemaBefore = this.fingerprint();
    const migrations: PlannedMigration[] = [];
    const baselineViolations = this.foreignKeyViolations();
    let failedAt: number | undefined;
    this.db.exec('BEGIN IMMEDIATE');
    try {
      ops.forEach((op, i) => {
        const index = i + 1;
        if (failedAt !== undefined) {
          migrations.push(notRun(op, index, `not run: migration ${failedAt} failed`));
          return;
        }
        let plan: MigrationPlan | undefined;
        try {
          plan = planMigration(op, this);
          const lost = plan.data_loss_check ? this.count(plan.data_loss_check.sql) : 0;
          this.db.exec(plan.sql);
          if (this.foreignKeyViolations() > baselineViolations) throw new PlanError('the migration leaves rows that break a foreign key');
          migrations.push(dryRunSucceeded(index, plan, plan.data_loss_check && { count: lost, what: plan.data_loss_check.what }, 'restore the pre-promotion backup'));
        } catch (error) {
          failedAt = index;
          migrations.push(dryRunFailed(op, index, plan, (error as Error).message));
        }
      });
    } finally {
      this.db.exec('ROLLBACK');
    }
    return { migrations, schema_before: schemaBefore, ok: failedAt === undefined };
  }

  /** SQLite online backup of the whole database. */
  async backup(destination: string): Promise<void> {
    mkdirSync(dirname(destination), { recursive: true });
    await this.db.backup(destination);
  }

  /** Run statements in order inside an open transaction; the error names the migration. */
  private run(steps: ReadonlyArray<{ index: number; sql: string }>): void {
    const baseline = this.foreignKeyViolations();
    for (const step of steps) {
      try {
        this.db.exec(step.sql);
      } catch (error) {
        throw new MigrationError(`migration ${step.index} failed: ${(error as Error).message}`, step.index);
      }
    }
    if (this.foreignKeyViolations() > baseline) throw new MigrationError('the migrations leave rows that break a foreign key', undefined);
  }

  /** Take the write lock (waits up to the busy timeout for other writers). */
  begin(): void {
    this.db.exec('BEGIN IMMEDIATE');
  }

  /** Apply the migrations inside the open transaction; commit() or rollback() ends it. */
  apply(migrations: readonly PlannedMigration[]): void {
    this.run(migrations.map((m) => ({ index: m.index, sql: m.sql })));
  }

  beginAndApply(migrations: readonly PlannedMigration[]): void {
    this.begin();
    this.apply(migrations);
  }

  /** Apply the rollback SQL, last migration first, in one transaction. */
  beginAndRevert(migrations: readonly PlannedMigration[]): void {
    this.db.exec('BEGIN IMMEDIATE');
    this.run([...migrations].reverse().map((m) => ({ index: m.index, sql: m.rollback_sql ?? '' })));
  }

  commit(): void {
    this.db.exec('COMMIT');
  }

  rollback(): void {
    if (this.db.inTransaction) this.db.exec('ROLLBACK');
  }
}

/** A migration of a dry run that was not run (an earlier one failed, or it could not be planned). */
export function notRun(op: MigrationOp, index: number, error: string): PlannedMigration {
  return { index, operation: op.operation, table: op.table, sql: '', rollback_sql: null, reversible: false, notes: [], affected: [], data_loss: false, dry_run_result: { ok: false, error, affected: [] } };
}

/** A planned migration that the dry run ran: `lost` rows (what they are) make it lose data and not reversible. */
export function dryRunSucceeded(index: number, plan: MigrationPlan, lost: { count: number; what: string } | undefined, restoreHint: string): PlannedMigration {
  const migration: PlannedMigration = { index, ...plan, data_loss: Boolean(lost && lost.count > 0), dry_run_result: { ok: true, affected: plan.affected } };
  if (lost && lost.count > 0) {
    migration.data_loss_detail = `${lost.count} ${lost.what} would be lost`;
    migration.reversible = false;
    migration.notes = [...plan.notes, `data is lost: rollback SQL restores the structure only; ${restoreHint} to get the data back`];
  }
  return migration;
}

/** A planned migration that failed in the dry run (or one that could not be planned). */
export function dryRunFailed(op: MigrationOp, index: number, plan: MigrationPlan | undefined, error: string): PlannedMigration {
  return plan ? { index, ...plan, data_loss: false, dry_run_result: { ok: false, error, affected: plan.affected } } : notRun(op, index, error);
}
