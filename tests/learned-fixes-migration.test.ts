import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../src/memory/index.js';
import { connect, tempDir, testRuntime } from './helpers/harness.js';

/** A memory file as a server before migration 6 left it, with one learned fix. */
function legacyMemory(path: string): void {
  const db = new Database(path);
  // Migration 4 reads the default tenant as the store gives it while migrating.
  db.exec("CREATE TEMP TABLE migration_env (default_tenant TEXT NOT NULL); INSERT INTO temp.migration_env VALUES ('primary')");
  for (const m of [...MIGRATIONS].filter((m) => m.version < 6).sort((x, y) => x.version - y.version)) {
    db.exec(m.sql);
    db.pragma(`user_version = ${m.version}`);
  }
  db.prepare(
    "INSERT INTO learned_fixes (tool, error_pattern, root_cause, fix, times_fixed, created_at, updated_at) VALUES ('konflux_create_release', 'snapshot zq9 not found', 'build not finished', 'wait for the snapshot', 3, 'then', 'then')",
  ).run();
  db.close();
}

describe('learned fixes from before tenants', () => {
  const dir = tempDir();
  afterEach(() => dir.cleanup());

  it("become the default tenant's, searchable by their words, with no teacher recorded", async () => {
    const path = join(dir.path, 'memory.db');
    legacyMemory(path);
    const runtime = testRuntime({ config: { releases: { default_tenant: 'acme' } }, memoryPath: path });
    const c = await connect(runtime);
    try {
      const found = await c.call('check_known_issues', { error_text: 'konflux_create_release failed [not_found]: snapshot zq9 not found in tenant namespace' });
      expect((found.structuredContent as { matches: unknown[] }).matches).toEqual([
        expect.objectContaining({ kind: 'learned_fix', fix: 'wait for the snapshot', times_fixed: 3, taught_by: 'unrecorded', on_error_text: true }),
      ]);
      expect(runtime.memory.db.prepare('SELECT tenant FROM learned_fixes').all()).toEqual([{ tenant: 'acme' }]);
      expect(await runtime.memory.schemaVersion()).toBeGreaterThanOrEqual(6);
      // Taught again by the local user: the same fix, counted, now with a teacher.
      const again = await c.call('learn_tool_fix', { tool_name: 'konflux_create_release', error_pattern: 'snapshot zq9 not found', root_cause: 'build not finished', fix_description: 'wait for the snapshot' });
      expect(again.structuredContent).toMatchObject({ created: false, times_fixed: 4, taught_by: expect.not.stringMatching(/^unrecorded$/) });
    } finally {
      await c.close();
      runtime.close();
    }
  });
});
