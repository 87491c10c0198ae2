import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { isPostgresUrl, type Config, type EnvironmentConfig, type Secrets } from '../config.js';
import { ToolError } from '../errors.js';
import { isLockError, type MemoryDb } from '../memory/index.js';
import type { Principal } from '../principal.js';
import { bundleSha256 } from './bundle.js';
import { checkPromotionPath, databaseOf, environmentNamed } from './environments.js';
import { applyFlags, flagsChangedSince, restoreFlags, type FlagValue, type PreviousFlags } from './flags.js';
import { getRelease, insertPrepared, recordEvent, transition, transitionError, type ReleaseManifest, type TransitionInput } from './ledger.js';
import type { MigrationOp } from './migration-ops.js';
import { markOwnerLive, newOwner, ownerAlive } from '../memory/lease.js';
import { blockingMessage, type SafetyOptions } from './migration-safety.js';
import { backupOf, openTarget, restoreHint, safetyOptions } from './open-target.js';
import { finishIntent, journalIntent, journalOutcome, openIntentOf, reconcilePromotion } from './promotion-journal.js';
import { planSha256, type TargetDatabase } from './target.js';
import { MigrationError, type PlannedMigration } from './target-db.js';

export interface LedgerDeps {
  config: Config;
  memory: MemoryDb;
  /** Tests only: stop a promotion at a point as a killed process would (nothing after it runs). */
  crashAt?: PromotionCrashPoint;
  /** How long a committed promotion waits for a locked memory file to record it (default COMMITTED_LEDGER_WAIT_MS). */
  committedLedgerWaitMs?: number;
  /** Passwords of PostgreSQL targets (secrets.target_passwords, read from the environment); required so no caller forgets them. */
  secrets: Secrets;
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
  /** Absent in a REST prepare without bundle_data.commit_sha (seed 003 sends none). */
  commit_sha?: string;
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

/** An open promotion of this release is finished first; one that may be running refuses the call. */
async function reconcileOrRefuse(deps: LedgerDeps, actor: Principal, tool: string, id: string): Promise<void> {
  const reconciled = await reconcileFirst(deps, actor, tool, id);
  if (reconciled === true) return;
  const owner = (await openIntentOf(deps.memory, actor.tenant, id))?.owner;
  const why = owner && ownerAlive(owner) ? `its process (${owner}) is alive: it is running` : reconciled.unreachable ? `its target database cannot be asked how it ended (${reconciled.unreachable})` : 'its target database is locked: it may be running';
  throw await refuse(deps.memory, actor, tool, id, new ToolError('conflict', `a promotion of ${id} is still open and ${why}`, {
    hint: reconciled.unreachable
      ? "make the target reachable (its URL, password_env, the network), then retry: the promotion is finished from the target's marker"
      : 'wait for it to end, then release_get shows how it ended (if the target database file was moved, put it back where config names it)',
  }));
}

/**
 * Finish this release's promotion if a process stopped (or could not write the ledger) between
 * its intent and its outcome. Returns true when done (or nothing was open); otherwise it may be
 * running (its owner lives, or its target is locked), or its target could not be reached
 * (`unreachable` says why). A PostgreSQL target is asked over the network, so this is async.
 */
async function reconcileFirst(deps: LedgerDeps, actor: Principal, tool: string, id: string): Promise<true | { unreachable?: string }> {
  const { memory, config } = deps;
  const row = await openIntentOf(memory, actor.tenant, id);
  if (!row) return true;
  const pending = {};
  if (!isPostgresUrl(row.target) || (row.owner && ownerAlive(row.owner))) return (await reconcilePromotion(memory, actor.tenant, id, `on ${tool}`))?.outcome !== 'pending' || pending;
  const env = config.environments.find((e) => e.name === row.environment);
  if (!env) return { unreachable: `environment ${row.environment} is no longer in config` };
  let target: TargetDatabase;
  try {
    target = await openTarget(deps, env, databaseOf(config, env, actor.tenant));
  } catch (error) {
    return { unreachable: (error as Error).message };
  }
  try {
    const committed = await target.promotionCommitted(id);
    if (committed === undefined) return pending;
    const schemaAfter = committed ? await target.fingerprint() : undefined;
    await finishIntent(memory, row, committed, schemaAfter, `on ${tool}`);
    return true;
  } finally {
    await target.close();
  }
}

/** The manifest, after finishing its promotion if one was left without outcome (a locked memory file leaves it as stored). */
export async function readRelease(deps: LedgerDeps, actor: Principal, id: string): Promise<ReleaseManifest> {
  try {
    await reconcileFirst(deps, actor, 'release_get', id);
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

/** Validate the path, plan, check and dry-run the migrations, and store the manifest as `prepared`. */
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
  let target: TargetDatabase;
  try {
    target = await openTarget(deps, env, databaseOf(config, env, actor.tenant));
  } catch (error) {
    throw await refuse(memory, actor, tool, null, error as ToolError);
  }
  let plan;
  try {
    plan = await target.dryRun(input.bundle.migrations, safetyOptions(config, input.allow_data_loss));
  } finally {
    await target.close();
  }
  const summary = plan.migrations.map(briefOf);
  const failed = plan.migrations.find((m) => !m.dry_run_result.ok);
  const dryRunError = failed && `dry run on ${env.name} failed at migration ${failed.index} (${failed.operation} ${failed.table}): ${failed.dry_run_result.error}`;
  // The rules say why a migration fails (NULLs before NOT NULL, duplicates before UNIQUE) and how to fix it.
  const blocking = plan.findings.filter((f) => f.severity === 'error' && f.rule !== 'drop-table' && f.rule !== 'drop-column');
  if (blocking.length) {
    throw await refuse(memory, actor, tool, null, new ToolError('precondition', `the safe-migration rules refuse this release on ${env.name}: ${blockingMessage(blocking)}${dryRunError ? `; the ${dryRunError}` : ''}`, {
      hint: 'nothing was changed; change the migrations as each fix says and prepare again',
      details: { migrations: summary, findings: plan.findings },
    }));
  }
  if (dryRunError) {
    throw await refuse(memory, actor, tool, null, new ToolError('precondition', dryRunError, {
      hint: 'nothing was changed; fix the migration and prepare again',
      details: { migrations: summary, findings: plan.findings },
    }));
  }
  const losing = plan.migrations.filter((m) => m.data_loss);
  if (losing.length && !input.allow_data_loss) {
    throw await refuse(memory, actor, tool, null, new ToolError('precondition', `migrations would lose data: ${losing.map((m) => `#${m.index} ${m.operation} ${m.table}: ${m.data_loss_detail} [rule ${m.operation === 'drop_table' ? 'drop-table' : 'drop-column'}]`).join('; ')}`, {
      hint: 'if losing that data is intended, prepare again with allow_data_loss: true (promote backs up the database first)',
      details: { migrations: summary, findings: plan.findings },
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
      plan_sha256: planSha256(plan.migrations),
      findings: plan.findings,
      target_kind: target.kind,
    },
    actor,
    elapsedMs(started),
  );
}

function briefOf(m: PlannedMigration) {
  return { index: m.index, operation: m.operation, table: m.table, ok: m.dry_run_result.ok, error: m.dry_run_result.error, data_loss: m.data_loss };
}

/**
 * Promote in stages. Back up the target; apply every migration in one transaction holding the
 * target's write lock, record the intent (the claim: one promoter wins) and the flags, commit;
 * build the concurrent indexes; then run the promotion skill with no lock held, so readers and
 * other environments' releases go on. A failure before the commit rolls the transaction back; a
 * failure after it applies the planned rollback SQL. Either way the flags are restored and the
 * release is failed.
 */
export async function promoteRelease(deps: LedgerDeps, actor: Principal, id: string, runSkill: PromotionSkillRunner): Promise<ReleaseManifest> {
  const started = performance.now();
  const { memory, config } = deps;
  const tool = 'release_promote';
  await requireAdmin(memory, actor, tool, id);
  await reconcileOrRefuse(deps, actor, tool, id);
  const release = await loadOrRefuse(memory, actor, tool, id);
  if (release.status !== 'prepared') throw await refuse(memory, actor, tool, id, transitionError(release, 'promoted'));
  const env = environmentNamed(config, release.to_env);
  const location = databaseOf(config, env, actor.tenant);
  const options = safetyOptions(config, release.allow_data_loss);
  if (release.plan_sha256 && planSha256(release.migrations) !== release.plan_sha256) {
    throw await refuse(memory, actor, tool, id, new ToolError('precondition', `the migrations of ${id} are not the SQL that was dry-run at prepare (plan sha256 ${release.plan_sha256.slice(0, 12)}... no longer matches): promote applies only the prepared plan`, {
      hint: 'nothing was changed; prepare a new release',
    }));
  }
  const target = await openTarget(deps, env, location);
  try {
    if ((await target.fingerprint()) !== release.schema_before) {
      throw await refuse(memory, actor, tool, id, new ToolError('precondition', `the schema of ${env.name} changed since ${id} was prepared; its plan and dry run no longer hold`, {
        hint: 'prepare a new release against the current schema',
      }));
    }
    const backupPath = backupOf(memory.path, location, env.name, id);
    // Until the write lock is held nothing has changed: a failure here leaves the release prepared.
    try {
      await target.backup(backupPath);
      await target.begin();
    } catch (error) {
      throw new ToolError('precondition', `could not back up and lock ${target.location} before promoting ${id}: ${(error as Error).message}`, {
        hint: 'nothing was changed and the release is still prepared; free the database (or disk space) and promote again',
        cause: error,
      });
    }
    // With the lock held, check again: another promotion may have changed the schema (or this
    // release, or claimed it) while the backup ran; applying a plan made for another schema can lose data.
    // The claim is read before the status: a promotion that closes its claim in between has
    // already written `promoted`, so the status read after it refuses (read the other way round,
    // a prepared status and a closed claim would both pass, and the release would promote twice).
    const claimed = await openIntentOf(memory, actor.tenant, id);
    const locked = await getRelease(memory, actor.tenant, id);
    const drifted = (await target.fingerprint()) !== release.schema_before;
    if (locked.status !== 'prepared' || drifted || claimed) {
      await target.rollback();
      throw await refuse(memory, actor, tool, id, locked.status !== 'prepared'
        ? transitionError(locked, 'promoted')
        : claimed
          ? new ToolError('conflict', `${id} is being promoted by another call (since ${claimed.intent_at})`, { hint: 'wait for it to end; release_get shows how it ended' })
          : new ToolError('precondition', `the schema of ${env.name} changed since ${id} was prepared (another promotion ran meanwhile); its plan and dry run no longer hold`, {
              hint: 'nothing was changed and the release is still prepared; prepare a new release against the current schema',
            }));
    }
    const owner = newOwner();
    markOwnerLive(owner, true);
    let previous: PreviousFlags | undefined;
    let schemaAfter: string;
    let committed = false;
    try {
      try {
        await target.apply(release.migrations, options);
        // The intent (the claim, with the flag values replaced) commits with the flags, before the
        // target: a crash from here on is finished by the reconcile, from the target's marker.
        previous = await memory.transaction(async () => {
          const replaced = await applyFlags(memory, actor.tenant, env.name, release.feature_flags, id);
          return journalIntent(memory, { release_id: id, tenant: actor.tenant, environment: env.name, target: target.location, plan_sha256: release.plan_sha256 ?? release.bundle_sha256, previous_flags: replaced, owner });
        });
        if (deps.crashAt === 'after_intent') throw new PromotionCrash('stopped after the intent');
        await target.markPromoted(id);
        await target.commit();
        committed = true;
        if (deps.crashAt === 'after_target_commit') throw new PromotionCrash('stopped after the target commit');
        await target.applyOutsideTransaction(release.migrations, options);
        schemaAfter = await target.fingerprint();
        // No lock is held from here: the skill may take minutes.
        if (env.promotion_skill) await runSkill(env.promotion_skill, release, env);
      } catch (error) {
        if (error instanceof PromotionCrash) throw error;
        const message = (error as Error).message;
        let undo = 'rolled back';
        if (committed) undo = await revertCommitted(target, release, options);
        else await target.rollback();
        throw await recordFailed(deps, actor, release, env.name, error, message, undo, previous, backupPath, started);
      }
      // The owner stays live until the ledger says promoted: a release_get meanwhile sees a running
      // promotion, not a stopped one to finish from the target's marker.
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
      markOwnerLive(owner, false);
    }
  } finally {
    await target.close();
  }
}

/** After the commit, a failed promotion is undone with its planned rollback SQL; says what was done. */
async function revertCommitted(target: TargetDatabase, release: ReleaseManifest, options: SafetyOptions): Promise<string> {
  const stuck = release.migrations.filter((m) => !m.reversible || !m.rollback_sql);
  if (stuck.length) return `NOT reverted: migration(s) ${stuck.map((m) => m.index).join(', ')} cannot be undone by SQL and stay applied`;
  try {
    await target.revert(release.migrations, options, release.id);
    return 'reverted with its rollback SQL';
  } catch (error) {
    return `NOT reverted: the rollback SQL failed (${(error as Error).message}) and the migrations stay applied`;
  }
}

/** Mark a promotion failed and restore its flags; returns the error to throw. */
async function recordFailed(
  deps: LedgerDeps,
  actor: Principal,
  release: ReleaseManifest,
  envName: string,
  error: unknown,
  message: string,
  undo: string,
  restore: PreviousFlags | undefined,
  backupPath: string,
  started: number,
): Promise<ToolError> {
  const { memory } = deps;
  const id = release.id;
  const undone = !undo.startsWith('NOT');
  const recorded = undone ? message : `${message} (${undo})`;
  try {
    await transition(memory, actor.tenant, id, {
      to: 'failed',
      event: 'release.failed',
      actor,
      duration_ms: elapsedMs(started),
      set: { failed_at: new Date().toISOString(), error_message: recorded, backup_path: backupPath },
      alongside: async () => {
        if (restore) await restoreFlags(memory, actor.tenant, envName, restore, id);
        await journalOutcome(memory, id, 'rolled_back');
      },
      details: { environment: envName, error: message, migrations: undo, ...(error instanceof MigrationError && error.index ? { migration: error.index } : {}) },
    });
  } catch (ledgerError) {
    if (!isLockError(ledgerError) || !restore) throw ledgerError;
    // The intent stays open: the next call on this release (or the next start) restores the flags.
    const target = undone ? 'the target database was rolled back' : `the target database was ${undo}`;
    const how = undone && undo !== 'rolled back' ? ' (after its commit, by the planned rollback SQL)' : '';
    return new ToolError('conflict', `promotion of ${id} to ${envName} failed and ${target} (${message}), but the memory file ${memory.path} is locked by another writer${how}: the flags still hold ${id}'s values and the release still says prepared`, {
      hint: `release_get ${id} (or the next start) restores the flags and marks it failed once the lock is gone`,
      details: { release_id: id, status: 'prepared', backup_path: backupPath },
      cause: error,
    });
  }
  const code = error instanceof ToolError ? error.code : 'precondition';
  return new ToolError(code, `promotion of ${id} to ${envName} failed and was ${undone ? 'rolled back' : `marked failed, its migrations ${undo}`}: ${message}`, {
    hint: error instanceof ToolError && error.hint ? error.hint : undone ? 'nothing was applied and the flags were restored; the release is now failed: fix the cause and prepare a new release' : `the flags were restored; restore ${backupPath} or ship a forward fix`,
    details: { release_id: id, status: 'failed', backup_path: backupPath },
    cause: error,
  });
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
  await reconcileOrRefuse(deps, actor, tool, id);
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
  const target = await openTarget(deps, env, databaseOf(config, env, actor.tenant));
  try {
    const backup = release.backup_path ? ` (backup taken before promotion: ${release.backup_path})` : '';
    if (release.schema_after && (await target.fingerprint()) !== release.schema_after) {
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
        const written = await target.count(m.written_check.sql);
        if (written > 0) blockers.push(`migration ${m.index} (${m.operation} ${m.table}): ${written} ${m.written_check.what} were written since promotion and would be lost`);
      }
    }
    if (blockers.length) {
      throw await refuse(memory, actor, tool, id, new ToolError('precondition', `cannot roll back ${id} with SQL: ${blockers.join('; ')}${backup}`, {
        hint: release.backup_path ? `${restoreHint(target, release.backup_path)}, or ship a forward fix` : 'ship a forward fix',
        details: { blockers, backup_path: release.backup_path },
      }));
    }
    try {
      await target.revert(release.migrations, safetyOptions(config, release.allow_data_loss));
    } catch (error) {
      throw await refuse(memory, actor, tool, id, new ToolError('precondition', `rollback SQL of ${id} failed and was undone: ${(error as Error).message}${backup}`, {
        hint: 'the database is as it was before this call; restore the backup if the release must go',
        details: { backup_path: release.backup_path },
      }));
    }
    const schemaRestored = (await target.fingerprint()) === release.schema_before;
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
    await target.close();
  }
}
