import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { ScopedStorage } from '../src/memory/scoped-storage.js';

describe('ScopedStorage', () => {
  it('gives the store to everything awaited inside a run, at any depth, and nothing after it', async () => {
    const storage = new ScopedStorage<string>();
    const deep = async () => {
      await sleep(1);
      return Promise.resolve().then(() => storage.getStore());
    };
    expect(await storage.run('tx', deep)).toBe('tx');
    expect(storage.getStore()).toBeUndefined();
  });

  it('keeps a run its store when another run ends first (the storage stays on until the last one ends)', async () => {
    const storage = new ScopedStorage<string>();
    let releaseLong!: () => void;
    const longGate = new Promise<void>((resolve) => (releaseLong = resolve));
    const long = storage.run('long', async () => {
      await longGate;
      await sleep(1);
      return storage.getStore();
    });
    expect(await storage.run('short', async () => (await sleep(1), storage.getStore()))).toBe('short');
    releaseLong();
    expect(await long).toBe('long');
    expect(storage.getStore()).toBeUndefined();
  });

  it('sees the inner store in a nested run and the outer again after it', async () => {
    const storage = new ScopedStorage<string>();
    const seen = await storage.run('outer', async () => {
      const inner = await storage.run('inner', async () => (await sleep(1), storage.getStore()));
      await sleep(1);
      return [inner, storage.getStore()];
    });
    expect(seen).toEqual(['inner', 'outer']);
  });

  it('ends the run when its function throws, and hands the error on', async () => {
    const storage = new ScopedStorage<string>();
    await expect(storage.run('tx', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(storage.getStore()).toBeUndefined();
    expect(await storage.run('again', async () => storage.getStore())).toBe('again');
  });
});
