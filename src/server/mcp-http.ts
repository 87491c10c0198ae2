import { randomUUID } from 'node:crypto';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { Handler } from 'hono';
import type { Principal } from '../principal.js';
import { samePrincipal } from './auth.js';
import { HttpProblem, type HttpEnv } from './http-middleware.js';
import { McpSession } from './mcp.js';
import type { Runtime } from './runtime.js';

interface OpenSession {
  transport: WebStandardStreamableHTTPServerTransport;
  session: McpSession;
  principal: Principal;
}

/**
 * Streamable HTTP at /mcp: one McpSession per MCP session id, bound to the principal that
 * created it. The SDK's web-standard transport takes Hono's Request and returns the Response
 * (SSE streams included), as the SDK documents for Hono: one Node <-> web conversion per request,
 * where its Node transport would convert a second time.
 */
export class McpSessions {
  private readonly sessions = new Map<string, OpenSession>();

  constructor(private readonly runtime: Runtime) {}

  get size(): number {
    return this.sessions.size;
  }

  readonly handler: Handler<HttpEnv> = async (c) => {
    const principal = c.get('principal');
    const id = c.req.header('mcp-session-id');
    // Another principal's session id is answered as unknown: a session never changes hands.
    const found = id ? this.sessions.get(id) : undefined;
    const existing = found && samePrincipal(found.principal, principal) ? found : undefined;
    if (c.req.method === 'POST') {
      const body = c.get('body');
      if (existing) return existing.transport.handleRequest(c.req.raw, { parsedBody: body });
      if (id) throw new HttpProblem(404, 'session not found: start a new session with initialize');
      if (!isInitializeRequest(body)) throw new HttpProblem(400, 'no session: the first request must be initialize');
      const session = new McpSession(this.runtime, { principal });
      const transport: WebStandardStreamableHTTPServerTransport = new WebStandardStreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (newId) => {
          this.sessions.set(newId, { transport, session, principal });
        },
      });
      transport.onclose = () => {
        if (transport.sessionId) this.sessions.delete(transport.sessionId);
      };
      await session.server.connect(transport);
      return transport.handleRequest(c.req.raw, { parsedBody: body });
    }
    if (c.req.method === 'GET' || c.req.method === 'DELETE') {
      if (!existing) throw new HttpProblem(id ? 404 : 400, id ? 'session not found' : 'missing mcp-session-id header');
      return existing.transport.handleRequest(c.req.raw);
    }
    throw new HttpProblem(405, `method ${c.req.method} not allowed`, { allow: 'GET, POST, DELETE' });
  };

  async close(): Promise<void> {
    for (const { transport, session } of this.sessions.values()) {
      await transport.close().catch(() => undefined);
      await session.close();
    }
    this.sessions.clear();
  }
}
