import { randomUUID } from 'node:crypto';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { Handler } from 'hono';
import type { Principal } from '../principal.js';
import { samePrincipal } from './auth.js';
import { HttpProblem, readJson, type HttpEnv } from './http-middleware.js';
import { McpSession } from './mcp.js';
import type { Runtime } from './runtime.js';

interface OpenSession {
  transport: StreamableHTTPServerTransport;
  session: McpSession;
  principal: Principal;
}

/**
 * Streamable HTTP at /mcp: one McpSession per MCP session id, bound to the principal that
 * created it. The SDK's Node transport answers on the Node request/response that
 * @hono/node-server hands over (c.env.incoming/outgoing); Hono then leaves the response alone.
 */
export class McpSessions {
  private readonly sessions = new Map<string, OpenSession>();

  constructor(private readonly runtime: Runtime) {}

  get size(): number {
    return this.sessions.size;
  }

  readonly handler: Handler<HttpEnv> = async (c) => {
    const principal = c.get('principal');
    const { incoming, outgoing } = c.env;
    const id = c.req.header('mcp-session-id');
    // Another principal's session id is answered as unknown: a session never changes hands.
    const found = id ? this.sessions.get(id) : undefined;
    const existing = found && samePrincipal(found.principal, principal) ? found : undefined;
    if (c.req.method === 'POST') {
      const body = await readJson(c);
      if (existing) {
        await existing.transport.handleRequest(incoming, outgoing, body);
        return RESPONSE_ALREADY_SENT;
      }
      if (id) throw new HttpProblem(404, 'session not found: start a new session with initialize');
      if (!isInitializeRequest(body)) throw new HttpProblem(400, 'no session: the first request must be initialize');
      const session = new McpSession(this.runtime, { principal });
      const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (newId) => {
          this.sessions.set(newId, { transport, session, principal });
        },
      });
      transport.onclose = () => {
        if (transport.sessionId) this.sessions.delete(transport.sessionId);
      };
      await session.server.connect(transport);
      await transport.handleRequest(incoming, outgoing, body);
      return RESPONSE_ALREADY_SENT;
    }
    if (c.req.method === 'GET' || c.req.method === 'DELETE') {
      if (!existing) throw new HttpProblem(id ? 404 : 400, id ? 'session not found' : 'missing mcp-session-id header');
      await existing.transport.handleRequest(incoming, outgoing);
      return RESPONSE_ALREADY_SENT;
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
