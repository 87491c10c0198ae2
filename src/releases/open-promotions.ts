import type { MemoryDb } from '../memory/index.js';

/**
 * Whether any promotion has an intent and no outcome (its process died, or is still running).
 * Kept apart from promotion-journal.ts so a server can ask at start without loading the journal
 * and what it needs (target databases, migration plans) when there is nothing to reconcile.
 */
export async function hasOpenPromotions(memory: MemoryDb): Promise<boolean> {
  return (await memory.get('SELECT 1 AS open FROM release_promotions WHERE outcome IS NULL LIMIT 1')) !== undefined;
}
