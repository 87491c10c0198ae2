import { basename } from 'node:path';
import { nowIso, type MemoryDb } from '../memory/index.js';
import type { Principal } from '../principal.js';
import { restoreFlags, type PreviousFlags } from './flags.js';
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
}

/** Call inside the transaction that applies the flags. */
export function journalIntent(memory: MemoryDb, intent: PromotionIntent): void {
  memory.db
    .prepare(
      `INSERT OR REPLACE INTO release_promotions (release_id, tenant, environment, target, plan_sha256, previous_flags, intent_at, outcome, outcome_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, NULL, NULL)`,
    )
    .run(intent.release_id, intent.tenant, intent.environment, intent.target, intent.plan_sha256, JSON.stringify(intent.previous_flags), nowIso());
}

/** Call inside the transaction that records the release's new status. */
export function journalOutcome(memory: MemoryDb, releaseId: string, outcome: 'committed' | 'rolled_back'): void {
  memory.db.prepare('UPDATE release_promotions SET outcome = ?, outcome_at = ? WHERE release_id = ? AND outcome IS NULL').run(outcome, nowIso(), releaseId);
}

export interface Reconciled {
  release_id: string;
  /** committed: the target has it, the release is now promoted; rolled_back: it does not, the flags are restored and the release failed; pending: the target is locked (a promotion may be running). */
  outcome: 'committed' | 'rolled_back' | 'pending';
}

const RECONCILER: Omit<Principal, 'tenant'> = { role: 'admin', subject: 'release-mcp (reconcile at start)' };

/** Finish every promotion whose process died between its intent and its outcome. */
export function reconcilePromotions(memory: MemoryDb): Reconciled[] {
  const open = memory.db.prepare('SELECT * FROM release_promotions WHERE outcome IS NULL ORDER BY intent_at').all() as Array<Omit<PromotionIntent, 'previous_flags'> & { previous_flags: string; intent_at: string }>;
  const done: Reconciled[] = [];
  for (const row of open) {
    const target = TargetDb.open(row.target, 0);
    let committed: boolean | undefined;
    let schemaAfter: string | undefined;
    try {
      committed = target.promotionCommitted(row.release_id);
      if (committed) schemaAfter = target.fingerprint();
    } finally {
      target.close();
    }
    if (committed === undefined) {
      done.push({ release_id: row.release_id, outcome: 'pending' });
      continue;
    }
    const actor: Principal = { ...RECONCILER, tenant: row.tenant };
    const previous = JSON.parse(row.previous_flags) as PreviousFlags;
    const release = getRelease(memory, row.tenant, row.release_id);
    if (release.status !== 'prepared') {
      // The ledger already moved on: only the journal is behind.
      memory.db.transaction(() => journalOutcome(memory, row.release_id, release.status === 'promoted' ? 'committed' : 'rolled_back')).immediate();
      done.push({ release_id: row.release_id, outcome: release.status === 'promoted' ? 'committed' : 'rolled_back' });
      continue;
    }
    const details = { environment: row.environment, reconciled: true, intent_at: row.intent_at, target: basename(row.target) };
    if (committed) {
      transition(memory, row.tenant, row.release_id, {
        to: 'promoted',
        event: 'release.promoted',
        actor,
        set: { promoted_at: nowIso(), schema_after: schemaAfter, previous_flags: JSON.stringify(previous) },
        alongside: () => journalOutcome(memory, row.release_id, 'committed'),
        details: { ...details, note: 'the process stopped after the target committed; the ledger was finished at the next start' },
      });
    } else {
      const message = 'the process stopped during the promotion, before the target committed: nothing was applied, the flags were restored';
      transition(memory, row.tenant, row.release_id, {
        to: 'failed',
        event: 'release.failed',
        actor,
        set: { failed_at: nowIso(), error_message: message },
        alongside: () => {
          restoreFlags(memory, row.tenant, row.environment, previous, row.release_id);
          journalOutcome(memory, row.release_id, 'rolled_back');
        },
        details: { ...details, error: message },
      });
    }
    done.push({ release_id: row.release_id, outcome: committed ? 'committed' : 'rolled_back' });
  }
  return done;
}
