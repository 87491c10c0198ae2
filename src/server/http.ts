import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { Principal } from '../principal.js';
import { recordEvent, updateEventDetails } from '../releases/index.js';
import { DEFAULT_AUTH_FAILURE_LIMITS, FailureBuckets, RefusalAudit, type AuthFailureLimits, type RefusalWindow } from './auth-failures.js';
import { authenticate, localPrincipal, samePrincipal, singleTokenEntry, type TokenEntry } from './auth.js';
import { healthReport } from './health.js';
import { McpSession } from './mcp.js';
import { PROMETHEUS_CONTENT_TYPE, renderMetrics } from './metrics.js';
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

class HttpProblem extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

function jsonRpcError(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { jsonrpc: '2.0', error: { code: -32000, message }, id: null }, headers);
}

async function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new HttpProblem(413, `request body over ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpProblem(400, 'request body is not valid JSON');
  }
}

/** Hosts a loopback server answers to: anything else is a DNS-rebinding attempt. */
function defaultAllowedHosts(host: string, port: number): string[] {
  const names = isLoopback(host) ? ['127.0.0.1', 'localhost', '[::1]'] : [host];
  return names.flatMap((name) => [name, `${name}:${port}`]);
}

/**
 * Streamable HTTP at /mcp with one McpSession per MCP session id, plus GET /health and
 * GET /metrics. Each request is authenticated to a principal (role, tenant); a session stays
 * bound to the principal that created it. Refuses to start on a non-loopback address without a token.
 */
export async function serveHttp(runtime: Runtime, options: HttpOptions): Promise<HttpHandle> {
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
  const local = localPrincipal(runtime.config);
  const sessions = new Map<string, { transport: StreamableHTTPServerTransport; session: McpSession; principal: Principal }>();
  const maxBody = options.maxBodyBytes ?? 4 * 1024 * 1024;
  let allowedHosts: Set<string> | undefined;
  let allowedOrigins: Set<string> | undefined;

  const checkHostAndOrigin = (req: IncomingMessage) => {
    const host = req.headers.host;
    if (allowedHosts && (!host || !allowedHosts.has(host.toLowerCase()))) throw new HttpProblem(403, `host ${host ?? '(none)'} is not allowed`);
    const origin = req.headers.origin;
    if (origin && allowedOrigins && !allowedOrigins.has(origin.toLowerCase())) throw new HttpProblem(403, `origin ${origin} is not allowed`);
  };

  const anonymous: Principal = { role: 'viewer', tenant: runtime.config.releases.default_tenant, subject: 'anonymous' };
  const detailsOf = (w: RefusalWindow) => ({ path: w.path, reason: w.reason, remote: w.address, minute: w.minute, count: w.count, rate_limited: w.rate_limited });
  // Auditing must not turn a 401 into a 500: a failed write is logged, the request is still refused.
  const audited = async <T>(write: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await write();
    } catch (error) {
      runtime.logger.warn('cannot record a refused request', { message: (error as Error).message });
      return undefined;
    }
  };
  const refusals = new RefusalAudit({
    insert: (w) => audited(() => recordEvent(runtime.memory, { event: 'access.refused', actor: anonymous, details: detailsOf(w) })),
    update: async (id, w) => void (await audited(() => updateEventDetails(runtime.memory, id, detailsOf(w)))),
  });
  const failures = new FailureBuckets(options.authFailureLimits ?? DEFAULT_AUTH_FAILURE_LIMITS);

  /**
   * The caller's principal; without configured tokens (loopback only) it is the local user. A
   * valid token always passes; an address that keeps failing gets 429 with Retry-After.
   */
  const principalOf = (req: IncomingMessage, path: string): Principal => {
    if (!tokens.length) return local;
    const principal = authenticate(req.headers.authorization, tokens);
    if (principal) return principal;
    const address = req.socket.remoteAddress ?? '';
    const retryAfter = failures.take(address, Date.now());
    refusals.record(address, new Date(), { path, reason: req.headers.authorization ? 'invalid bearer token' : 'missing bearer token', limited: retryAfter !== undefined });
    if (retryAfter !== undefined) throw new HttpProblem(429, 'too many failed authentications from this address', { 'retry-after': String(retryAfter) });
    throw new HttpProblem(401, 'missing or invalid bearer token', { 'www-authenticate': 'Bearer realm="release-mcp"' });
  };

  const handleMcp = async (req: IncomingMessage, res: ServerResponse) => {
    const principal = principalOf(req, '/mcp');
    const sessionId = req.headers['mcp-session-id'];
    const id = Array.isArray(sessionId) ? sessionId[0] : sessionId;
    // Another principal's session id is answered as unknown: a session never changes hands.
    const found = id ? sessions.get(id) : undefined;
    const existing = found && samePrincipal(found.principal, principal) ? found : undefined;
    if (req.method === 'POST') {
      const body = await readJsonBody(req, maxBody);
      if (existing) return existing.transport.handleRequest(req, res, body);
      if (id) throw new HttpProblem(404, 'session not found: start a new session with initialize');
      if (!isInitializeRequest(body)) throw new HttpProblem(400, 'no session: the first request must be initialize');
      const session = new McpSession(runtime, { principal });
      const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (newId) => {
          sessions.set(newId, { transport, session, principal });
        },
      });
      transport.onclose = () => {
        if (transport.sessionId) sessions.delete(transport.sessionId);
      };
      await session.server.connect(transport);
      return transport.handleRequest(req, res, body);
    }
    if (req.method === 'GET' || req.method === 'DELETE') {
      if (!existing) throw new HttpProblem(id ? 404 : 400, id ? 'session not found' : 'missing mcp-session-id header');
      return existing.transport.handleRequest(req, res);
    }
    throw new HttpProblem(405, `method ${req.method} not allowed`, { allow: 'GET, POST, DELETE' });
  };

  const server: HttpServer = createHttpServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    void (async () => {
      try {
        checkHostAndOrigin(req);
        if (path === '/health' && req.method === 'GET') return sendJson(res, 200, await healthReport(runtime, sessions.size));
        if (path === '/metrics' && req.method === 'GET') {
          principalOf(req, '/metrics');
          res.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE }).end(await renderMetrics(runtime.memory, runtime.metrics, runtime.config.skills.lease_ms));
          return;
        }
        if (path === '/mcp') return await handleMcp(req, res);
        throw new HttpProblem(404, `no route ${req.method} ${path}`);
      } catch (error) {
        if (res.headersSent) return void res.end();
        if (error instanceof HttpProblem) return jsonRpcError(res, error.status, error.message, error.headers);
        runtime.logger.error('http request failed', { path, message: (error as Error).message });
        return jsonRpcError(res, 500, 'internal server error');
      }
    })();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const hostList = options.allowedHosts?.length ? options.allowedHosts : isLoopback(options.host) ? defaultAllowedHosts(options.host, port) : [];
  allowedHosts = hostList.length ? new Set(hostList.map((h) => h.toLowerCase())) : undefined;
  // A browser page from any other origin must not drive the server (DNS rebinding, CSRF). Off
  // loopback the configured host names are the allowed origins too (behind a proxy: https://name).
  const originList = options.allowedOrigins?.length
    ? options.allowedOrigins
    : options.allowedHosts?.length
      ? options.allowedHosts.flatMap((h) => [`http://${h}`, `https://${h}`])
      : hostList.filter((h) => h.includes(':') && !h.endsWith(']')).flatMap((h) => [`http://${h}`, `https://${h}`]);
  if (!hostList.length) runtime.logger.warn('Host and Origin headers are not checked off loopback: set http.allowed_hosts to the names clients use', { host: options.host });
  allowedOrigins = originList.length ? new Set(originList.map((o) => o.toLowerCase())) : undefined;

  const displayHost = options.host.includes(':') ? `[${options.host}]` : options.host;
  const url = `http://${displayHost}:${port}/mcp`;
  runtime.logger.info('release-mcp serving on http', { url, persona: runtime.defaultPersona, auth: tokens.length ? `bearer (${tokens.length} token(s))` : 'none' });

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      for (const { transport, session } of sessions.values()) {
        await transport.close().catch(() => undefined);
        await session.close();
      }
      sessions.clear();
      await refusals.flush();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await runtime.close();
    })());
  return { url, port, close };
}
