import { cryptoModule } from '../lazy-crypto.js';
import type { Principal } from '../principal.js';
import { nowIso, type MemoryDb } from './store.js';

/**
 * The key that seals approval request states when RELEASE_MCP_STATE_KEY is not set: made by the
 * first process that needs it and kept in the store, so every replica on this store uses the same
 * one. Two processes making it at once agree: the first insert wins and both read it back.
 */
export async function storedStateKey(memory: MemoryDb): Promise<Buffer> {
  const candidate = cryptoModule().randomBytes(32).toString('base64');
  await memory.run('INSERT INTO server_keys (name, value, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING', 'approval_state', candidate, nowIso());
  const row = await memory.get<{ value: string }>('SELECT value FROM server_keys WHERE name = ?', 'approval_state');
  if (!row) throw new Error('the approval state key could not be kept in the memory');
  return Buffer.from(row.value, 'base64');
}

/**
 * Mark an approval request's nonce as answered. False when it was answered before: a request
 * state is single-use, whichever process sees it. Nonces past their expiry are dropped on the
 * way (their state is refused as expired anyway).
 */
export async function consumeApprovalNonce(memory: MemoryDb, nonce: string, runId: string, expiresAt: number): Promise<boolean> {
  await memory.run('DELETE FROM approval_nonces WHERE expires_at < ?', Date.now() - 60_000);
  const { changes } = await memory.run('INSERT INTO approval_nonces (nonce, run_id, expires_at, used_at) VALUES (?, ?, ?, ?) ON CONFLICT (nonce) DO NOTHING', nonce, runId, expiresAt, nowIso());
  return changes === 1;
}

export type ApprovalDecision = 'approved' | 'declined';

/** How the decision reached the run: asked through elicitation (2025), input_required (2026-07-28), or resume with approve. */
export type ApprovalVia = 'elicitation' | 'input_required' | 'approve_flag';

export interface ApprovalRecord {
  run_id: string;
  step: string;
  decision: ApprovalDecision;
  tenant: string;
  subject: string;
  role: string;
  /** legacy (2025), modern (2026-07-28), or local (command line, REST API). */
  era: string;
  via: ApprovalVia;
  decided_at: string;
}

export async function recordApproval(memory: MemoryDb, entry: { runId: string; step: string; decision: ApprovalDecision; principal: Principal; era: string; via: ApprovalVia; at?: string }): Promise<ApprovalRecord> {
  const record: ApprovalRecord = {
    run_id: entry.runId,
    step: entry.step,
    decision: entry.decision,
    tenant: entry.principal.tenant,
    subject: entry.principal.subject,
    role: entry.principal.role,
    era: entry.era,
    via: entry.via,
    decided_at: entry.at ?? nowIso(),
  };
  await memory.run(
    'INSERT INTO skill_run_approvals (run_id, step, decision, tenant, subject, role, era, via, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    record.run_id,
    record.step,
    record.decision,
    record.tenant,
    record.subject,
    record.role,
    record.era,
    record.via,
    record.decided_at,
  );
  return record;
}

/** A run's approval decisions, oldest first. */
export async function runApprovals(memory: MemoryDb, runId: string): Promise<ApprovalRecord[]> {
  return memory.all<ApprovalRecord>('SELECT run_id, step, decision, tenant, subject, role, era, via, decided_at FROM skill_run_approvals WHERE run_id = ? ORDER BY id', runId);
}
