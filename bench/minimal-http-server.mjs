// Baseline for the HTTP benchmark: the smallest MCP server over Streamable HTTP with the SDK's own
// transport, one session per client as release-mcp keeps them, one cheap tool. Loopback only.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

const sessions = new Map();

// `payload` returns the structured result given in MINIMAL_PAYLOAD (the bench passes release-mcp's
// persona_list result), validated against the same shape and sent as release-mcp sends it (a
// summary line, then the JSON): both servers then validate, serialize and send the same bytes.
const payload = process.env.MINIMAL_PAYLOAD ? JSON.parse(process.env.MINIMAL_PAYLOAD) : { active: 'none', read_only: false, personas: [] };
const personaShape = z.object({ name: z.string(), description: z.string(), families: z.array(z.string()), tools: z.array(z.string()), skills: z.array(z.string()), active: z.boolean(), tool_count: z.number().int() });

function newServer() {
  const server = new McpServer({ name: 'minimal', version: '1.0.0' });
  server.registerTool(
    'echo',
    { description: 'Echo text', inputSchema: { text: z.string().default('') }, outputSchema: { text: z.string() }, annotations: { readOnlyHint: true } },
    async ({ text }) => ({ content: [{ type: 'text', text }], structuredContent: { text } }),
  );
  server.registerTool(
    'payload',
    { description: 'A fixed result', inputSchema: {}, outputSchema: { active: z.string(), read_only: z.boolean(), personas: z.array(personaShape) }, annotations: { readOnlyHint: true } },
    async () => ({ content: [{ type: 'text', text: `active persona: ${payload.active}; available: ${payload.personas.map((p) => p.name).join(', ')}\n${JSON.stringify(payload)}` }], structuredContent: payload }),
  );
  return server;
}

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

const http = createServer(async (req, res) => {
  try {
    const id = req.headers['mcp-session-id'];
    const existing = id ? sessions.get(id) : undefined;
    if (req.method === 'POST') {
      const body = await readBody(req);
      if (existing) return await existing.handleRequest(req, res, body);
      if (!isInitializeRequest(body)) return void res.writeHead(400).end();
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: () => randomUUID(), onsessioninitialized: (newId) => sessions.set(newId, transport) });
      transport.onclose = () => transport.sessionId && sessions.delete(transport.sessionId);
      await newServer().connect(transport);
      return await transport.handleRequest(req, res, body);
    }
    if (!existing) return void res.writeHead(404).end();
    return await existing.handleRequest(req, res);
  } catch (error) {
    if (!res.headersSent) res.writeHead(500).end(String(error));
  }
});

http.listen(0, '127.0.0.1', () => process.stderr.write(`minimal listening on http://127.0.0.1:${http.address().port}/mcp\n`));
