import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { basename, dirname, extname, join } from 'node:path';
import type { Config, EnvironmentConfig } from '../config.js';
import { ToolError } from '../errors.js';
import { isLockError, type MemoryDb } from '../memory/index.js';
import type { Principal } from '../principal.js';
import { bundleSha256 } from './bundle.js';
import { checkPromotionPath, databaseOf, environmentNamed } from './environments.js';
import { applyFlags, flagsChangedSince, restoreFlags, type FlagValue, type PreviousFlags } from './flags.js';
import { getRelease, insertPrepared, recordEvent, transition, transitionError, type ReleaseManifest, type TransitionInput } from './ledger.js';
import type { MigrationOp } from './migration-ops.js';
import { journalIntent, journalOutcome, reconcilePromotion } from './promotion-journal.js';
import { MigrationError, TargetDb, type PlannedMigration } from './target-db.js';

export interface LedgerDeps {
  config: Config;
  memory: MemoryDb;
  /** Tests only: stop a promotion at a point as a killed process would (nothing after it runs). */
  crashAt?: PromotionCrashPoint;
  /** How long a committed promotion waits for a locked memory file to record it (default COMMITTED_LEDGER_WAIT_MS). */
  committedLedgerWaitMs?: number;
}

/**
 * Once the target committed, the ledger must say so: the write waits this long for a memory file
 * locked by another writer (in short tries, so the process keeps serving meanwhile).
 */
export const COMMITTED_LEDGER_WAIT_MS = 120_000;
const LEDGER_TRY_BUSY_MS = 50;
const LEDGER_RETRY_PAUSE_MS = 200;

export type PromotionCrashPoint = 'after_intent' | 'after_target_commit';

/** What a crash at a PromotionCrashPoint throws: the promotion's own failure handling does not run. */
export class PromotionCrash extends Error {
  override readonly name = 'PromotionCrash';
}

export interface Bundle {
  commit_sha: string;
  images: Record<string, string>;
  migrations: MigrationOp[];
  feature_flags: Record<string, FlagValue>;
}

export interface PrepareInput {
  from_env: string;
  to_env: string;
  bundle: Bundle;
  hotfix: boolean;
  allow_data_loss: boolean;
}

/** Runs the environment's promotion skill; throws (a ToolError when it can) when the skill fails. */
export type PromotionSkillRunner = (skill: string, release: ReleaseManifest, env: EnvironmentConfig) => Promise<void>;

/** Record a refused call as an audit event and return the error to throw. */
export async function refuse(memory: MemoryDb, actor: Principal, tool: string, releaseId: string | null, error: ToolError): Promise<ToolError> {
  await recordEvent(memory, { release_id: releaseId, event: 'release.refused', actor, details: { tool, code: error.code, reason: error.message } });
  return error;
}

/** Ledger changes are for admins; anyone else is refused, and the refusal is audited. */
export async function requireAdmin(memory: MemoryDb, actor: Principal, tool: string, releaseId: string | null = null): Promise<void> {
  if (actor.role === 'admin') return;
  throw await refuse(memory, actor, tool, releaseId, new ToolError('forbidden', `${tool} changes the release ledger and needs the admin role (you are ${actor.role})`, { hint: 'ask an admin of your tenant, or use an admin token' }));
}

async function loadOrRefuse(memory: MemoryDb, actor: Principal, tool: string, id: string): Promise<ReleaseManifest> {
  try {
    return await getRelease(memory, actor.tenant, id);
  } catch (error) {
    throw await refuse(memory, actor, tool, id, error as ToolError);
  }
}

const elapsedMs = (start: number) => performance.now() - start;

/** An open promotion of this release is finished first; one whose target is locked (it may be running) refuses the call. */
async function reconcileOrRefuse(memory: MemoryDb, actor: Principal, tool: string, id: string): Promise<void> {
  if (await reconcileFirst(memory, actor, tool, id)) return;
  throw await refuse(memory, actor, tool, id, new ToolError('conflict', `a promotion of ${id} is still open and its target database is locked: it may be running`, {
    hint: "wait for it to end, then release_get shows how it ended (if the target database file was moved, put it back where config names it)",
  }));
}

