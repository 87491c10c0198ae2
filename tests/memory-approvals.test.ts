import { afterEach, describe, expect, it } from 'vitest';
import { consumeApprovalNonce, createRun, MemoryDb, recordApproval, runApprovals, storedStateKey } from '../src/memory/index.js';
import { tempDir } from './helpers/harness.js';
import { sharedPostgres } from './helpers/real-postgres.js';

/** Migration 10 on both backends: the sealing key kept in the store, single-use nonces, approval decisions. */
const server = sharedPostgres();
const backends = [['sqlite'], ...(server ? [['postgresql']] : [])] as Array<['sqlite' | 'postgresql']>;
const operator = { role: 'operator' as const, tenant: 'primary', subject: 'token:OPS' };

let open: MemoryDb[] = [];
const dirs: Array<{ cleanup(): void }> = [];
afterEach(async () => {
  for (const m of open) await m.close();
  open = [];
  for (const d of dirs.splice(0)) d.cleanup();
});

/** Two handles on one store, as two server processes have. */
async function twoHandles(backend: 'sqlite' | 'postgresql'): Promise<[MemoryDb, MemoryDb]> {
  let make: () => MemoryDb;
  if (backend === 'sqlite') {
    const dir = tempDir('release-mcp-approvals-mem-');
    dirs.push(dir);
    make = () => new MemoryDb({ path: `${dir.path}/memory.db` });
  } else {
    const url = await server!.createDatabase('approvals');
    make = () => new MemoryDb({ path: '', url });
  }
  const a = make();
  await a.ready();
  const b = make();
  await b.ready();
  open.push(a, b);
  return [a, b];
}

describe.each(backends)('approvals in the memory on %s', (backend) => {
  it('makes one state key for every process on the store, whoever asks first', async () => {
    const [a, b] = await twoHandles(backend);
    const [fromA, fromB] = await Promise.all([storedStateKey(a), storedStateKey(b)]);
    expect(fromA.length).toBe(32);
    expect(fromB.equals(fromA)).toBe(true);
    expect((await storedStateKey(b)).equals(fromA)).toBe(true);
  });

  it('spends a nonce once, across processes, and drops expired ones', async () => {
    const [a, b] = await twoHandles(backend);
    const exp = Date.now() + 60_000;
    const answers = await Promise.all([consumeApprovalNonce(a, 'nonce-1', 'run-1', exp), consumeApprovalNonce(b, 'nonce-1', 'run-1', exp)]);
    expect(answers.sort()).toEqual([false, true]);
    expect(await consumeApprovalNonce(a, 'nonce-1', 'run-1', exp)).toBe(false);
    expect(await consumeApprovalNonce(b, 'nonce-2', 'run-1', exp)).toBe(true);
    await a.run('INSERT INTO approval_nonces (nonce, run_id, expires_at, used_at) VALUES (?, ?, ?, ?)', 'old', 'run-0', Date.now() - 3_600_000, 'then');
    await consumeApprovalNonce(a, 'nonce-3', 'run-1', exp);
    expect((await a.all<{ nonce: string }>('SELECT nonce FROM approval_nonces ORDER BY nonce')).map((r) => r.nonce)).toEqual(['nonce-1', 'nonce-2', 'nonce-3']);
  });

  it('records who decided a confirm step, in order, with the run', async () => {
    const [a] = await twoHandles(backend);
    await createRun(a, { id: 'run-9', tenant: 'primary', started_by: 'token:OPS', skill: 's', version: '1', file: '', status: 'awaiting_approval', dry_run: false, inputs: {}, owner: 'o' });
    await recordApproval(a, { runId: 'run-9', step: 'gate', decision: 'approved', principal: operator, era: 'modern', via: 'input_required', at: '2026-12-01T10:00:00.000Z' });
    await recordApproval(a, { runId: 'run-9', step: 'second', decision: 'declined', principal: { ...operator, subject: 'local-user', role: 'admin' }, era: 'legacy', via: 'elicitation' });
    const rows = await runApprovals(a, 'run-9');
    expect(rows).toEqual([
      { run_id: 'run-9', step: 'gate', decision: 'approved', tenant: 'primary', subject: 'token:OPS', role: 'operator', era: 'modern', via: 'input_required', decided_at: '2026-12-01T10:00:00.000Z' },
      expect.objectContaining({ step: 'second', decision: 'declined', subject: 'local-user', role: 'admin', era: 'legacy', via: 'elicitation' }),
    ]);
    // An approval belongs to a run: a decision for a run that does not exist is refused.
    await expect(recordApproval(a, { runId: 'no-such-run', step: 'gate', decision: 'approved', principal: operator, era: 'modern', via: 'input_required' })).rejects.toThrow();
  });
});
