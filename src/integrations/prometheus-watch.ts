import { isCertificateFailure, ToolError } from '../errors.js';
import { evaluatePreDeploy, type AlertPolicy, type FiringAlert, type PrometheusAlert } from './prometheus.js';

export interface WatchPoll {
  /** 1-based poll number. */
  poll: number;
  elapsed_ms: number;
  ok: boolean;
  firing: number;
  /** Why the poll failed, when Prometheus did not answer. */
  error?: string;
}

export interface WatchOptions {
  /** One poll of Prometheus: every active alert. */
  fetchAlerts: (signal: AbortSignal) => Promise<PrometheusAlert[]>;
  policy: AlertPolicy;
  windowMs: number;
  intervalMs: number;
  signal: AbortSignal;
  onPoll?: (poll: WatchPoll) => Promise<void> | void;
}

export interface WatchResult {
  ok: boolean;
  /** The first critical or blocking alert seen; null when the window passed without one. */
  alert: FiringAlert | null;
  blocking: string[];
  polls: number;
  failed_polls: number;
  watched_ms: number;
  stopped_early: boolean;
}

/** Codes that a later poll cannot fix (nor can it fix an untrusted certificate): the watch stops at once. */
const FATAL = new Set(['auth', 'forbidden', 'config', 'invalid_input', 'cancelled']);

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(cancelled());
    const onAbort = () => {
      clearTimeout(timer);
      reject(cancelled());
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

const cancelled = () => new ToolError('cancelled', 'the alert watch was cancelled');

/** The first alert that blocks: critical first, then a configured blocking alert. */
function firstBlocking(result: ReturnType<typeof evaluatePreDeploy>, blockingAlerts: readonly string[]): FiringAlert | null {
  const all = Object.values(result.by_severity).flat();
  return all.find((a) => a.severity === 'critical') ?? all.find((a) => blockingAlerts.includes(a.name)) ?? null;
}

/**
 * Poll alerts for a window; stop at the first critical or blocking alert of the environment
 * (by the policy's labels, unlabelled ones included unless the policy ignores them). A poll that fails (network, 5xx) is counted and the watch goes on; an auth or
 * config failure stops it, and a window in which no poll succeeded is an error: silence
 * from Prometheus is never reported as a clean watch.
 */
export async function watchAlerts(options: WatchOptions): Promise<WatchResult> {
  const started = Date.now();
  let polls = 0;
  let failed = 0;
  let lastError: ToolError | undefined;
  for (;;) {
    if (options.signal.aborted) throw cancelled();
    polls += 1;
    let alerts: PrometheusAlert[] | undefined;
    try {
      alerts = await options.fetchAlerts(options.signal);
    } catch (error) {
      if (options.signal.aborted) throw cancelled();
      const toolError = error instanceof ToolError ? error : new ToolError('network', (error as Error).message, { cause: error });
      if (FATAL.has(toolError.code) || isCertificateFailure(toolError)) throw toolError;
      failed += 1;
      lastError = toolError;
    }
    const elapsed = Date.now() - started;
    if (alerts) {
      const result = evaluatePreDeploy(alerts, options.policy);
      await options.onPoll?.({ poll: polls, elapsed_ms: elapsed, ok: result.ok, firing: result.firing });
      if (!result.ok) {
        return { ok: false, alert: firstBlocking(result, options.policy.blockingAlerts), blocking: result.blocking, polls, failed_polls: failed, watched_ms: elapsed, stopped_early: true };
      }
    } else {
      await options.onPoll?.({ poll: polls, elapsed_ms: elapsed, ok: false, firing: 0, error: lastError!.message });
    }
    if (elapsed >= options.windowMs) break;
    await sleep(Math.min(options.intervalMs, options.windowMs - elapsed), options.signal);
  }
  if (failed === polls) {
    throw new ToolError(lastError!.code, `no alert poll succeeded during the watch (${polls} poll(s)): ${lastError!.message}`, {
      hint: 'the environment was not watched: check Prometheus and watch again',
      ...(lastError!.retryAfter !== undefined ? { retryAfter: lastError!.retryAfter } : {}),
    });
  }
  return { ok: true, alert: null, blocking: [], polls, failed_polls: failed, watched_ms: Date.now() - started, stopped_early: false };
}