/**
 * Finish this release's promotion if a process stopped (or could not write the ledger) between
 * its intent and its outcome. Returns false when its target is locked: a promotion may be running.
 */
async function reconcileFirst(memory: MemoryDb, actor: Principal, tool: string, id: string): Promise<boolean> {
  return (await reconcilePromotion(memory, actor.tenant, id, `on ${tool}`))?.outcome !== 'pending';
}

/** The manifest, after finishing its promotion if one was left without outcome (a locked memory file leaves it as stored). */
export async function readRelease(deps: LedgerDeps, actor: Principal, id: string): Promise<ReleaseManifest> {
  try {
    await reconcileFirst(deps.memory, actor, 'release_get', id);
  } catch (error) {
    if (!isLockError(error)) throw error;
  }
  return getRelease(deps.memory, actor.tenant, id);
}

/** Record a committed promotion, waiting out a locked memory file rather than reporting it failed. */
async function recordPromoted(deps: LedgerDeps, tenant: string, id: string, envName: string, input: TransitionInput): Promise<ReleaseManifest> {
  const { memory } = deps;
  const waitMs = deps.committedLedgerWaitMs ?? COMMITTED_LEDGER_WAIT_MS;
  const deadline = performance.now() + waitMs;
  for (;;) {
    try {
      return await memory.withLockWait(LEDGER_TRY_BUSY_MS, () => transition(memory, tenant, id, input));
    } catch (error) {
      if (!isLockError(error)) {
        // A release_get reconciled it while this waited.
        const now = await getRelease(memory, tenant, id);
        if (now.status === 'promoted') return now;
        throw error;
      }
      if (performance.now() >= deadline) {
        throw new ToolError('conflict', `${id} was promoted to ${envName} (the target database committed), but the memory file ${memory.path} stayed locked by another writer for ${waitMs} ms: the ledger still says prepared`, {
          hint: `do not promote it again: release_get ${id} (or the next start) records it as promoted once the lock is gone`,
          details: { release_id: id, target_committed: true },
          cause: error,
        });
      }
    }
    await sleep(LEDGER_RETRY_PAUSE_MS);
  }
}

/** Validate the path, plan and dry-run the migrations, and store the manifest as `prepared`. */
export async function prepareRelease(deps: LedgerDeps, actor: Principal, input: PrepareInput): Promise<ReleaseManifest> {
  const started = performance.now();
  const { memory, config } = deps;
  const tool = 'release_prepare';
  await requireAdmin(memory, actor, tool);
  try {
    checkPromotionPath(config, input.from_env, input.to_env, input.hotfix);
  } catch (error) {
    throw await refuse(memory, actor, tool, null, error as ToolError);
  }
  const env = environmentNamed(config, input.to_env);
  let dbPath: string;
  try {
    dbPath = databaseOf(config, env, actor.tenant);
  } catch (error) {
    throw await refuse(memory, actor, tool, null, error as ToolError);
  }
  const target = TargetDb.open(dbPath);
  let plan;
  try {
    plan = target.dryRun(input.bundle.migrations);
  } finally {
    target.close();
  }
  const summary = plan.migrations.map(briefOf);
  if (!plan.ok) {
    const failed = plan.migrations.find((m) => !m.dry_run_result.ok)!;
    throw await refuse(memory, actor, tool, null, new ToolError('precondition', `dry run on ${env.name} failed at migration ${failed.index} (${failed.operation} ${failed.table}): ${failed.dry_run_result.error}`, {
      hint: 'nothing was changed; fix the migration and prepare again',
      details: { migrations: summary },
    }));
  }
  const losing = plan.migrations.filter((m) => m.data_loss);
  if (losing.length && !input.allow_data_loss) {
    throw await refuse(memory, actor, tool, null, new ToolError('precondition', `migrations would lose data: ${losing.map((m) => `#${m.index} ${m.operation} ${m.table}: ${m.data_loss_detail}`).join('; ')}`, {
      hint: 'if losing that data is intended, prepare again with allow_data_loss: true (promote backs up the database first)',
      details: { migrations: summary },
    }));
  }
  return insertPrepared(
    memory,
    {
      from_env: input.from_env,
      to_env: input.to_env,
      hotfix: input.hotfix,
      allow_data_loss: input.allow_data_loss,
      bundle: input.bundle as unknown as Record<string, unknown>,
      bundle_sha256: bundleSha256(input.bundle),
      migrations: plan.migrations,
      feature_flags: input.bundle.feature_flags,
      schema_before: plan.schema_before,
    },
    actor,
    elapsedMs(started),
  );
}

