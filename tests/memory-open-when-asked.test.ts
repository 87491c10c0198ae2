import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryDb, MemoryOpenError } from '../src/memory/index.js';
import { tempDir } from './helpers/harness.js';

let dir: { path: string; cleanup(): void };
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => dir.cleanup());

describe('a SQLite memory that opens when asked', () => {
  it('creates nothing until asked, then opens and migrates on the first query', async () => {
    const path = join(dir.path, 'memory.db');
    const memory = new MemoryDb({ path, openWhenAsked: true });
    expect(existsSync(path)).toBe(false);
    expect(() => memory.db).toThrow(/not open yet/);
    // A query is an ask: it waits for the open, then runs.
    expect(await memory.get<{ one: number }>('SELECT 1 AS one')).toEqual({ one: 1 });
    expect(existsSync(path)).toBe(true);
    expect(await memory.schemaVersion()).toBeGreaterThan(0);
    expect(memory.db.open).toBe(true);
    await memory.close();
  });

  it('runs the startup work after the open, and ready() waits for both', async () => {
    const memory = new MemoryDb({ path: join(dir.path, 'memory.db'), openWhenAsked: true });
    const seen: string[] = [];
    memory.afterOpen(async () => {
      seen.push(`startup sees version ${await memory.schemaVersion()}`);
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(seen).toEqual([]);
    await memory.ready();
    expect(seen).toEqual([expect.stringMatching(/^startup sees version [1-9]/)]);
    await memory.close();
  });

  it('closes without ever creating the file when nobody asked', async () => {
    const path = join(dir.path, 'memory.db');
    const memory = new MemoryDb({ path, openWhenAsked: true });
    await memory.close();
    expect(existsSync(path)).toBe(false);
    await expect(memory.ready()).rejects.toThrow(/closed before it opened/);
  });

  it('reports a file that is not a database on the first ask, to every caller, naming the file', async () => {
    const path = join(dir.path, 'memory.db');
    writeFileSync(path, 'not a database, just text long enough to fill a header page\n'.repeat(20));
    const memory = new MemoryDb({ path, openWhenAsked: true });
    const failure = await memory.ready().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(MemoryOpenError);
    expect((failure as Error).message).toContain(`memory file ${path} is not a usable SQLite database`);
    await expect(memory.get('SELECT 1')).rejects.toThrow(/is not a usable SQLite database/);
    await memory.close();
  });

  it('answers a lock error from another database without opening itself', async () => {
    const path = join(dir.path, 'memory.db');
    const memory = new MemoryDb({ path, openWhenAsked: true });
    const busy = Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
    expect(memory.lockError(busy)).toMatchObject({ code: 'conflict', message: expect.stringMatching(/^a database is locked by another writer/) });
    expect(existsSync(path)).toBe(false);
    await memory.close();
  });
});
