import { randomUUID } from 'node:crypto';
import { createMcpHandler, isInitializeRequest, isLegacyRequest, WebStandardStreamableHTTPServerTransport, type AuthInfo, type McpHttpHandler } from '@modelcontextprotocol/server';
import { savedPersona, savePersona } from '../memory/index.js';
import type { Principal } from '../principal.js';
import { samePrincipal } from './auth.js';
import { HttpProblem, type HttpContext } from './http-middleware.js';
import { McpSession, type PersonaStore } from './mcp.js';
import type { Runtime } from './runtime.js';

export interface LegacySessionLimits {
  /** Open 2025-era sessions at most; a new one past this is refused with 503. */
  max: number;
  /** A session with no request for this long (and none running) is closed. */
  idleMs: number;
}

interface OpenSession {
  transport: WebStandardStreamableHTTPServerTransport;
  session: McpSession;
  principal: Principal;
  lastSeen: number;
  /** Requests of this session still being answered: a session is never idle while one runs. */
  inFlight: number;
}

/** The principal rides in AuthInfo from the auth middleware to the server factory; never the token. */
function authInfoOf(principal: Principal): AuthInfo {
  return { token: 'verified-by-release-mcp', clientId: principal.subject, scopes: [principal.role], extra: { principal } };
}

function principalOf(authInfo: AuthInfo | undefined): Principal {
  const principal = authInfo?.extra?.principal as Principal | undefined;
  if (!principal) throw new Error('an MCP request reached the server without an authenticated principal');
  return principal;
}

/**
 * Streamable HTTP at /mcp, for both protocol eras on one endpoint:
 * - 2026-07-28 (modern): stateless. Every request gets its own McpSession from the SDK's
 *   per-request handler; what must outlive a request (the persona, runs, releases) is in the
 *   store, so any replica can serve any request without sticky sessions.
 * - 2025 (legacy): an McpSession per MCP session id, bound to the principal that created it,
 *   closed after `idleMs` without requests, and at most `max` open at once.
 */
export class McpHttp {
  private readonly sessions = new Map<string, OpenSession>();
  private readonly modern: McpHttpHandler;
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly runtime: Runtime,
    private readonly limits: LegacySessionLimits,
    maxBodyBytes: number,
  ) {
    const personaStore: PersonaStore = { save: (principal, persona) => savePersona(runtime.memory, principal, persona) };
    this.modern = createMcpHandler(
      async ({ authInfo }) => {
        const principal = principalOf(authInfo);
        const saved = await savedPersona(runtime.memory, principal);
        // A persona removed from the config since it was loaded falls back to the default.
        const persona = saved && runtime.personas.has(saved) ? saved : undefined;
        return new McpSession(runtime, { principal, era: 'modern', persona, personaStore, onListsChanged: () => this.notifyListsChanged() }).server;
      },
      { legacy: 'reject', maxRequestBodySize: maxBodyBytes, onerror: (error) => runtime.logger.warn('mcp request refused', { message: error.message }) },
    );
    this.sweeper = setInterval(() => void this.closeIdle(), Math.min(60_000, Math.max(1_000, limits.idleMs / 4)));
    this.sweeper.unref();
  }

  /** Open subscriptions/listen streams of this process hear that a persona change changed both lists. */
  private notifyListsChanged(): void {
    this.modern.notify.toolsChanged();
    this.modern.notify.resourcesChanged();
  }

  /** Open 2025-era sessions. */
  get size(): number {
    return this.sessions.size;
  }

  /** A request to /mcp, once authenticated (`principal`) and, for POST, read (`body`). */
  readonly handle = async (c: HttpContext): Promise<Response> => {
    const principal = c.get('principal');
    const id = c.req.header('mcp-session-id');
    if (c.req.method === 'POST') {
      const body = c.get('body');
      if (!id && !(await isLegacyRequest(c.req.raw, body))) return this.modern.fetch(c.req.raw, { parsedBody: body, authInfo: authInfoOf(principal) });
      const existing = this.sessionOf(id, principal);
      if (existing) return this.serve(existing, c.req.raw, body);
      if (id) throw new HttpProblem(404, 'session not found: start a new session with initialize');
      if (!isInitializeRequest(body)) throw new HttpProblem(400, 'no session: the first request must be initialize');
      return this.open(principal, c.req.raw, body);
    }
    if (c.req.method === 'GET' || c.req.method === 'DELETE') {
      const existing = this.sessionOf(id, principal);
      if (!existing) throw new HttpProblem(id ? 404 : 400, id ? 'session not found' : 'missing mcp-session-id header');
      return this.serve(existing, c.req.raw);
    }
    throw new HttpProblem(405, `method ${c.req.method} not allowed`, { allow: 'GET, POST, DELETE' });
  };

  /** Another principal's session id is answered as unknown: a session never changes hands. */
  private sessionOf(id: string | undefined, principal: Principal): OpenSession | undefined {
    const found = id ? this.sessions.get(id) : undefined;
    return found && samePrincipal(found.principal, principal) ? found : undefined;
  }

  private async serve(open: OpenSession, request: Request, body?: unknown): Promise<Response> {
    open.lastSeen = Date.now();
    open.inFlight += 1;
    try {
      return await open.transport.handleRequest(request, body === undefined ? undefined : { parsedBody: body });
    } finally {
      open.inFlight -= 1;
      open.lastSeen = Date.now();
    }
  }

  private async open(principal: Principal, request: Request, body: unknown): Promise<Response> {
    if (this.sessions.size >= this.limits.max) await this.closeIdle();
    if (this.sessions.size >= this.limits.max) {
      this.runtime.logger.warn('mcp session refused: limit reached', { max: this.limits.max });
      throw new HttpProblem(
        503,
        `too many open MCP sessions (${this.limits.max}, http.legacy_sessions.max): close unused clients, wait for idle sessions to close (after ${Math.round(this.limits.idleMs / 60_000)} min), or connect with protocol 2026-07-28, which needs no session`,
        { 'retry-after': '60' },
      );
    }
    const session = new McpSession(this.runtime, { principal });
    const transport: WebStandardStreamableHTTPServerTransport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (newId) => {
        this.sessions.set(newId, { transport, session, principal, lastSeen: Date.now(), inFlight: 0 });
      },
    });
    transport.onclose = () => {
      if (transport.sessionId) this.sessions.delete(transport.sessionId);
    };
    await session.server.connect(transport);
    return transport.handleRequest(request, { parsedBody: body });
  }

  /** Close sessions idle past the limit; their clients get 404 next and start a new session. */
  async closeIdle(now = Date.now()): Promise<number> {
    // A tool call answered over SSE runs after its request was handed over: the session's own count says so.
    const idle = [...this.sessions.entries()].filter(([, open]) => {
      const { running, lastEnded } = open.session.calls;
      return open.inFlight === 0 && running === 0 && now - Math.max(open.lastSeen, lastEnded) >= this.limits.idleMs;
    });
    for (const [id, open] of idle) {
      this.sessions.delete(id);
      await closeSession(open);
      this.runtime.logger.info('mcp session closed after being idle', { idle_minutes: Math.round((now - open.lastSeen) / 60_000), subject: open.principal.subject });
    }
    return idle.length;
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    await this.modern.close().catch(() => undefined);
    for (const open of this.sessions.values()) await closeSession(open);
    this.sessions.clear();
  }
}

async function closeSession(open: OpenSession): Promise<void> {
  await open.transport.close().catch(() => undefined);
  await open.session.close();
}
