import { hostname } from 'node:os';
import { cryptoModule } from '../lazy-crypto.js';

/**
 * Run leases. A running run names its owner (host:pid:random) and renews a heartbeat; when the
 * heartbeat is older than the lease and the owner process is gone, the run was interrupted
 * (the process was killed, the machine rebooted) and can be resumed or abandoned.
 */

/** Owners alive in this process: a pid check cannot tell two runtimes of one process apart. */
const liveHere = new Set<string>();

export function newOwner(): string {
  return `${hostname()}:${process.pid}:${cryptoModule().randomBytes(4).toString('hex')}`;
}

export function markOwnerLive(owner: string, live: boolean): void {
  if (live) liveHere.add(owner);
  else liveHere.delete(owner);
}

/** False only when the owner is surely gone: a process on this host that no longer exists. */
export function ownerAlive(owner: string): boolean {
  const [host, pidText] = owner.split(':');
  const pid = Number(pidText);
  if (host !== hostname() || !Number.isInteger(pid) || pid <= 0) return true;
  if (pid === process.pid) return liveHere.has(owner);
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface LeaseView {
  status: string;
  owner: string | null;
  heartbeat_at: number | null;
}

/**
 * The status a reader should see: a `running` run whose lease expired is `interrupted` when its
 * owner is gone on this host, or when it has been silent for ten leases (another host, reused pid).
 */
export function effectiveStatus(run: LeaseView, leaseMs: number, now = Date.now()): string {
  if (run.status !== 'running') return run.status;
  if (!run.owner || run.heartbeat_at === null) return 'interrupted';
  const silent = now - run.heartbeat_at;
  if (silent <= leaseMs) return 'running';
  return !ownerAlive(run.owner) || silent > leaseMs * 10 ? 'interrupted' : 'running';
}
