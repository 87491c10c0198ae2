// Baseline for the HTTP benchmark: the smallest MCP server over Streamable HTTP with the SDK's own
// serving pieces, as release-mcp uses them: 2025-era clients get a session each (the web-standard
// transport), 2026-07-28 requests the SDK's stateless per-request handler; one cheap tool; the same
// Node <-> web conversion (@hono/node-server) in front. Loopback only.
import { randomUUID } from 'node:crypto';
import { createAdaptorServer } from '@hono/node-server';
import { createMcpHandler, isInitializeRequest, isLegacyRequest, McpServer, WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/server';
import { z } from 'zod';

const sessions = new Map();

// `payload` returns the structured result given in MINIMAL_PAYLOAD (the bench passes release-mcp's
// persona_list result) with the text given in MINIMAL_TEXT, validated against the same shape: both
// servers then validate, serialize and send the same bytes.
const payload = process.env.MINIMAL_PAYLOAD ? JSON.parse(process.env.MINIMAL_PAYLOAD) : { active: 'none', read_only: false, personas: [] };
const text = process.env.MINIMAL_TEXT ?? 'payload';
const personaShape = z.object({ name: z.string(), description: z.string(), families: z.array(z.string()), tools: z.array(z.string()), skills: z.array(z.string()), active: z.boolean(), tool_count: z.number().int() });

function newServer() {
  const server = new McpServer({ name: 'minimal', version: '1.0.0' });
  server.registerTool(
    'payload',
    { description: 'A fixed result', inputSchema: z.object({}), outputSchema: z.object({ active: z.string(), read_only: z.boolean(), personas: z.array(personaShape) }), annotations: { readOnlyHint: true } },
    async () => ({ content: [{ type: 'text', text }], structuredContent: payload }),
  );
  return server;
}

const modern = createMcpHandler(() => newServer(), { legacy: 'reject' });

async function legacy(request, body) {
  const id = request.headers.get('mcp-session-id');
  const existing = id ? sessions.get(id) : undefined;
  if (existing) return existing.handleRequest(request, body === undefined ? undefined : { parsedBody: body });
  if (request.method !== 'POST' || !isInitializeRequest(body)) return new Response(null, { status: id ? 404 : 400 });
  const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: () => randomUUID(), onsessioninitialized: (newId) => sessions.set(newId, transport) });
  transport.onclose = () => transport.sessionId && sessions.delete(transport.sessionId);
  await newServer().connect(transport);
  return transport.handleRequest(request, { parsedBody: body });
}

const http = createAdaptorServer({
  overrideGlobalObjects: false,
  fetch: async (request) => {
    try {
      const body = request.method === 'POST' ? await request.json() : undefined;
      if (request.method === 'POST' && !request.headers.get('mcp-session-id') && !(await isLegacyRequest(request, body))) return modern.fetch(request, { parsedBody: body });
      return legacy(request, body);
    } catch (error) {
      return new Response(String(error), { status: 500 });
    }
  },
});

http.listen(0, '127.0.0.1', () => process.stderr.write(`minimal listening on http://127.0.0.1:${http.address().port}/mcp\n`));
