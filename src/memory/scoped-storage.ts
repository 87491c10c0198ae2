import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * AsyncLocalStorage switched on only while one of its runs is in flight. On Node 20 an enabled
 * AsyncLocalStorage keeps promise hooks installed, and every promise the process makes pays for
 * them (about a tenth of the server's CPU per MCP call, measured by bench/http.ts); memory
 * transactions are rare next to promises, so the hooks stay off between them.
 *
 * Outside every run `getStore()` is undefined, as for a plain AsyncLocalStorage.
 */
export class ScopedStorage<T> {
  private readonly storage = new AsyncLocalStorage<T>();
  /** Runs in flight, nested ones included: disabling while one still runs would lose its store. */
  private running = 0;

  getStore(): T | undefined {
    return this.running ? this.storage.getStore() : undefined;
  }

  async run<R>(store: T, fn: () => Promise<R>): Promise<R> {
    this.running += 1;
    try {
      return await this.storage.run(store, fn);
    } finally {
      this.running -= 1;
      if (!this.running) this.storage.disable();
    }
  }
}
