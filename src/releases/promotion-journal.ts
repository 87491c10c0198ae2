import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { nowIso, type MemoryDb } from '../memory/index.js';
import { ownerAlive } from '../memory/lease.js';
import type { Principal } from '../principal.js';
import { restoreFlagsStillSetBy, type PreviousFlags } from './flags.js';
import { getRelease, transition } from './ledger.js';
import { TargetDb } from './target-db.js';

/**
 * The promotion journal. A promotion writes its intent (with the flag values it replaces) in the
 * memory before the target database commits, and its outcome after; the target commit carries
 * a marker row. A process that dies in between leaves an intent without outcome, which
 * reconcilePromotions finishes at the next start from what the target says.
 */

export interface PromotionIntent {
  release_id: string;
  tenant: string;
  environment: string;
  target: string;
  plan_sha256: string;
  previous_flags: PreviousFlags;
  /** The promoting process (host:pid:random): while it lives, its promotion is running, not stopped. */
  owner?: string;
}

/**
 * Call inside the transaction that applies the flags; returns the flag values the journal keeps.
 * An open intent of the release (its outcome not yet known) keeps its previous_flags: they are
 * the values from before that promotion, and the flags may still hold its values.
 */
export async function journalIntent(memory: MemoryDb, intent: PromotionIntent): Promise<PreviousFlags> {
  const kept = (await memory.get<{ previous_flags: string }>(
      `INSERT INTO release_promotions (release_id, tenant, environment, target, plan_sha256, previous_flags, intent_at, outcome, outcome_at, owner)
       VALUES (?, ?, ?, ?, ?, ?, ?, NULL, NULL, ?)
       ON CONFLICT (release_id) DO UPDATE SET tenant = excluded.tenant, environment = excluded.environment, target = excluded.target,
         plan_sha256 = excluded.plan_sha256, intent_at = excluded.intent_at, outcome = NULL, outcome_at = NULL, owner = excluded.owner,
         previous_flags = CASE WHEN release_promotions.outcome IS NULL THEN release_promotions.previous_flags ELSE excluded.previous_flags END
       RETURNING previous_flags`,
      intent.release_id,
      intent.tenant,
      intent.environment,
      intent.target,
      intent.plan_sha256,
      JSON.stringify(intent.previous_flags),
      nowIso(),
      intent.owner ?? null,
    ))!;
  return JSON.parse(kept.previous_flags) as PreviousFlags;
}

/** Call inside the transaction that records the release's new status. */
export async function journalOutcome(memory: MemoryDb, releaseId: string, outcome: 'committed' | 'rolled_back'): Promise<void> {
  await memory.run('UPDATE release_promotions SET outcome = ?, outcome_at = ? WHERE release_id = ? AND outcome IS NULL', outcome, nowIso(), releaseId);
}

export interface Reconciled {
  release_id: string;
  /** committed: the target has it, the release is now promoted; rolled_back: it does not, the flags are restored and the release failed; pending: the target is locked (a promotion may be running). */
  outcome: 'committed' | 'rolled_back' | 'pending';
}

export type OpenIntent = Omit<PromotionIntent, 'previous_flags' | 'owner'> & { previous_flags: string; intent_at: string; owner: string | null };

/** The intent of this release that has no outcome yet, if any. */
export function openIntentOf(memory: MemoryDb, tenant: string, releaseId: string): Promise<OpenIntent | undefined> {
  return memory.get<OpenIntent>('SELECT * FROM release_promotions WHERE release_id = ? AND tenant = ? AND outcome IS NULL', releaseId, tenant);
}

/** A PostgreSQL target is probed asynchronously (reconcilePromotionAsync in service.ts), not here. */
const isUrl = (target: string) => /^postgres(ql)?:\/\//i.test(target);

/** Finish every promotion whose process died between its intent and its outcome. */
export async function reconcilePromotions(memory: MemoryDb): Promise<Reconciled[]> {
  const open = await memory.all<OpenIntent>('SELECT * FROM release_promotions WHERE outcome IS NULL ORDER BY intent_at');
  const done: Reconciled[] = [];
  for (const row of open) done.push(await reconcileIntent(memory, row, 'at start'));
  return done;
}

