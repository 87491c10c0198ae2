import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryDb, MIGRATIONS, type Migration } from '../src/memory/index.js';
import { tempDir } from './helpers/harness.js';

const extra = (version: number, table: string): Migration => ({ version, name: `table ${table}`, sql: `CREATE TABLE ${table} (x INTEGER)` });

function tables(path: string): string[] {
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as Array<{ name: string }>).map((r) => r.name);
  } finally {
    db.close();
  }
}

describe('memory migrations', () => {
  let dir = tempDir();
  afterEach(() => {
    dir.cleanup();
    dir = tempDir();
  });

  it('applies a migration numbered below one the file already has (merged later)', async () => {
    const path = join(dir.path, 'memory.db');
    new MemoryDb({ path, migrations: [extra(200, 'two_hundred')] }).close();
    const mem = new MemoryDb({ path, migrations: [extra(150, 'one_fifty'), extra(200, 'two_hundred')] });
    try {
      expect(tables(path)).toEqual(expect.arrayContaining(['one_fifty', 'two_hundred']));
      const applied = (mem.db.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as Array<{ version: number }>).map((r) => r.version);
      expect(applied).toEqual([...MIGRATIONS.map((m) => m.version), 150, 200].sort((a, b) => a - b));
      expect(await mem.schemaVersion()).toBe(200);
    } finally {
      mem.close();
    }
  });

  it('takes a file from before the migration table at its user_version and applies the rest once', () => {
    const path = join(dir.path, 'old.db');
    const old = new Database(path);
    for (const m of [...MIGRATIONS].filter((m) => m.version <= 3).sort((a, b) => a.version - b.version)) old.exec(m.sql);
    old.pragma('user_version = 3');
    old.close();
    const mem = new MemoryDb({ path });
    mem.close();
    // Opening again changes nothing and fails on nothing (every migration ran exactly once).
    const again = new MemoryDb({ path });
    try {
      const rows = again.db.prepare('SELECT version, applied_at FROM schema_migrations ORDER BY version').all() as Array<{ version: number; applied_at: string }>;
      expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version).sort((a, b) => a - b));
      expect(rows.filter((r) => r.applied_at === 'before the migration table').map((r) => r.version)).toEqual([1, 2, 3]);
    } finally {
      again.close();
    }
  });
});