function briefOf(m: PlannedMigration) {
  return { index: m.index, operation: m.operation, table: m.table, ok: m.dry_run_result.ok, error: m.dry_run_result.error, data_loss: m.data_loss };
}

/** Where promote keeps the copy of the target database taken before it changes anything. */
export function backupPathFor(databasePath: string, envName: string, releaseId: string): string {
  const stem = basename(databasePath, extname(databasePath));
  return join(dirname(databasePath), 'backups', `${stem}.${envName}.before-${releaseId}.db`);
}

/**
 * Back up the target, apply every migration in one transaction, apply the flags, run the
 * promotion skill, then commit. Any failure rolls the transaction back, restores the flags and
 * marks the release failed: nothing is left half-applied.
 */
export async function promoteRelease(deps: LedgerDeps, actor: Principal, id: string, runSkill: PromotionSkillRunner): Promise<ReleaseManifest> {
  const started = performance.now();
  const { memory, config } = deps;
  const tool = 'release_promote';
  await requireAdmin(memory, actor, tool, id);
  await reconcileOrRefuse(memory, actor, tool, id);
  const release = await loadOrRefuse(memory, actor, tool, id);
  if (release.status !== 'prepared') throw await refuse(memory, actor, tool, id, transitionError(release, 'promoted'));
  const env = environmentNamed(config, release.to_env);
  const dbPath = databaseOf(config, env, actor.tenant);
  const target = TargetDb.open(dbPath);
  try {
    if (target.fingerprint() !== release.schema_before) {
      throw await refuse(memory, actor, tool, id, new ToolError('precondition', `the schema of ${env.name} changed since ${id} was prepared; its plan and dry run no longer hold`, {
        hint: 'prepare a new release against the current schema',
      }));
    }
    const backupPath = backupPathFor(dbPath, env.name, id);
    // Until the write lock is held nothing has changed: a failure here leaves the release prepared.
    try {
      await target.backup(backupPath);
      target.begin();
    } catch (error) {
      throw new ToolError('precondition', `could not back up and lock ${dbPath} before promoting ${id}: ${(error as Error).message}`, {
        hint: 'nothing was changed and the release is still prepared; free the database (or disk space) and promote again',
        cause: error,
      });
    }
    // With the lock held, check again: another promotion may have changed the schema (or this
    // release) while the backup ran; applying a plan made for another schema can lose data.
    const locked = await getRelease(memory, actor.tenant, id);
    const drifted = target.fingerprint() !== release.schema_before;
    if (locked.status !== 'prepared' || drifted) {
      target.rollback();
      throw await refuse(memory, actor, tool, id, locked.status !== 'prepared'
        ? transitionError(locked, 'promoted')
        : new ToolError('precondition', `the schema of ${env.name} changed since ${id} was prepared (another promotion ran meanwhile); its plan and dry run no longer hold`, {
            hint: 'nothing was changed and the release is still prepared; prepare a new release against the current schema',
          }));
    }
    let previous: PreviousFlags | undefined;
    let schemaAfter: string;
    try {
      target.apply(release.migrations);
      // The intent (with the flag values replaced) commits with the flags: a crash from here on
      // is finished at the next start by reconcilePromotions, from the target's marker.
      previous = await memory.transaction(async () => {
        const replaced = await applyFlags(memory, actor.tenant, env.name, release.feature_flags, id);
        return journalIntent(memory, { release_id: id, tenant: actor.tenant, environment: env.name, target: dbPath, plan_sha256: release.bundle_sha256, previous_flags: replaced });
      });
      if (deps.crashAt === 'after_intent') throw new PromotionCrash('stopped after the intent');
      if (env.promotion_skill) await runSkill(env.promotion_skill, release, env);
      schemaAfter = target.fingerprint();
      target.markPromoted(id);
      target.commit();
      if (deps.crashAt === 'after_target_commit') throw new PromotionCrash('stopped after the target commit');
    } catch (error) {
      if (error instanceof PromotionCrash) throw error;
      target.rollback();
      const restore = previous;
      const message = (error as Error).message;
      try {
        await transition(memory, actor.tenant, id, {
          to: 'failed',
          event: 'release.failed',
          actor,
          duration_ms: elapsedMs(started),
          set: { failed_at: new Date().toISOString(), error_message: message, backup_path: backupPath },
          alongside: async () => {
            if (restore) await restoreFlags(memory, actor.tenant, env.name, restore, id);
            await journalOutcome(memory, id, 'rolled_back');
          },
          details: { environment: env.name, error: message, ...(error instanceof MigrationError && error.index ? { migration: error.index } : {}) },
        });
      } catch (ledgerError) {
        if (!isLockError(ledgerError) || !restore) throw ledgerError;
        // The intent stays open: the next call on this release (or the next start) restores the flags.
        throw new ToolError('conflict', `promotion of ${id} to ${env.name} failed and the target database was rolled back (${message}), but the memory file ${memory.path} is locked by another writer: the flags still hold ${id}'s values and the release still says prepared`, {
          hint: `release_get ${id} (or the next start) restores the flags and marks it failed once the lock is gone`,
          details: { release_id: id, status: 'prepared', backup_path: backupPath },
          cause: error,
        });
      }
      const code = error instanceof ToolError ? error.code : 'precondition';
      throw new ToolError(code, `promotion of ${id} to ${env.name} failed and was rolled back: ${message}`, {
        hint: error instanceof ToolError && error.hint ? error.hint : 'nothing was applied and the flags were restored; the release is now failed: fix the cause and prepare a new release',
        details: { release_id: id, status: 'failed', backup_path: backupPath },
        cause: error,
      });
    }
    return await recordPromoted(deps, actor.tenant, id, env.name, {
      to: 'promoted',
      event: 'release.promoted',
      actor,
      duration_ms: elapsedMs(started),
      set: { promoted_at: new Date().toISOString(), backup_path: backupPath, schema_after: schemaAfter, previous_flags: JSON.stringify(previous) },
      alongside: () => journalOutcome(memory, id, 'committed'),
      details: { environment: env.name, backup_path: backupPath, migrations: release.migrations.length, feature_flags: Object.keys(release.feature_flags) },
    });
  } finally {
    target.close();
  }
}

