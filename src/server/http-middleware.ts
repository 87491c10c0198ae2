import type { Readable } from 'node:stream';
import type { HttpBindings } from '@hono/node-server';
import type { Context, MiddlewareHandler } from 'hono';
import type { Principal } from '../principal.js';
import { FailureBuckets, RefusalAudit } from './auth-failures.js';
import { authenticate, type TokenEntry } from './auth.js';

/** What every route of the HTTP server sees: the Node request/response and, once authenticated, the principal. */
export interface HttpEnv {
  Bindings: HttpBindings;
  Variables: { principal: Principal; body: unknown };
}

export type HttpContext = Context<HttpEnv>;

/** A refusal with its HTTP status: the error handler renders it as JSON-RPC (/mcp) or the REST envelope (/api). */
export class HttpProblem extends Error {
  override readonly name = 'HttpProblem';
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
    /** The REST error code (`invalid_input`, `forbidden`, ...). */
    readonly code: string = codeForStatus(status),
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export function codeForStatus(status: number): string {
  if (status === 400 || status === 413 || status === 415) return 'invalid_input';
  if (status === 401) return 'auth';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 405) return 'method_not_allowed';
  if (status === 409) return 'conflict';
  if (status === 429) return 'rate_limited';
  return 'internal';
}

/** Which Host and Origin headers are accepted; undefined means unchecked. Filled once the port is known. */
export interface HostRules {
  hosts: Set<string> | undefined;
  origins: Set<string> | undefined;
}

/** DNS-rebinding and cross-origin protection: a foreign Host or browser Origin is refused before anything runs. */
export function hostAndOrigin(rules: HostRules): MiddlewareHandler<HttpEnv> {
  // Not async, here and below: every request passes these, and an async wrapper costs it a promise.
  return (c, next) => {
    const host = c.req.header('host');
    if (rules.hosts && (!host || !rules.hosts.has(host.toLowerCase()))) throw new HttpProblem(403, `host ${host ?? '(none)'} is not allowed`);
    const origin = c.req.header('origin');
    if (origin && rules.origins && !rules.origins.has(origin.toLowerCase())) throw new HttpProblem(403, `origin ${origin} is not allowed`);
    return next();
  };
}

export interface BearerAuth {
  tokens: readonly TokenEntry[];
  /** The caller when no token is configured (loopback only): the local user. */
  local: Principal;
  failures: FailureBuckets;
  refusals: RefusalAudit;
}

/**
 * Bearer token -> principal (role, tenant), stored as `principal`. Without configured tokens
 * the caller is the local user. A valid token always passes; an address that keeps failing gets
 * 429 with Retry-After, and every refusal counts in the aggregated `access.refused` audit.
 * `path` names the route in the audit (one row per address, minute, path and reason).
 */
export function bearerAuth(auth: BearerAuth, path: string): MiddlewareHandler<HttpEnv> {
  return (c, next) => {
    c.set('principal', principalOf(auth, c, path));
    return next();
  };
}

/** The caller of this request (see bearerAuth), or a 401/429 HttpProblem. */
export function principalOf(auth: BearerAuth, c: HttpContext, path: string): Principal {
  if (!auth.tokens.length) return auth.local;
  const header = c.req.header('authorization');
  const principal = authenticate(header, auth.tokens);
  if (principal) return principal;
  const address = c.env.incoming.socket.remoteAddress ?? '';
  const retryAfter = auth.failures.take(address, Date.now());
  auth.refusals.record(address, new Date(), { path, reason: header ? 'invalid bearer token' : 'missing bearer token', limited: retryAfter !== undefined });
  if (retryAfter !== undefined) throw new HttpProblem(429, 'too many failed authentications from this address', { 'retry-after': String(retryAfter) });
  throw new HttpProblem(401, 'missing or invalid bearer token', { 'www-authenticate': 'Bearer realm="release-mcp"' });
}

/**
 * The request body as JSON, read straight from the Node request (no web-stream conversion on the
 * hot /mcp path) and stored as `body`: over `maxBytes` is 413 (by Content-Length before reading),
 * anything but JSON is 400, whatever content type it claims (`curl -d` says form-urlencoded).
 */
export function jsonBody(maxBytes: number): MiddlewareHandler<HttpEnv> {
  return async (c, next) => {
    if (c.req.method === 'POST') c.set('body', await readJsonBody(c, maxBytes));
    await next();
  };
}

/** The JSON body of a request (see jsonBody), or a 400/413 HttpProblem. */
export async function readJsonBody(c: HttpContext, maxBytes: number): Promise<unknown> {
  const tooLarge = () => new HttpProblem(413, `request body over ${maxBytes} bytes`);
  const declared = Number(c.req.header('content-length'));
  if (declared > maxBytes) throw tooLarge();
  const text = await readText(c.env.incoming, maxBytes, tooLarge);
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpProblem(400, text.trim() ? 'request body is not valid JSON' : 'request body is empty: expected a JSON object');
  }
}

/**
 * The whole of a request body as UTF-8, refused past `maxBytes` while it arrives. Events, not an
 * async iterator: one promise per body instead of one per chunk. Past the limit the rest is no
 * longer kept: it is dropped as it arrives, as Node drops any body a handler leaves unread.
 */
function readText(incoming: Readable, maxBytes: number, tooLarge: () => Error): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = () => {
      incoming.off('data', onData);
      incoming.off('end', onEnd);
      incoming.off('error', onError);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) return void chunks.push(chunk);
      stop();
      incoming.resume();
      reject(tooLarge());
    };
    const onEnd = () => {
      stop();
      resolve(Buffer.concat(chunks, size).toString('utf8'));
    };
    const onError = (error: Error) => {
      stop();
      reject(error);
    };
    incoming.on('data', onData);
    incoming.once('end', onEnd);
    incoming.once('error', onError);
  });
}