/**
 * Finish this release's promotion if its intent has no outcome (its process died, or could not
 * write the ledger); undefined when there is none. release_get, release_promote and
 * release_rollback call it first so the ledger does not wait for a restart to agree with the target.
 */
export async function reconcilePromotion(memory: MemoryDb, tenant: string, releaseId: string, when: string): Promise<Reconciled | undefined> {
  const row = await openIntentOf(memory, tenant, releaseId);
  return row ? reconcileIntent(memory, row, when) : undefined;
}

async function reconcileIntent(memory: MemoryDb, row: OpenIntent, when: string): Promise<Reconciled> {
  // Its process is alive: the promotion is running (its promotion skill, after the target committed).
  if (row.owner && ownerAlive(row.owner)) return { release_id: row.release_id, outcome: 'pending' };
  if (isUrl(row.target)) return { release_id: row.release_id, outcome: 'pending' };
  // A target file that is gone (moved, config changed) proves nothing: opening it would make an
  // empty database without the marker and record a promotion that may have committed as failed.
  if (!existsSync(row.target)) return { release_id: row.release_id, outcome: 'pending' };
  const target = TargetDb.open(row.target, 0);
  let committed: boolean | undefined;
  let schemaAfter: string | undefined;
  try {
    committed = target.promotionCommitted(row.release_id);
    if (committed) schemaAfter = target.fingerprint();
  } finally {
    target.close();
  }
  // Locked: a promotion may be running (in this process or another); leave it to its owner.
  if (committed === undefined) return { release_id: row.release_id, outcome: 'pending' };
  return finishIntent(memory, row, committed, schemaAfter, when);
}

/** Record what the target says happened to an open promotion: committed (promoted) or not (failed, flags restored). */
export async function finishIntent(memory: MemoryDb, row: OpenIntent, committed: boolean, schemaAfter: string | undefined, when: string): Promise<Reconciled> {
  const actor: Principal = { role: 'admin', subject: `release-mcp (reconcile ${when})`, tenant: row.tenant };
  const previous = JSON.parse(row.previous_flags) as PreviousFlags;
  const release = await getRelease(memory, row.tenant, row.release_id);
  if (release.status !== 'prepared') {
    // The ledger already moved on: only the journal is behind.
    const outcome = release.status === 'promoted' ? 'committed' : 'rolled_back';
    await memory.transaction(() => journalOutcome(memory, row.release_id, outcome));
    return { release_id: row.release_id, outcome };
  }
  const details = { environment: row.environment, reconciled: true, intent_at: row.intent_at, target: basename(row.target) };
  if (committed) {
    await transition(memory, row.tenant, row.release_id, {
      to: 'promoted',
      event: 'release.promoted',
      actor,
      set: { promoted_at: nowIso(), schema_after: schemaAfter, previous_flags: JSON.stringify(previous) },
      alongside: () => journalOutcome(memory, row.release_id, 'committed'),
      details: { ...details, note: `the promotion committed on the target but its ledger write did not happen; the ledger was finished ${when}` },
    });
    return { release_id: row.release_id, outcome: 'committed' };
  }
  const message = 'the process stopped during the promotion, before the target committed: nothing was applied, the flags were restored';
  const failedDetails: Record<string, unknown> = { ...details, error: message };
  await transition(memory, row.tenant, row.release_id, {
    to: 'failed',
    event: 'release.failed',
    actor,
    set: { failed_at: nowIso(), error_message: message },
    alongside: async () => {
      // A flag another release set since keeps that release's value.
      const kept = await restoreFlagsStillSetBy(memory, row.tenant, row.environment, previous, row.release_id);
      if (kept.length) failedDetails.kept_flags = kept;
      await journalOutcome(memory, row.release_id, 'rolled_back');
    },
    details: failedDetails,
  });
  return { release_id: row.release_id, outcome: 'rolled_back' };
}
