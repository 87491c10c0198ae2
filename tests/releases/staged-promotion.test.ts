import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { promoteRelease, type PromotionSkillRunner } from '../../src/releases/index.js';
import { LocalSession } from '../../src/server/context.js';
import type { Runtime } from '../../src/server/runtime.js';
import { connect, errorOf, tempDir, testRuntime, type ConnectedClient } from '../helpers/harness.js';
import { bundle, columnsOf, data, ledgerConfig, type Manifest } from './fixtures.js';

describe('promotion in stages on a SQLite target', () => {
  let dir: ReturnType<typeof tempDir>;
  let runtime: Runtime;
  let mcp: ConnectedClient;

  beforeEach(async () => {
    dir = tempDir();
    const config = ledgerConfig(dir.path);
    (config.environments as Array<Record<string, unknown>>)[1]!.promotion_skill = 'deploy_staging';
    runtime = testRuntime({ config, memoryPath: join(dir.path, 'memory.db') });
    mcp = await connect(runtime);
  });
  afterEach(async () => {
    await mcp.close();
    runtime.close();
    dir.cleanup();
  });

  it('commits the migrations before the promotion skill: the target takes writes meanwhile, another environment releases, the same release cannot be promoted twice', async () => {
    const staging = join(dir.path, 'staging.db');
    const { id } = data<Manifest>(await mcp.call('release_prepare', { from_env: 'dev', to_env: 'staging', bundle: bundle([{ operation: 'add_column', table: 'users', column: { name: 'plan', type: 'TEXT', default: 'basic' } }]) }));
    let inSkill!: () => void;
    const skillStarted = new Promise<void>((resolve) => (inSkill = resolve));
    let finishSkill!: () => void;
    const skillDone = new Promise<void>((resolve) => (finishSkill = resolve));
    const runSkill: PromotionSkillRunner = async () => {
      inSkill();
      await skillDone;
    };
    const promotion = promoteRelease({ config: runtime.config, memory: runtime.memory, secrets: runtime.secrets }, new LocalSession(runtime).principal, id, runSkill);
    await skillStarted;

    // Another writer gets the write lock at once (timeout 0): the promotion holds none while its skill runs.
    const writer = new Database(staging, { timeout: 0 });
    try {
      writer.exec('BEGIN IMMEDIATE');
      writer.prepare("INSERT INTO users (name) VALUES ('dee')").run();
      writer.exec('COMMIT');
      expect(writer.prepare('SELECT plan FROM users WHERE name = ?').get('dee')).toEqual({ plan: 'basic' });
    } finally {
      writer.close();
    }
    const other = data<Manifest>(await mcp.call('release_prepare', { from_env: 'staging', to_env: 'prod', bundle: bundle([{ operation: 'add_column', table: 'users', column: { name: 'tier', type: 'TEXT' } }]) }));
    expect(data<Manifest>(await mcp.call('release_promote', { release_id: other.id })).status).toBe('promoted');
    expect(columnsOf(join(dir.path, 'prod.db'), 'users')).toContain('tier');

    expect(errorOf(await mcp.call('release_promote', { release_id: id }))).toMatchObject({ code: 'conflict', message: expect.stringMatching(/still open and its process .* is alive: it is running/) });
    expect(data<Manifest>(await mcp.call('release_get', { release_id: id })).status).toBe('prepared');

    finishSkill();
    expect((await promotion).status).toBe('promoted');
    expect(data<Manifest>(await mcp.call('release_get', { release_id: id })).status).toBe('promoted');
  });
});
