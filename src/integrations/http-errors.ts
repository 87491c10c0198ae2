import { ToolError } from '../errors.js';

/** What a status mapping needs to know besides the status. */
export interface StatusContext {
  /** Service name as users know it: "GitLab", "Jira", "Slack". */
  service: string;
  /** A short message from the response body (never a token). */
  body?: string;
  /** The raw Retry-After header value, seconds or an HTTP date. */
  retryAfter?: string | number | null;
  /** The env variable that holds the credential, named in the 401 hint. */
  authEnvVar?: string;
  /** What was asked for, e.g. "merge request !12 of group/app". */
  what?: string;
}

/** Retry-After as seconds: a number of seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | number | null | undefined, now = Date.now()): number | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - now) / 1000));
}

const clip = (text: string, max = 300) => (text.length > max ? `${text.slice(0, max)}…` : text);

/** One mapping of HTTP statuses to ToolError codes, shared by every HTTP integration. */
export function toolErrorFromStatus(status: number, context: StatusContext, cause?: unknown): ToolError {
  const { service } = context;
  const detail = context.body ? `: ${clip(context.body)}` : '';
  const what = context.what ? ` (${context.what})` : '';
  const options = { cause, details: { status } };
  if (status === 401) {
    return new ToolError('auth', `${service} rejected the credentials (401)${what}${detail}`, {
      ...options,
      hint: context.authEnvVar ? `check that ${context.authEnvVar} holds a valid, unexpired token for ${service}` : `check the ${service} credentials`,
    });
  }
  if (status === 403) {
    return new ToolError('forbidden', `${service} refused the request (403)${what}${detail}`, {
      ...options,
      hint: `the token is valid but lacks permission for this; ask for access or use a token with the needed scope`,
    });
  }
  if (status === 404) {
    return new ToolError('not_found', `${service} found nothing${what} (404)${detail}`, {
      ...options,
      hint: 'check the name, key or id; a private resource also answers 404 when the token cannot see it',
    });
  }
  if (status === 409) return new ToolError('conflict', `${service} reported a conflict (409)${what}${detail}`, options);
  if (status === 429) {
    const retryAfter = parseRetryAfter(context.retryAfter);
    return new ToolError('rate_limited', `${service} is rate limiting requests (429)${what}${detail}`, {
      ...options,
      hint: retryAfter === undefined ? 'wait a minute and retry' : `retry after ${retryAfter} s`,
      ...(retryAfter === undefined ? {} : { retryAfter }),
    });
  }
  if (status >= 500) {
    return new ToolError('upstream', `${service} failed with ${status}${what}${detail}`, {
      ...options,
      hint: `${service} is having trouble; retry later or check its status page`,
    });
  }
  return new ToolError('invalid_input', `${service} rejected the request (${status})${what}${detail}`, options);
}

const TIMEOUT_CODES = new Set(['ECONNABORTED', 'ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** A failure without an HTTP answer: a timeout, a refused or dropped connection, a DNS failure. */
export function toolErrorFromNetwork(error: unknown, service: string, timeoutMs?: number): ToolError {
  const name = error instanceof Error ? error.name : '';
  const message = error instanceof Error ? error.message : String(error);
  const code = errorCode(error);
  if (name === 'TimeoutError' || /timeout/i.test(name) || (code !== undefined && TIMEOUT_CODES.has(code)) || /timeout|timed out/i.test(message)) {
    return new ToolError('timeout', `${service} did not answer${timeoutMs ? ` within ${timeoutMs} ms` : ' in time'}`, {
      cause: error,
      hint: `retry; if it keeps happening raise the ${service.toLowerCase()} timeout_ms setting or check the network`,
    });
  }
  if (name === 'AbortError') return new ToolError('cancelled', `the ${service} request was cancelled`, { cause: error });
  return new ToolError('network', `could not reach ${service}${code ? ` (${code})` : ''}: ${clip(message, 200)}`, {
    cause: error,
    hint: `check the ${service} URL in config, the network and any VPN`,
  });
}

export interface RateLimitRetryOptions {
  /** Retries after the first 429 (default 2). */
  retries?: number;
  /** Longest single wait in seconds (default 30). */
  capSeconds?: number;
  /** Give up waiting when the wait would pass this point (ms since epoch). */
  deadline?: number;
  signal?: AbortSignal;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Run `attempt`; when it fails `rate_limited` with a Retry-After, wait that long (capped, and
 * never past the deadline) and try again, at most `retries` times. Other failures pass through.
 */
export async function withRateLimitRetry<T>(attempt: () => Promise<T>, options: RateLimitRetryOptions = {}): Promise<T> {
  const retries = options.retries ?? 2;
  const cap = options.capSeconds ?? 30;
  const wait = options.sleep ?? sleep;
  for (let round = 0; ; round++) {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof ToolError) || error.code !== 'rate_limited' || error.retryAfter === undefined || round >= retries) throw error;
      const ms = Math.min(error.retryAfter, cap) * 1000;
      if (options.deadline !== undefined && Date.now() + ms > options.deadline) throw error;
      await wait(ms, options.signal);
    }
  }
}
