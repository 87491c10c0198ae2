import type { HealthUrlConfig } from '../config.js';
import { certificateFailure } from '../integrations/http-errors.js';

export interface HealthCheckResult {
  url: string;
  ok: boolean;
  /** HTTP status of the last attempt; null when no answer came. */
  status: number | null;
  attempts: number;
  duration_ms: number;
  /** Value found at json_field, when one is configured. */
  json_value?: unknown;
  /** Why the last attempt did not pass. */
  error?: string;
}

export interface CheckOptions {
  timeoutMs: number;
  retries: number;
  retryDelayMs: number;
  signal: AbortSignal;
  /** fetch with the configured CA trust (default: Node's). */
  fetch?: typeof fetch;
}

function fieldAt(body: unknown, path: string): { found: boolean; value?: unknown } {
  let current: unknown = body;
  for (const key of path.split('.')) {
    if (current === null || typeof current !== 'object' || !(key in (current as Record<string, unknown>))) return { found: false };
    current = (current as Record<string, unknown>)[key];
  }
  return { found: true, value: current };
}

/** user:password@ in a URL never reaches a result (fetch also quotes the URL it refuses in its error). */
const withoutCredentials = (text: string) => text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^/\s@]+@/gi, '$1***@');

async function attempt(target: HealthUrlConfig, options: CheckOptions): Promise<Omit<HealthCheckResult, 'attempts' | 'duration_ms'>> {
  const shown = withoutCredentials(target.url);
  const signal = AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs)]);
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(target.url, { signal, headers: { accept: 'application/json' }, redirect: 'manual' });
  } catch (error) {
    options.signal.throwIfAborted();
    const timedOut = (error as Error).name === 'TimeoutError';
    const certificate = certificateFailure(error, 'the server');
    if (certificate) return { url: shown, ok: false, status: null, error: `${certificate.message}; ${certificate.hint}` };
    return { url: shown, ok: false, status: null, error: timedOut ? `no answer within ${options.timeoutMs} ms` : `request failed: ${withoutCredentials((error as Error).message)}` };
  }
  const text = await response.text().catch(() => '');
  const base = { url: shown, status: response.status };
  if (response.status !== target.expect_status) return { ...base, ok: false, error: `status ${response.status}, expected ${target.expect_status}` };
  if (!target.json_field) return { ...base, ok: true };
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { ...base, ok: false, error: `body is not JSON, expected a field ${target.json_field}` };
  }
  const field = fieldAt(body, target.json_field);
  if (!field.found) return { ...base, ok: false, error: `JSON has no field ${target.json_field}` };
  if (target.expect_value !== undefined && field.value !== target.expect_value) {
    return { ...base, ok: false, json_value: field.value, error: `${target.json_field} is ${JSON.stringify(field.value)}, expected ${JSON.stringify(target.expect_value)}` };
  }
  return { ...base, ok: true, json_value: field.value };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
}

/** Call a configured health URL until it passes or the retries run out. */
export async function checkHealthUrl(target: HealthUrlConfig, options: CheckOptions): Promise<HealthCheckResult> {
  const started = Date.now();
  let last: Omit<HealthCheckResult, 'attempts' | 'duration_ms'> | undefined;
  let attempts = 0;
  for (let i = 0; i <= options.retries; i++) {
    if (i > 0) await sleep(options.retryDelayMs, options.signal);
    attempts++;
    last = await attempt(target, options);
    if (last.ok) break;
  }
  return { ...last!, attempts, duration_ms: Date.now() - started };
}
