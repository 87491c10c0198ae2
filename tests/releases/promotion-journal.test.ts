import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { currentFlags, promoteRelease, PromotionCrash, type PromotionCrashPoint } from '../../src/releases/index.js';
import { LocalSession } from '../../src/server/context.js';
import type { Runtime } from '../../src/server/runtime.js';
import { connect, tempDir, testRuntime, type ConnectedClient } from '../helpers/harness.js';
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
    runtime?.close();
    mcp = undefined;
    runtime = undefined;
  };
  const flags = () => currentFlags(runtime!.memory, 'primary', runtime!.config.environments.find((e) => e.name === 'staging')!);
  const addPlan = [{ operation: 'add_column', table: 'users', column: { name: 'plan', type: 'TEXT', default: 'basic' } }];

  beforeEach(() => {
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
    const c = await start();
    const { id } = data<Manifest>(await c.call('release_prepare', { from_env: 'dev', to_env: 'staging', bundle: bundle(addPlan, { new_ui: true, beta: 'gold' }) }));
    const actor = new LocalSession(runtime!).principal;
    await expect(promoteRelease({ config: runtime!.config, memory: runtime!.memory, crashAt: point }, actor, id, async () => {})).rejects.toBeInstanceOf(PromotionCrash);
    return id;
  }

  it('finishes the ledger when the target committed, keeping the previous flag values for rollback', async () => {
    const id = await crashedPromotion('after_target_commit');
    // Before the restart the two disagree: the target has the release, the ledger does not.
    expect(columnsOf(staging, 'users')).toContain('plan');
    expect(data<Manifest>(await mcp!.call('release_get', { release_id: id })).status).toBe('prepared');
    await stop();

    const c = await start();
    const release = data<Manifest & { previous_flags: Record<string, unknown> }>(await c.call('release_get', { release_id: id }));
    expect(release.status).toBe('promoted');
    expect(release.previous_flags).toEqual({ new_ui: null, beta: null });
    expect(flags()).toEqual({ new_ui: true, plan: 'basic', beta: 'gold' });
    const events = data<{ events: Array<{ event: string; actor: string; details: Record<string, unknown> }> }>(await c.call('release_events', { release_id: id })).events;
    expect(events.at(-1)).toMatchObject({ event: 'release.promoted', actor: 'release-mcp (reconcile at start)', details: { reconciled: true } });

    // The rollback has what it needs: the schema after, and the flags before.
    const rolled = data<Manifest & { reverted_migrations: number }>(await c.call('release_rollback', { release_id: id }));
    expect(rolled).toMatchObject({ status: 'rolled_back', reverted_migrations: 1 });
    expect(columnsOf(staging, 'users')).not.toContain('plan');
    expect(flags()).toEqual({ new_ui: false, plan: 'basic' });
  });

  it('restores the flags and fails the release when the process died before the target committed', async () => {
    const id = await crashedPromotion('after_intent');
    expect(columnsOf(staging, 'users')).not.toContain('plan');
    expect(flags()).toEqual({ new_ui: true, plan: 'basic', beta: 'gold' });
    await stop();

    const c = await start();
    const release = data<Manifest & { error_message: string }>(await c.call('release_get', { release_id: id }));
    expect(release.status).toBe('failed');
    expect(release.error_message).toMatch(/before the target committed: nothing was applied, the flags were restored/);
    expect(flags()).toEqual({ new_ui: false, plan: 'basic' });
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

  it('journals a promotion that completes normally as committed', async () => {
    const c = await start();
    const { id } = data<Manifest>(await c.call('release_prepare', { from_env: 'dev', to_env: 'staging', bundle: bundle(addPlan, { new_ui: true }) }));
    expect(data<Manifest>(await c.call('release_promote', { release_id: id })).status).toBe('promoted');
    expect(rowsOf(memoryPath, `SELECT outcome, previous_flags FROM release_promotions WHERE release_id = '${id}'`)).toEqual([{ outcome: 'committed', previous_flags: '{"new_ui":null}' }]);
    expect(rowsOf(staging, `SELECT release_id FROM _release_mcp_promotions`)).toEqual([{ release_id: id }]);
  });
});
