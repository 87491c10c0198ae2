import { renameSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { journalIntent } from '../../src/releases/promotion-journal.js';
import { currentFlags, promoteRelease, PromotionCrash, type LedgerDeps, type PromotionCrashPoint, type PromotionSkillRunner } from '../../src/releases/index.js';
import { LocalSession } from '../../src/server/context.js';
import type { Runtime } from '../../src/server/runtime.js';
import { connect, errorOf, tempDir, testRuntime, type ConnectedClient } from '../helpers/harness.js';
import { bundle, columnsOf, data, ledgerConfig, rowsOf, type Manifest } from './fixtures.js';

/**
 * A promotion whose process dies between the target commit and the ledger write (or before the
 * target commit) is finished at the next start: the memory and the target database agree again
 * and the flag values the release replaced are kept for its rollback.
 */
describe('promotion journal', () => {
  let dir: ReturnType<typeof tempDir>;
  let config: Record<string, unknown>;
  let memoryPath: string;
  let staging: string;
  let runtime: Runtime | undefined;
  let mcp: ConnectedClient | undefined;

  const start = async () => {
    runtime = testRuntime({ config, memoryPath });
    mcp = await connect(runtime);
    return mcp;
  };
  const stop = async () => {
    await mcp?.close();
    await runtime?.close();
    mcp = undefined;
    runtime = undefined;
  };
  const flags = () => currentFlags(runtime!.memory, 'primary', runtime!.config.environments.find((e) => e.name === 'staging')!);
  const addPlan = [{ operation: 'add_column', table: 'users', column: { name: 'plan', type: 'TEXT', default: 'basic' } }];

  beforeEach(async () => {
    dir = tempDir();
    config = ledgerConfig(dir.path);
    memoryPath = join(dir.path, 'memory.db');
    staging = join(dir.path, 'staging.db');
  });
  afterEach(async () => {
    await stop();
    dir.cleanup();
  });

  /** Prepare a release, then promote it in a process that stops at `point`. */
  async function crashedPromotion(point: PromotionCrashPoint): Promise<string> {
    const id = await prepared();
    await expect(promote(id, async () => {}, { crashAt: point })).rejects.toBeInstanceOf(PromotionCrash);
    return id;
  }
  /** Staging runs a promotion skill: the test's runSkill stands in for it. */
  const withPromotionSkill = () => ((config.environments as Array<Record<string, unknown>>)[1]!.promotion_skill = 'deploy_staging');
  async function prepared(flags: Record<string, unknown> = { new_ui: true, beta: 'gold' }, client?: ConnectedClient): Promise<string> {
    const c = client ?? mcp ?? (await start());
    return data<Manifest>(await c.call('release_prepare', { from_env: 'dev', to_env: 'staging', bundle: bundle(addPlan, flags) })).id;
  }
  const promote = (id: string, runSkill: PromotionSkillRunner, extra: Partial<LedgerDeps> = {}) =>
    promoteRelease({ config: runtime!.config, memory: runtime!.memory, secrets: runtime!.secrets, ...extra }, new LocalSession(runtime!).principal, id, runSkill);
  /** Another connection to the memory file that takes its write lock (as another process would). */
  const memoryLock = () => {
    const holder = new Database(memoryPath);
    return {
      take: () => holder.exec('BEGIN IMMEDIATE'),
      release: () => holder.inTransaction && holder.exec('ROLLBACK'),
      close: () => holder.close(),
    };
  };
  const eventsOf = async (c: ConnectedClient, id: string) => data<{ events: Array<{ event: string; actor: string; details: Record<string, unknown> }> }>(await c.call('release_events', { release_id: id })).events;

  it('finishes the ledger when the target committed, keeping the previous flag values for rollback', async () => {
    const id = await crashedPromotion('after_target_commit');
    // Before the restart the two disagree: the target has the release, the ledger does not.
    expect(columnsOf(staging, 'users')).toContain('plan');
    expect(rowsOf(memoryPath, `SELECT status FROM releases WHERE id = '${id}'`)).toEqual([{ status: 'prepared' }]);
    await stop();

    const c = await start();
    const release = data<Manifest & { previous_flags: Record<string, unknown> }>(await c.call('release_get', { release_id: id }));
    expect(release.status).toBe('promoted');
    expect(release.previous_flags).toEqual({ new_ui: null, beta: null });
    expect(await flags()).toEqual({ new_ui: true, plan: 'basic', beta: 'gold' });
    const events = data<{ events: Array<{ event: string; actor: string; details: Record<string, unknown> }> }>(await c.call('release_events', { release_id: id })).events;
    expect(events.at(-1)).toMatchObject({ event: 'release.promoted', actor: 'release-mcp (reconcile at start)', details: { reconciled: true } });

    // The rollback has what it needs: the schema after, and the flags before.
    const rolled = data<Manifest & { reverted_migrations: number }>(await c.call('release_rollback', { release_id: id }));
    expect(rolled).toMatchObject({ status: 'rolled_back', reverted_migrations: 1 });
    expect(columnsOf(staging, 'users')).not.toContain('plan');
    expect(await flags()).toEqual({ new_ui: false, plan: 'basic' });
  });

  it('restores the flags and fails the release when the process died before the target committed', async () => {
    const id = await crashedPromotion('after_intent');
    expect(columnsOf(staging, 'users')).not.toContain('plan');
    expect(await flags()).toEqual({ new_ui: true, plan: 'basic', beta: 'gold' });
    await stop();

    const c = await start();
    const release = data<Manifest & { error_message: string }>(await c.call('release_get', { release_id: id }));
    expect(release.status).toBe('failed');
    expect(release.error_message).toMatch(/before the target committed: nothing was applied, the flags were restored/);
    expect(await flags()).toEqual({ new_ui: false, plan: 'basic' });
    expect(columnsOf(staging, 'users')).not.toContain('plan');
  });

  it('leaves a promotion whose target is locked for a later start, then finishes it', async () => {
    const id = await crashedPromotion('after_target_commit');
    await stop();
    const holder = new Database(staging);
    holder.exec('BEGIN IMMEDIATE');
    try {
      const c = await start();
      expect(data<Manifest>(await c.call('release_get', { release_id: id })).status).toBe('prepared');
      expect(rowsOf(memoryPath, `SELECT outcome FROM release_promotions WHERE release_id = '${id}'`)).toEqual([{ outcome: null }]);
      await stop();
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
    const c = await start();
    expect(data<Manifest>(await c.call('release_get', { release_id: id })).status).toBe('promoted');
    expect(rowsOf(memoryPath, `SELECT outcome FROM release_promotions WHERE release_id = '${id}'`)).toEqual([{ outcome: 'committed' }]);
  });

  it('records a committed promotion as promoted when the memory file is locked at that moment, once the lock is gone', async () => {
    withPromotionSkill();
    const id = await prepared();
    const lock = memoryLock();
    try {
      // Another writer holds the memory file while the skill runs and for 1.5 s after.
      const release = await promote(id, async () => {
        lock.take();
        setTimeout(lock.release, 1500);
      });
      expect(release.status).toBe('promoted');
    } finally {
      lock.release();
      lock.close();
    }
    expect(columnsOf(staging, 'users')).toContain('plan');
    expect(rowsOf(memoryPath, `SELECT outcome, previous_flags FROM release_promotions WHERE release_id = '${id}'`)).toEqual([{ outcome: 'committed', previous_flags: '{"new_ui":null,"beta":null}' }]);
    expect(await flags()).toEqual({ new_ui: true, plan: 'basic', beta: 'gold' });
  });

  it('says a committed promotion committed when the memory file stays locked, and release_get finishes it once free', async () => {
    withPromotionSkill();
    const id = await prepared();
    const lock = memoryLock();
    try {
      const attempt = promote(id, async () => void lock.take(), { committedLedgerWaitMs: 300 });
      await expect(attempt).rejects.toMatchObject({ code: 'conflict', message: expect.stringMatching(/was promoted to staging \(the target database committed\), but the memory file .* stayed locked .* the ledger still says prepared$/) });
    } finally {
      lock.release();
      lock.close();
    }
    const c = mcp!;
    expect(data<Manifest>(await c.call('release_get', { release_id: id })).status).toBe('promoted');
    expect((await eventsOf(c, id)).at(-1)).toMatchObject({ event: 'release.promoted', actor: 'release-mcp (reconcile on release_get)', details: { reconciled: true } });
    // So release_rollback works at once, without a restart.
    expect(data<Manifest>(await c.call('release_rollback', { release_id: id })).status).toBe('rolled_back');
    expect(columnsOf(staging, 'users')).not.toContain('plan');
    expect(await flags()).toEqual({ new_ui: false, plan: 'basic' });
  });

  it('finishes a promotion stopped after the target commit at the next release_rollback, without a restart', async () => {
    const id = await crashedPromotion('after_target_commit');
    const rolled = data<Manifest & { reverted_migrations: number }>(await mcp!.call('release_rollback', { release_id: id }));
    expect(rolled).toMatchObject({ status: 'rolled_back', reverted_migrations: 1 });
    expect(await flags()).toEqual({ new_ui: false, plan: 'basic' });
    expect((await eventsOf(mcp!, id)).map((e) => [e.event, e.actor])).toEqual([
      ['release.prepared', expect.any(String)],
      ['release.promoted', 'release-mcp (reconcile on release_rollback)'],
      ['release.rollback', expect.any(String)],
    ]);
  });

  it('leaves a committed promotion open while its target file is missing, instead of recording it as failed', async () => {
    const id = await crashedPromotion('after_target_commit');
    renameSync(staging, `${staging}.moved`);
    try {
      expect(data<Manifest>(await mcp!.call('release_get', { release_id: id })).status).toBe('prepared');
      expect(errorOf(await mcp!.call('release_rollback', { release_id: id }))).toMatchObject({ code: 'conflict' });
      expect(await flags()).toEqual({ new_ui: true, plan: 'basic', beta: 'gold' });
    } finally {
      renameSync(`${staging}.moved`, staging);
    }
    expect(data<Manifest>(await mcp!.call('release_get', { release_id: id })).status).toBe('promoted');
  });

  it('keeps the flag values from before a promotion whose failure could not be recorded, and does not promote it again', async () => {
    withPromotionSkill();
    const id = await prepared();
    const lock = memoryLock();
    try {
      // The skill fails while another writer holds the memory file: the flags cannot be restored yet.
      const attempt = promote(id, async () => {
        lock.take();
        throw new Error('smoke test failed');
      });
      await expect(attempt).rejects.toMatchObject({ code: 'conflict', message: expect.stringMatching(/failed and the target database was rolled back \(smoke test failed\), but the memory file .* is locked/) });
    } finally {
      lock.release();
      lock.close();
    }
    expect(columnsOf(staging, 'users')).not.toContain('plan');

    // Promoting again first finishes the open promotion: the flags come back, the release is failed.
    const again = errorOf(await mcp!.call('release_promote', { release_id: id }));
    expect(again).toMatchObject({ code: 'precondition', message: expect.stringMatching(/is failed/) });
    expect(await flags()).toEqual({ new_ui: false, plan: 'basic' });
    expect(data<Manifest>(await mcp!.call('release_get', { release_id: id })).status).toBe('failed');
    expect(columnsOf(staging, 'users')).not.toContain('plan');
  });

  it('refuses to promote a release whose open promotion has its target locked (it may be running)', async () => {
    const id = await crashedPromotion('after_intent');
    const holder = new Database(staging);
    holder.exec('BEGIN IMMEDIATE');
    try {
      expect(errorOf(await mcp!.call('release_promote', { release_id: id }))).toMatchObject({ code: 'conflict', message: `a promotion of ${id} is still open and its target database is locked: it may be running` });
      expect(data<Manifest>(await mcp!.call('release_get', { release_id: id })).status).toBe('prepared');
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
    expect(data<Manifest>(await mcp!.call('release_get', { release_id: id })).status).toBe('failed');
    expect(await flags()).toEqual({ new_ui: false, plan: 'basic' });
  });

  it('keeps the previous flag values of an open intent when the intent is written again', async () => {
    await start();
    const memory = runtime!.memory;
    const intent = { release_id: 'rel_20260101_0000', tenant: 'primary', environment: 'staging', target: staging, plan_sha256: 'x' };
    const write = (previous_flags: Record<string, unknown>) => memory.transaction(() => journalIntent(memory, { ...intent, previous_flags } as Parameters<typeof journalIntent>[1]));
    expect(await write({ new_ui: null })).toEqual({ new_ui: null });
    expect(await write({ new_ui: true })).toEqual({ new_ui: null });
    expect(rowsOf(memoryPath, `SELECT previous_flags FROM release_promotions`)).toEqual([{ previous_flags: '{"new_ui":null}' }]);
  });

  it('restores at start only the flags a dead promotion still holds, not those a later release set', async () => {
    const r1 = await prepared({ new_ui: true, beta: 'gold' });
    // A second server on the same memory file, already running when the first one dies.
    const other = testRuntime({ config, memoryPath });
    const c2 = await connect(other);
    try {
      await expect(promote(r1, async () => {}, { crashAt: 'after_intent' })).rejects.toBeInstanceOf(PromotionCrash);
      await stop();
      const r2 = await prepared({ beta: 'silver' }, c2);
      expect(data<Manifest>(await c2.call('release_promote', { release_id: r2 })).status).toBe('promoted');
    } finally {
      await c2.close();
      other.close();
    }

    const c = await start();
    expect(data<Manifest>(await c.call('release_get', { release_id: r1 })).status).toBe('failed');
    // new_ui is still r1's value: back to the config value. beta is r2's: it stays.
    expect(await flags()).toEqual({ new_ui: false, plan: 'basic', beta: 'silver' });
    expect((await eventsOf(c, r1)).at(-1)).toMatchObject({ event: 'release.failed', details: { reconciled: true, kept_flags: ['beta'] } });
  });

  it('journals a promotion that completes normally as committed', async () => {
    const c = await start();
    const { id } = data<Manifest>(await c.call('release_prepare', { from_env: 'dev', to_env: 'staging', bundle: bundle(addPlan, { new_ui: true }) }));
    expect(data<Manifest>(await c.call('release_promote', { release_id: id })).status).toBe('promoted');
    expect(rowsOf(memoryPath, `SELECT outcome, previous_flags FROM release_promotions WHERE release_id = '${id}'`)).toEqual([{ outcome: 'committed', previous_flags: '{"new_ui":null}' }]);
    expect(rowsOf(staging, `SELECT release_id FROM _release_mcp_promotions`)).toEqual([{ release_id: id }]);
  });
});
