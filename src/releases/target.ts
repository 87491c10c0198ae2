import { canonicalJson, sha256Hex } from './bundle.js';
import type { MigrationOp } from './migration-ops.js';
import type { Finding, SafetyOptions } from './migration-safety.js';
import { TargetDb, type DryRun, type PlannedMigration } from './target-db.js';

/**
 * An environment's database as a release sees it, SQLite file or PostgreSQL database. Every
 * call is async (PostgreSQL answers over the network); the SQLite one wraps TargetDb.
 */
export interface TargetDatabase {
  readonly kind: 'sqlite' | 'postgresql';
  /** The file or the URL, never with a password. */
  readonly location: string;
  /** sha256 of the schema: any DDL since a release was planned changes it. */
  fingerprint(): Promise<string>;
  /** Plan, check and run the migrations in one transaction that is always rolled back. */
  dryRun(ops: readonly MigrationOp[], options: SafetyOptions): Promise<TargetDryRun>;
  /** A copy of the whole database at `destination` (SQLite online backup, pg_dump). */
  backup(destination: string): Promise<void>;
  /** Start the migrations' transaction holding the target's write lock (waits briefly for another writer). */
  begin(): Promise<void>;
  /** Apply the transactional migrations inside the open transaction; the error names the migration. */
  apply(migrations: readonly PlannedMigration[], options: SafetyOptions): Promise<void>;
  markPromoted(releaseId: string): Promise<void>;
  commit(): Promise<void>;
  rollback(): Promise<void>;
  /** Run the migrations that cannot run in a transaction (CREATE INDEX CONCURRENTLY), after commit. */
  applyOutsideTransaction(migrations: readonly PlannedMigration[], options: SafetyOptions): Promise<void>;
  /** Apply the rollback SQL, last migration first, in one transaction (with the timeouts), and drop the release's marker. */
  revert(migrations: readonly PlannedMigration[], options: SafetyOptions, releaseId?: string): Promise<void>;
  count(sql: string): Promise<number>;
  /** Whether a promotion committed here; undefined while it may still be running (target locked). */
  promotionCommitted(releaseId: string): Promise<boolean | undefined>;
  close(): Promise<void>;
}

export interface TargetDryRun extends DryRun {
  findings: Finding[];
}

/** sha256 of exactly what promote runs: each migration's SQL, rollback SQL and where it runs. */
export function planSha256(migrations: readonly PlannedMigration[]): string {
  return sha256Hex(canonicalJson(migrations.map((m) => ({ index: m.index, sql: m.sql, rollback_sql: m.rollback_sql, transactional: m.transactional !== false }))));
}

/** Today's data-loss guard as findings: a drop that loses data. */
function dataLossFindings(migrations: readonly PlannedMigration[], allowDataLoss: boolean): Finding[] {
  return migrations
    .filter((m) => m.data_loss && (m.operation === 'drop_table' || m.operation === 'drop_column'))
    .map((m) => ({
      rule: m.operation === 'drop_table' ? ('drop-table' as const) : ('drop-column' as const),
      severity: allowDataLoss ? ('warning' as const) : ('error' as const),
      migration: m.index,
      message: `${m.operation} ${m.table}: ${m.data_loss_detail ?? 'data would be lost'}${allowDataLoss ? ' (allow_data_loss is set)' : ''}`,
      fix: m.operation === 'drop_table'
        ? 'copy the data elsewhere first, or prepare with allow_data_loss: true (promote backs up the database first)'
        : 'stop writing the column and copy its values first, or prepare with allow_data_loss: true (promote backs up the database first)',
    }));
}

/** A SQLite file: the planner and the dry run of TargetDb, behind the async interface. */
export class SqliteTarget implements TargetDatabase {
  readonly kind = 'sqlite' as const;
  private constructor(private readonly db: TargetDb) {}

  static open(path: string, busyTimeoutMs?: number): SqliteTarget {
    return new SqliteTarget(TargetDb.open(path, busyTimeoutMs));
  }

  get location(): string {
    return this.db.path;
  }

  async fingerprint(): Promise<string> {
    return this.db.fingerprint();
  }

  async dryRun(ops: readonly MigrationOp[], options: SafetyOptions): Promise<TargetDryRun> {
    const plan = this.db.dryRun(ops);
    return { ...plan, findings: dataLossFindings(plan.migrations, options.allow_data_loss) };
  }

  async backup(destination: string): Promise<void> {
    await this.db.backup(destination);
  }

  async begin(): Promise<void> {
    this.db.begin();
  }

  async apply(migrations: readonly PlannedMigration[]): Promise<void> {
    this.db.apply(migrations);
  }

  async markPromoted(releaseId: string): Promise<void> {
    this.db.markPromoted(releaseId);
  }

  async commit(): Promise<void> {
    this.db.commit();
  }

  async rollback(): Promise<void> {
    this.db.rollback();
  }

  async applyOutsideTransaction(): Promise<void> {
    // SQLite builds every index inside the transaction.
  }

  async revert(migrations: readonly PlannedMigration[], _options: SafetyOptions, releaseId?: string): Promise<void> {
    try {
      this.db.beginAndRevert(migrations);
      if (releaseId) this.db.unmarkPromoted(releaseId);
      this.db.commit();
    } catch (error) {
      this.db.rollback();
      throw error;
    }
  }

  async count(sql: string): Promise<number> {
    return this.db.count(sql);
  }

  async promotionCommitted(releaseId: string): Promise<boolean | undefined> {
    return this.db.promotionCommitted(releaseId);
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
