import { ToolError, type ErrorCode } from '../errors.js';

/** What a status mapping needs to know about the service that answered. */
export interface StatusContext {
  /** Service name for messages, e.g. "Quay", "Konflux". */
  service: string;
  /** What was asked, e.g. `tag latest of ns/repo`. */
  what: string;
  /** Hint for 401: how to log in again or which token to set. */
  authHint: string;
  /** Message from the response body, when it had one. */
  upstreamMessage?: string;
  /** Retry-After header value. */
  retryAfter?: string | null;
  details?: Record<string, unknown>;
}

const CODE_BY_STATUS: Record<number, ErrorCode> = { 401: 'auth', 403: 'forbidden', 404: 'not_found', 409: 'conflict', 429: 'rate_limited' };

/** Seconds from a Retry-After header (delta-seconds or an HTTP date); undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}

/** Map an HTTP error status to the ToolError a tool reports. */
export function statusToToolError(status: number, ctx: StatusContext): ToolError {
  const code: ErrorCode = CODE_BY_STATUS[status] ?? (status >= 500 ? 'upstream' : status === 400 || status === 422 ? 'invalid_input' : 'upstream');
  const said = ctx.upstreamMessage ? `: ${ctx.upstreamMessage}` : '';
  const details = { status, ...ctx.details };
  switch (code) {
    case 'auth':
      return new ToolError('auth', `${ctx.service} rejected the credentials (401) for ${ctx.what}${said}`, { hint: ctx.authHint, details });
    case 'forbidden':
      return new ToolError('forbidden', `${ctx.service} denied access (403) to ${ctx.what}${said}`, {
        hint: 'the credentials are valid but lack permission: ask for access or use an account that has it',
        details,
      });
    case 'not_found':
      return new ToolError('not_found', `${ctx.service} has no ${ctx.what} (404)${said}`, { details });
    case 'conflict':
      return new ToolError('conflict', `${ctx.service} reported a conflict (409) for ${ctx.what}${said}`, { details });
    case 'rate_limited': {
      const retryAfter = parseRetryAfter(ctx.retryAfter);
      return new ToolError('rate_limited', `${ctx.service} is rate limiting requests (429) for ${ctx.what}`, {
        hint: retryAfter === undefined ? 'wait a little and retry' : `retry after ${retryAfter}s`,
        details,
        ...(retryAfter === undefined ? {} : { retryAfter }),
      });
    }
    case 'invalid_input':
      return new ToolError('invalid_input', `${ctx.service} rejected the request (${status}) for ${ctx.what}${said}`, { details });
    default:
      return new ToolError('upstream', `${ctx.service} failed (${status}) for ${ctx.what}${said}`, { hint: 'the service may be degraded: retry later', details });
  }
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'EAI_AGAIN', 'ETIMEDOUT', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT']);

/** The system error code (ECONNREFUSED...) of a fetch or node-fetch failure, looking through `cause`. */
export function systemErrorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z_]+$/.test(code)) return code;
    const errors = (current as { errors?: unknown[] }).errors;
    if (Array.isArray(errors) && errors.length) current = errors[0];
    else current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * Map a thrown request failure (no HTTP answer) to a ToolError: the caller's cancel, our own
 * timeout, or a network failure; anything else is returned undefined for the caller to handle.
 */
export function requestFailureToToolError(
  error: unknown,
  ctx: { service: string; what: string; timeoutMs: number; cancelled: boolean; timedOut: boolean; networkHint?: string },
): ToolError | undefined {
  if (ctx.cancelled) return new ToolError('cancelled', `the request to ${ctx.service} for ${ctx.what} was cancelled`, { cause: error });
  const name = (error as { name?: string } | undefined)?.name;
  if (ctx.timedOut || name === 'TimeoutError') {
    return new ToolError('timeout', `${ctx.service} did not answer within ${ctx.timeoutMs} ms for ${ctx.what}`, {
      hint: 'retry; if it keeps happening, check the service status or raise timeout_ms in config',
      cause: error,
    });
  }
  const code = systemErrorCode(error);
  if (code && NETWORK_CODES.has(code)) {
    return new ToolError('network', `cannot reach ${ctx.service} (${code}) for ${ctx.what}`, {
      hint: ctx.networkHint ?? 'check the URL in config and your network (VPN?)',
      details: { code },
      cause: error,
    });
  }
  if (name === 'FetchError' || (error instanceof TypeError && /fetch failed/i.test(error.message))) {
    return new ToolError('network', `cannot reach ${ctx.service} for ${ctx.what}: ${(error as Error).message}`, { hint: ctx.networkHint ?? 'check the URL in config and your network (VPN?)', cause: error });
  }
  return undefined;
}
