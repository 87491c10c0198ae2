import { ToolError } from '../errors.js';

/** What a status mapping needs to know besides the status. */
export interface StatusContext {
  /** Service name as users know it: "GitLab", "Jira", "Quay", "Konflux". */
  service: string;
  /** What was asked for, e.g. "merge request !12 of group/app". */
  what?: string;
  /** A short message from the response body (never a token). */
  body?: string;
  /** The raw Retry-After header value, seconds or an HTTP date. */
  retryAfter?: string | number | null;
  /** How to fix a 401: log in again, or which variable must hold a valid token. */
  authHint?: string;
  details?: Record<string, unknown>;
}

/** The 401 hint for a service whose credential is an environment variable. */
export function tokenHint(envVar: string, service: string): string {
  return `check that ${envVar} holds a valid, unexpired token for ${service}`;
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
export function statusToToolError(status: number, context: StatusContext, cause?: unknown): ToolError {
  const { service } = context;
  const detail = context.body ? `: ${clip(context.body)}` : '';
  const what = context.what ? ` (${context.what})` : '';
  const options = { cause, details: { status, ...context.details } };
  if (status === 401) {
    return new ToolError('auth', `${service} rejected the credentials (401)${what}${detail}`, {
      ...options,
      hint: context.authHint ?? `check the ${service} credentials`,
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
      hint: 'check the name, key or id; a private resource also answers 404 when the credentials cannot see it',
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
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'EAI_AGAIN', 'EPIPE', 'UND_ERR_SOCKET']);

/** The system error code (ECONNREFUSED...) of a failed request, looking through `cause` and `errors`. */
export function systemErrorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; current && typeof current === 'object' && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z_]+$/.test(code)) return code;
    const errors = (current as { errors?: unknown[] }).errors;
    current = Array.isArray(errors) && errors.length ? errors[0] : (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** OpenSSL and Node codes of a server certificate that could not be verified, with what is wrong. */
const CERTIFICATE_CODES: Record<string, string> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'it is signed by a CA this process does not trust',
  UNABLE_TO_GET_ISSUER_CERT: 'it is signed by a CA this process does not trust',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'it is signed by a CA this process does not trust',
  SELF_SIGNED_CERT_IN_CHAIN: 'its chain ends in a self-signed CA this process does not trust',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'it is self-signed and not trusted',
  CERT_UNTRUSTED: 'it is not trusted',
  CERT_SIGNATURE_FAILURE: 'its signature does not verify',
  CERT_HAS_EXPIRED: 'it has expired',
  CERT_NOT_YET_VALID: 'it is not valid yet',
  ERR_TLS_CERT_ALTNAME_INVALID: 'it is not issued for this host name',
};

/** The hint of a certificate failure: the settings that add a private CA, or what to fix on the server. */
function certificateHint(code: string, service: string): string {
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') return `the server's certificate must be renewed (check also this machine's clock); tls.ca_file only adds trusted CAs`;
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `use the host name the certificate is issued for in the ${service} URL; tls.ca_file only adds trusted CAs`;
  return `if ${service} uses a private CA, set tls.ca_file in config (or NODE_EXTRA_CA_CERTS) to its CA certificate in PEM`;
}

/** A request that failed because the server's certificate could not be verified: what is wrong and what to set. */
export function certificateFailure(error: unknown, service: string, caHint?: string): { code: string; message: string; hint: string } | undefined {
  const code = systemErrorCode(error);
  if (code === undefined || !CERTIFICATE_CODES[code]) return undefined;
  const trustProblem = !['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'ERR_TLS_CERT_ALTNAME_INVALID'].includes(code);
  return {
    code,
    message: `certificate failure: ${service} presented a TLS certificate that cannot be verified (${code}: ${CERTIFICATE_CODES[code]})`,
    hint: trustProblem && caHint ? caHint : certificateHint(code, service),
  };
}

export interface FailureContext {
  service: string;
  what?: string;
  timeoutMs?: number;
  /** The caller's own signal was aborted. */
  cancelled?: boolean;
  /** Our timeout signal fired. */
  timedOut?: boolean;
  /** What to check when the service cannot be reached (VPN, URL). */
  networkHint?: string;
  /** Where this client's CA comes from, when not only from tls.ca_file (a kubeconfig). */
  caHint?: string;
}

/**
 * A request that got no HTTP answer: the caller's cancel, a timeout, a refused or dropped
 * connection, a DNS failure. Anything else is `upstream` with the underlying message.
 */
/** user:password@ in a URL (fetch quotes the URL it refuses) never reaches a message. */
export function withoutUrlCredentials(text: string): string {
  return text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^/\s@]+@/gi, '$1***@');
}

export function requestFailureToToolError(error: unknown, context: FailureContext): ToolError {
  if (error instanceof ToolError) return error;
  const { service } = context;
  const what = context.what ? ` for ${context.what}` : '';
  const name = error instanceof Error ? error.name : '';
  const message = withoutUrlCredentials(error instanceof Error ? error.message : String(error));
  const code = systemErrorCode(error);
  if (context.cancelled) return new ToolError('cancelled', `the ${service} request${what} was cancelled`, { cause: error });
  const certificate = certificateFailure(error, service, context.caHint);
  if (certificate) return new ToolError('network', `${certificate.message}${what}`, { cause: error, hint: certificate.hint, details: { code: certificate.code, certificate: true } });
  if (context.timedOut || name === 'TimeoutError' || (code !== undefined && TIMEOUT_CODES.has(code)) || /timed? ?out/i.test(message)) {
    return new ToolError('timeout', `${service} did not answer${context.timeoutMs ? ` within ${context.timeoutMs} ms` : ' in time'}${what}`, {
      cause: error,
      hint: `retry; if it keeps happening check the service, or raise ${service.toLowerCase()}.timeout_ms in config`,
    });
  }
  if (name === 'AbortError') return new ToolError('cancelled', `the ${service} request${what} was cancelled`, { cause: error });
  if ((code !== undefined && NETWORK_CODES.has(code)) || name === 'FetchError' || (error instanceof TypeError && /fetch failed/i.test(message))) {
    return new ToolError('network', `cannot reach ${service}${code ? ` (${code})` : ''}${what}: ${clip(message, 200)}`, {
      cause: error,
      hint: context.networkHint ?? `check the ${service} URL in config, the network and any VPN`,
      ...(code ? { details: { code } } : {}),
    });
  }
  if (/URL that includes credentials/i.test(message)) {
    return new ToolError('config', `${service} request failed${what}: ${clip(message, 200)}`, {
      cause: error,
      hint: `remove user:password@ from the ${service} URL in config; give the token through its environment variable instead`,
    });
  }
  return new ToolError('upstream', `${service} request failed${what}: ${clip(message, 200)}`, { cause: error });
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

/**
 * One call of an API client: rate limits waited out (never past the call's timeout), and any
 * failure turned into a ToolError by the client's own mapping.
 */
export function callWithin<T>(timeoutMs: number, run: () => Promise<T>, toError: (error: unknown) => ToolError): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  return withRateLimitRetry(async () => {
    try {
      return await run();
    } catch (error) {
      throw toError(error);
    }
  }, { deadline });
}
