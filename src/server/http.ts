import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { Hono } from 'hono';
import type { Server as HttpServer } from 'node:http';
import type { Principal } from '../principal.js';
import { recordEvent, updateEventDetails } from '../releases/index.js';
import { DEFAULT_AUTH_FAILURE_LIMITS, FailureBuckets, RefusalAudit, type AuthFailureLimits, type RefusalWindow } from './auth-failures.js';
import { localPrincipal, singleTokenEntry, type TokenEntry } from './auth.js';
import { healthReport } from './health.js';
import { bearerAuth, HttpProblem, hostAndOrigin, jsonBody, principalOf, readJsonBody, type BearerAuth, type HostRules, type HttpContext, type HttpEnv } from './http-middleware.js';
import { McpHttp } from './mcp-http.js';
import { PROMETHEUS_CONTENT_TYPE, renderMetrics } from './metrics.js';
import { REST_PREFIX, restApi, restError, type RestApi } from './rest-api.js';
import type { Runtime } from './runtime.js';

export interface HttpOptions {
  host: string;
  port: number;
  /** Bearer token; required when binding a non-loopback address. */
  token?: string;
  allowedHosts?: string[];
  allowedOrigins?: string[];
  maxBodyBytes?: number;
  /** How many failed authentications an address may make before 429 (default 20 at once, then 1 per second). */
  authFailureLimits?: AuthFailureLimits;
  /** How long POST /api/releases/promote waits before answering 202 (default config http.promote_wait_ms). */
  promoteWaitMs?: number;
}

/** Bearer tokens shorter than this are refused at start: they can be guessed. */
export const MIN_TOKEN_LENGTH = 16;

export interface HttpHandle {
  url: string;
  port: number;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Hosts a loopback server answers to: anything else is a DNS-rebinding attempt. */
function defaultAllowedHosts(host: string, port: number): string[] {
  const names = isLoopback(host) ? ['127.0.0.1', 'localhost', '[::1]'] : [host];
  return names.flatMap((name) => [name, `${name}:${port}`]);
}

/** The bearer tokens in force; refuses short tokens and an open non-loopback bind. */
function checkedTokens(runtime: Runtime, options: HttpOptions): TokenEntry[] {
  const enabled = new Set(runtime.httpTokens.map((t) => t.principal.subject));
  for (const spec of runtime.config.http.tokens) {
    if (!enabled.has(`token:${spec.env}`)) runtime.logger.warn('http token variable is not set; that token is disabled', { env: spec.env });
  }
  const tokens: TokenEntry[] = [...(options.token ? [singleTokenEntry(runtime.config, options.token)] : []), ...runtime.httpTokens];
  for (const entry of tokens) {
    if (entry.token.length < MIN_TOKEN_LENGTH) {
      const source = entry.principal.subject.replace(/^token:/, '');
      throw new Error(`refusing a bearer token shorter than ${MIN_TOKEN_LENGTH} characters (${source}${source === 'RELEASE_MCP_HTTP_TOKEN' ? ' or --http-token' : ''}): make one with \`openssl rand -hex 32\``);
    }
  }
  if (!isLoopback(options.host) && !tokens.length) {
    throw new Error(`refusing to bind ${options.host} without a bearer token: pass --http-token, set RELEASE_MCP_HTTP_TOKEN, or configure http.tokens`);
  }
  return tokens;
}

/** Failed authentications are audited per address and minute; auditing never turns a 401 into a 500. */
function refusalAudit(runtime: Runtime): RefusalAudit {
  const anonymous: Principal = { role: 'viewer', tenant: runtime.config.releases.default_tenant, subject: 'anonymous' };
  const detailsOf = (w: RefusalWindow) => ({ path: w.path, reason: w.reason, remote: w.address, minute: w.minute, count: w.count, rate_limited: w.rate_limited });
  const audited = async <T>(write: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await write();
    } catch (error) {
      runtime.logger.warn('cannot record a refused request', { message: (error as Error).message });
      return undefined;
    }
  };
  return new RefusalAudit({
    insert: (w) => audited(() => recordEvent(runtime.memory, { event: 'access.refused', actor: anonymous, details: detailsOf(w) })),
    update: async (id, w) => void (await audited(() => updateEventDetails(runtime.memory, id, detailsOf(w)))),
  });
}

function jsonRpcError(c: HttpContext, status: number, message: string, headers: Record<string, string> = {}): Response {
  return c.json({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }, status as 400, headers);
}

/** Errors as JSON: the REST envelope under /api, a JSON-RPC error elsewhere (/mcp); never internals. */
function errorResponse(runtime: Runtime, c: HttpContext, error: unknown): Response {
  if (c.env.outgoing.headersSent) {
    c.env.outgoing.end();
    return RESPONSE_ALREADY_SENT;
  }
  const rest = c.req.path === REST_PREFIX || c.req.path.startsWith(`${REST_PREFIX}/`);
  if (rest) return restError(runtime, c, error);
  if (error instanceof HttpProblem) return jsonRpcError(c, error.status, error.message, error.headers);
  runtime.logger.error('http request failed', { path: c.req.path, message: (error as Error).message });
  return jsonRpcError(c, 500, 'internal server error');
}

