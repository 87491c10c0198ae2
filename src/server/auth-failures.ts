/**
 * Failed authentication, per remote address: a token bucket decides when to answer 429 instead
 * of 401, and the audit trail gets one row per address per minute with a count, however many
 * requests come (20,000 bad requests once wrote 8 MB of audit rows in 6 s).
 */

export interface AuthFailureLimits {
  /** Failed requests an address may make at once before it is slowed down. */
  burst: number;
  /** Failed requests per second an address earns back. */
  perSecond: number;
}

export const DEFAULT_AUTH_FAILURE_LIMITS: AuthFailureLimits = { burst: 20, perSecond: 1 };

/** Addresses remembered at most; the least recently seen is forgotten first. */
const MAX_ADDRESSES = 10_000;

interface Bucket {
  tokens: number;
  at: number;
}

/** Per-address token buckets; `take` spends one token or says how long to wait for one. */
export class FailureBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly limits: AuthFailureLimits) {}

  /** Spend a token for a failed request: undefined when allowed, else seconds until the next token. */
  take(address: string, now: number): number | undefined {
    const previous = this.buckets.get(address);
    const bucket = previous ? { tokens: Math.min(this.limits.burst, previous.tokens + ((now - previous.at) / 1000) * this.limits.perSecond), at: now } : { tokens: this.limits.burst, at: now };
    // Re-insert so that Map order is least recently seen first.
    this.buckets.delete(address);
    this.buckets.set(address, bucket);
    if (this.buckets.size > MAX_ADDRESSES) this.buckets.delete(this.buckets.keys().next().value!);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return undefined;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.limits.perSecond));
  }
}

export interface RefusalWindow {
  address: string;
  /** The minute, `YYYY-MM-DDTHH:MM` (UTC). */
  minute: string;
  path: string;
  reason: string;
  /** Refused requests in this minute (401 and 429). */
  count: number;
  /** Of which answered 429. */
  rate_limited: number;
}

export interface RefusalSink {
  /** First refusal of an address in a minute: write a row, return its id. */
  insert(window: RefusalWindow): Promise<number | undefined>;
  /** Later refusals: the same row with the new counts. */
  update(id: number, window: RefusalWindow): Promise<void>;
}

/**
 * Counts refusals per (address, minute, path, reason). The first refusal writes a row; a 401 updates it; a 429
 * only counts in memory and is written with the next 401 or at `flush` (so the 429s themselves
 * cost no write).
 */
export class RefusalAudit {
  private readonly windows = new Map<string, OpenWindow>();
  /** Writes not yet done, in order per window (an update waits for its row's insert). */
  private readonly pending = new Set<Promise<void>>();
  private minute = '';

  constructor(private readonly sink: RefusalSink) {}

  record(address: string, now: Date, detail: { path: string; reason: string; limited: boolean }): void {
    const minute = now.toISOString().slice(0, 16);
    // One row per address, minute, path and reason (two paths and two reasons: still bounded).
    const key = `${address} ${minute} ${detail.path} ${detail.reason}`;
    const open = this.windows.get(key);
    if (!open) {
      if (minute !== this.minute) this.flushBefore(minute);
      this.minute = minute;
      if (this.windows.size >= MAX_ADDRESSES) this.writeAll();
      const window: RefusalWindow = { address, minute, path: detail.path, reason: detail.reason, count: 1, rate_limited: detail.limited ? 1 : 0 };
      const id = this.sink.insert({ ...window });
      const open: OpenWindow = { id, window, dirty: false, written: this.track(id.then(() => undefined)) };
      this.windows.set(key, open);
      return;
    }
    open.window.count++;
    if (detail.limited) open.window.rate_limited++;
    open.dirty = true;
    if (!detail.limited) this.write(open);
  }

  /** Write every pending count (at close); resolves when every write is done. */
  async flush(): Promise<void> {
    this.writeAll();
    await Promise.all([...this.pending]);
  }

  private writeAll(): void {
    for (const open of this.windows.values()) if (open.dirty) this.write(open);
    this.windows.clear();
  }

  /** Windows of earlier minutes are complete: write them and forget them. */
  private flushBefore(minute: string): void {
    for (const [key, open] of this.windows) {
      if (open.window.minute >= minute) continue;
      if (open.dirty) this.write(open);
      this.windows.delete(key);
    }
  }

  private write(open: OpenWindow): void {
    const window = { ...open.window };
    open.written = this.track(open.written.then(async () => {
      const id = await open.id;
      if (id !== undefined) await this.sink.update(id, window);
    }));
    open.dirty = false;
  }

  /** Keep a write until it settles; the sink reports its own failures, so none is left unhandled. */
  private track(write: Promise<void>): Promise<void> {
    const settled = write.catch(() => undefined);
    this.pending.add(settled);
    void settled.then(() => this.pending.delete(settled));
    return settled;
  }
}

interface OpenWindow {
  id: Promise<number | undefined>;
  window: RefusalWindow;
  dirty: boolean;
  /** The window's last write, which the next one waits for. */
  written: Promise<void>;
}