export interface RollbackResult {
  release: ReleaseManifest;
  /** False for a failed release: its promotion was already rolled back, nothing to undo. */
  reverted_migrations: number;
}

/**
 * Undo a promoted release with its rollback SQL (every migration reversible, nothing written to
 * the new structures, schema unchanged since), restore its flags, mark it rolled_back.
 */
export async function rollbackRelease(deps: LedgerDeps, actor: Principal, id: string): Promise<RollbackResult> {
  const { memory, config } = deps;
  const tool = 'release_rollback';
  await requireAdmin(memory, actor, tool, id);
  await reconcileOrRefuse(memory, actor, tool, id);
  const release = await loadOrRefuse(memory, actor, tool, id);
  if (release.status !== 'promoted' && release.status !== 'failed') throw await refuse(memory, actor, tool, id, transitionError(release, 'rolled_back'));
  const env = environmentNamed(config, release.to_env);
  if (release.status === 'failed') {
    const updated = await transition(memory, actor.tenant, id, {
      to: 'rolled_back',
      event: 'release.rollback',
      actor,
      set: { rolled_back_at: new Date().toISOString() },
      details: { environment: env.name, reverted_migrations: 0, note: 'the failed promotion was already rolled back; nothing to undo' },
    });
    return { release: updated, reverted_migrations: 0 };
  }
  const target = TargetDb.open(databaseOf(config, env, actor.tenant));
  try {
    const backup = release.backup_path ? ` (backup taken before promotion: ${release.backup_path})` : '';
    if (release.schema_after && target.fingerprint() !== release.schema_after) {
      throw await refuse(memory, actor, tool, id, new ToolError('precondition', `the schema of ${env.name} changed after ${id} was promoted; its rollback SQL no longer applies${backup}`, {
        hint: 'roll back the later release first, or restore the backup',
        details: { backup_path: release.backup_path },
      }));
    }
    const superseded = release.previous_flags ? await flagsChangedSince(memory, actor.tenant, env.name, release.feature_flags, id) : [];
    if (superseded.length) {
      const later = [...new Set(superseded.map((f) => f.release_id).filter((r): r is string => r !== null && r !== id))];
      throw await refuse(memory, actor, tool, id, new ToolError('precondition', `cannot roll back ${id}: feature flag(s) ${superseded.map((f) => `${f.name}${f.release_id ? ` (now set by ${f.release_id})` : ''}`).join(', ')} changed after it was promoted; restoring its flags would overwrite them`, {
        hint: later.length ? `roll back ${later.join(', ')} first` : 'release_events shows what changed the flags since',
        details: { flags: superseded },
      }));
    }
    const blockers: string[] = [];
    for (const m of release.migrations) {
      if (!m.reversible || !m.rollback_sql) blockers.push(`migration ${m.index} (${m.operation} ${m.table}) is not reversible${m.notes.length ? `: ${m.notes.join('; ')}` : ''}`);
      else if (m.written_check) {
        const written = target.count(m.written_check.sql);
        if (written > 0) blockers.push(`migration ${m.index} (${m.operation} ${m.table}): ${written} ${m.written_check.what} were written since promotion and would be lost`);
      }
    }
    if (blockers.length) {
      throw await refuse(memory, actor, tool, id, new ToolError('precondition', `cannot roll back ${id} with SQL: ${blockers.join('; ')}${backup}`, {
        hint: release.backup_path ? `restore ${release.backup_path} over ${target.path} (sqlite3 .restore), or ship a forward fix` : 'ship a forward fix',
        details: { blockers, backup_path: release.backup_path },
      }));
    }
    try {
      target.beginAndRevert(release.migrations);
      target.commit();
    } catch (error) {
      target.rollback();
      throw await refuse(memory, actor, tool, id, new ToolError('precondition', `rollback SQL of ${id} failed and was undone: ${(error as Error).message}${backup}`, {
        hint: 'the database is as it was before this call; restore the backup if the release must go',
        details: { backup_path: release.backup_path },
      }));
    }
    const schemaRestored = target.fingerprint() === release.schema_before;
    const previous = release.previous_flags;
    const updated = await transition(memory, actor.tenant, id, {
      to: 'rolled_back',
      event: 'release.rollback',
      actor,
      set: { rolled_back_at: new Date().toISOString() },
      alongside: async () => {
        if (previous) await restoreFlags(memory, actor.tenant, env.name, previous, id);
      },
      details: { environment: env.name, reverted_migrations: release.migrations.length, schema_restored: schemaRestored },
    });
    return { release: updated, reverted_migrations: release.migrations.length };
  } finally {
    target.close();
  }
}