interface App {
  app: Hono<HttpEnv>;
  sessions: McpHttp;
  rest: RestApi;
}

/** Host/origin first, then each route with the auth it needs, then the body size limit. */
function buildApp(runtime: Runtime, options: HttpOptions, auth: BearerAuth, hostRules: HostRules): App {
  const app = new Hono<HttpEnv>();
  const maxBody = options.maxBodyBytes ?? 4 * 1024 * 1024;
  const { max, idle_minutes } = runtime.config.http.legacy_sessions;
  const sessions = new McpHttp(runtime, { max, idleMs: idle_minutes * 60_000 }, maxBody);
  // After authentication: an unauthenticated client never gets the server to read its body.
  const readBody = jsonBody(maxBody);
  const rest = restApi(runtime, { auth, readBody, promoteWaitMs: options.promoteWaitMs ?? runtime.config.http.promote_wait_ms });

  app.onError((error, c) => errorResponse(runtime, c, error));
  app.notFound((c) => errorResponse(runtime, c, new HttpProblem(404, `no route ${c.req.method} ${c.req.path}`)));
  app.use(hostAndOrigin(hostRules));

  app.get('/health', async (c) => c.json(await healthReport(runtime, sessions.size)));
  app.get('/metrics', bearerAuth(auth, '/metrics'), async (c) =>
    c.body(await renderMetrics(runtime.memory, runtime.metrics, runtime.config.skills.lease_ms), 200, { 'content-type': PROMETHEUS_CONTENT_TYPE }),
  );
  // Authentication and the body in the handler, not as two middleware: every MCP call passes
  // here, and each middleware level costs it a promise and a closure.
  app.all('/mcp', async (c) => {
    c.set('principal', principalOf(auth, c, '/mcp'));
    if (c.req.method === 'POST') c.set('body', await readJsonBody(c, maxBody));
    return sessions.handle(c);
  });
  app.route(REST_PREFIX, rest.app);
  return { app, sessions, rest };
}

/**
 * Hono on Node (@hono/node-server): Streamable HTTP at /mcp (both protocol eras), GET /health, GET /metrics and the
 * REST API under /api. Each request is authenticated to a principal (role, tenant); an MCP
 * session stays bound to the principal that created it. Refuses to start on a non-loopback
 * address without a token.
 */
export async function serveHttp(runtime: Runtime, options: HttpOptions): Promise<HttpHandle> {
  const tokens = checkedTokens(runtime, options);
  const auth: BearerAuth = {
    tokens,
    local: localPrincipal(runtime.config),
    failures: new FailureBuckets(options.authFailureLimits ?? DEFAULT_AUTH_FAILURE_LIMITS),
    refusals: refusalAudit(runtime),
  };
  const hostRules: HostRules = { hosts: undefined, origins: undefined };
  const { app, sessions, rest } = buildApp(runtime, options, auth, hostRules);
  // Global Request/Response stay the platform's: the SDK and tests in this process use them too.
  const server = createAdaptorServer({ fetch: app.fetch, overrideGlobalObjects: false }) as HttpServer;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const hostList = options.allowedHosts?.length ? options.allowedHosts : isLoopback(options.host) ? defaultAllowedHosts(options.host, port) : [];
  hostRules.hosts = hostList.length ? new Set(hostList.map((h) => h.toLowerCase())) : undefined;
  // A browser page from any other origin must not drive the server (DNS rebinding, CSRF). Off
  // loopback the configured host names are the allowed origins too (behind a proxy: https://name).
  const originList = options.allowedOrigins?.length
    ? options.allowedOrigins
    : options.allowedHosts?.length
      ? options.allowedHosts.flatMap((h) => [`http://${h}`, `https://${h}`])
      : hostList.filter((h) => h.includes(':') && !h.endsWith(']')).flatMap((h) => [`http://${h}`, `https://${h}`]);
  if (!hostList.length) runtime.logger.warn('Host and Origin headers are not checked off loopback: set http.allowed_hosts to the names clients use', { host: options.host });
  hostRules.origins = originList.length ? new Set(originList.map((o) => o.toLowerCase())) : undefined;

  const displayHost = options.host.includes(':') ? `[${options.host}]` : options.host;
  const url = `http://${displayHost}:${port}/mcp`;
  runtime.logger.info('release-mcp serving on http', { url, persona: runtime.defaultPersona, auth: tokens.length ? `bearer (${tokens.length} token(s))` : 'none' });

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      await sessions.close();
      // A promotion answered 202 finishes before the memory closes: stopping it halfway would fail it.
      await rest.settle();
      await auth.refusals.flush();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await runtime.close();
    })());
  return { url, port, close };
}
