import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Client, StreamableHTTPClientTransport, type CallToolResult, type VersionNegotiationMode } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { serveHttp, type HttpHandle } from '../../src/server/http.js';
import { startCliHttpServer, type CliHttpServer } from '../helpers/cli-server.js';
import { tempDir, testRuntime } from '../helpers/harness.js';
import { skillHarness } from '../skills/fixtures.js';

const CLI = join(process.cwd(), 'dist', 'cli.js');
const TOKEN = 'eras-admin-token-0123456789';
const MODERN = '2026-07-28';

const ERAS: Array<{ era: 'legacy' | 'modern'; mode: VersionNegotiationMode }> = [
  { era: 'legacy', mode: 'legacy' },
  { era: 'modern', mode: { pin: MODERN } },
];

function v2Client(mode: VersionNegotiationMode): Client {
  return new Client({ name: 'eras-test', version: '1.0.0' }, { versionNegotiation: { mode } });
}

/**
 * One address in front of several server processes, handing each HTTP request to the next one in
 * turn, as a load balancer in front of replicas does. Headers pass unchanged.
 */
async function roundRobin(backends: URL[]): Promise<{ url: URL; counts: number[]; server: Server }> {
  const counts: number[] = [];
  let next = 0;
  const server = createServer((req, res) => {
    const index = next++ % backends.length;
    counts[index] = (counts[index] ?? 0) + 1;
    const target = backends[index]!;
    const upstream = request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: new URL(`http://127.0.0.1:${port}/mcp`), counts, server };
}

function toolNames(list: { tools: Array<{ name: string }> }): string[] {
  return list.tools.map((t) => t.name);
}

describe('both protocol eras with the SDK v2 client', () => {
  const dir = tempDir();
  const configPath = join(dir.path, 'config.json');
  let http: CliHttpServer | undefined;

  beforeAll(async () => {
    writeFileSync(configPath, JSON.stringify({ default_persona: 'release', http: { tokens: [{ env: 'ERAS_TOKEN', role: 'admin' }] } }));
    http = await startCliHttpServer(CLI, ['--config', configPath, '--memory', join(dir.path, 'http.db')], { ERAS_TOKEN: TOKEN });
  });
  afterAll(async () => {
    await http?.stop();
    dir.cleanup();
  });

  const transports = {
    stdio: (memory: string) => new StdioClientTransport({ command: process.execPath, args: [CLI, 'serve', '--config', configPath, '--memory', join(dir.path, memory)], stderr: 'ignore' }),
    http: () => new StreamableHTTPClientTransport(new URL(http!.url), { requestInit: { headers: { Authorization: `Bearer ${TOKEN}` } } }),
  };

  for (const kind of ['stdio', 'http'] as const) {
    for (const { era, mode } of ERAS) {
      it(`${kind}, ${era} era: lists and calls tools, refuses bad input naming the field, and keeps a loaded persona`, async () => {
        const client = v2Client(mode);
        await client.connect(transports[kind](`${kind}-${era}.db`));
        try {
          expect(client.getProtocolEra()).toBe(era);
          const version = client.getNegotiatedProtocolVersion();
          if (era === 'modern') expect(version).toBe(MODERN);
          else expect(version).toMatch(/^2025-/);
          expect(client.getServerVersion()?.name).toBe('release-mcp');

          const before = toolNames(await client.listTools());
          expect(before).toEqual(expect.arrayContaining(['persona_load', 'memory_session_log', 'appinterface_get_ref']));

          const logged = (await client.callTool({ name: 'memory_session_log', arguments: { action: `${kind} ${era}` } })) as CallToolResult;
          expect(logged.isError).toBeFalsy();
          expect(logged.structuredContent).toMatchObject({ action: `${kind} ${era}` });

          const bad = (await client.callTool({ name: 'memory_session_log', arguments: { action: 42 } })) as CallToolResult;
          expect(bad.isError).toBe(true);
          expect((bad.content[0] as { text: string }).text).toMatch(/action/);

          // Over modern HTTP every request is served by a fresh server instance: the persona survives
          // only because it is kept in the store.
          const loaded = (await client.callTool({ name: 'persona_load', arguments: { persona: 'core' } })) as CallToolResult;
          expect(loaded.isError).toBeFalsy();
          const after = toolNames(await client.listTools());
          expect(after.length).toBeLessThan(before.length);
          expect(after).not.toContain('appinterface_get_ref');
          expect(after).toContain('persona_load');
          await client.callTool({ name: 'persona_load', arguments: { persona: 'release' } });
        } finally {
          await client.close();
        }
      });
    }
  }

  it('answers a 2026-07-28 request over HTTP without initialize and without a session', async () => {
    const response = await fetch(http!.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${TOKEN}`, 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/call', 'mcp-name': 'persona_list' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 7,
        method: 'tools/call',
        params: {
          name: 'persona_list',
          arguments: {},
          _meta: {
            'io.modelcontextprotocol/protocolVersion': MODERN,
            'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
            'io.modelcontextprotocol/clientCapabilities': {},
          },
        },
      }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('mcp-session-id')).toBeNull();
    const text = await response.text();
    const body = JSON.parse(text.startsWith('{') ? text : /data: (.*)/.exec(text)![1]!) as { id: number; result: { structuredContent: { personas: unknown[] } } };
    expect(body.id).toBe(7);
    expect(body.result.structuredContent.personas.length).toBeGreaterThan(0);
  });
});

describe('two server processes behind one address', () => {
  const dir = tempDir();
  const servers: CliHttpServer[] = [];
  let balancer: Server | undefined;
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.stop()));
    balancer?.close();
    dir.cleanup();
  });

  it('serve one 2026-07-28 client alternately: what one process saved, the other answers from the store', async () => {
    // The balancer's address comes first: the replicas must accept its Host header, as a real
    // deployment lists its public name in http.allowed_hosts.
    const backends: URL[] = [];
    const lb = await roundRobin(backends);
    balancer = lb.server;
    const configPath = join(dir.path, 'config.json');
    writeFileSync(configPath, JSON.stringify({ http: { allowed_hosts: [lb.url.host], tokens: [{ env: 'ERAS_TOKEN', role: 'admin' }] } }));
    const memory = join(dir.path, 'shared.db');
    for (let i = 0; i < 2; i += 1) {
      const started = await startCliHttpServer(CLI, ['--config', configPath, '--memory', memory], { ERAS_TOKEN: TOKEN });
      servers.push(started);
      backends.push(new URL(started.url));
    }

    const client = v2Client({ pin: MODERN });
    await client.connect(new StreamableHTTPClientTransport(lb.url, { requestInit: { headers: { Authorization: `Bearer ${TOKEN}` } } }));
    expect(client.getProtocolEra()).toBe('modern');

    await client.callTool({ name: 'persona_load', arguments: { persona: 'developer' } });
    const lists: string[][] = [];
    for (let i = 0; i < 4; i += 1) lists.push(toolNames(await client.listTools()));
    // Both processes answered some of the four lists, all with the persona loaded through one of them.
    for (const list of lists) expect(list).toEqual(lists[0]);
    expect(lists[0]).not.toContain('appinterface_get_ref');
    expect(lists[0]).toContain('git_status');

    for (const action of ['written through one replica', 'and through the other']) {
      const written = (await client.callTool({ name: 'memory_session_log', arguments: { action } })) as CallToolResult;
      expect(written.isError).toBeFalsy();
    }
    await client.close();

    expect(lb.counts[0]).toBeGreaterThanOrEqual(3);
    expect(lb.counts[1]).toBeGreaterThanOrEqual(3);
  });
});

describe('2025-era sessions over HTTP', () => {
  let handle: HttpHandle | undefined;
  afterEach(async () => {
    await handle?.close();
    handle = undefined;
  });

  const INIT = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } };
  const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

  async function initialize(url: string): Promise<Response> {
    return fetch(url, { method: 'POST', headers: HEADERS, body: JSON.stringify(INIT) });
  }

  it('are capped: past http.legacy_sessions.max a new one is refused with 503 and says what to do; a 2026-07-28 client is still served', async () => {
    handle = await serveHttp(testRuntime({ config: { http: { legacy_sessions: { max: 2 } } } }), { host: '127.0.0.1', port: 0 });
    for (let i = 0; i < 2; i += 1) expect((await initialize(handle.url)).status).toBe(200);
    const refused = await initialize(handle.url);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('60');
    const body = (await refused.json()) as { error: { message: string } };
    expect(body.error.message).toMatch(/too many open MCP sessions \(2, http\.legacy_sessions\.max\)/);
    expect(body.error.message).toMatch(/2026-07-28/);

    const modern = v2Client({ pin: MODERN });
    await modern.connect(new StreamableHTTPClientTransport(new URL(handle.url)));
    expect(toolNames(await modern.listTools())).toContain('persona_load');
    await modern.close();
  });

  it('are not closed as idle while a tool call answered over SSE still runs, past http.legacy_sessions.idle_minutes', async () => {
    const h = skillHarness({ config: { http: { legacy_sessions: { idle_minutes: 0.01 } } } });
    h.write('slow', 'name: slow\ndescription: d\nsteps:\n  - name: wait\n    tool: test_slow\n    args: { ms: 2500 }\n');
    try {
      handle = await serveHttp(h.runtime, { host: '127.0.0.1', port: 0 });
      const client = v2Client('legacy');
      await client.connect(new StreamableHTTPClientTransport(new URL(handle.url)));
      // 2.5 s of running against 0.6 s of idle time, swept every second.
      const run = (await client.callTool({ name: 'skill_run', arguments: { name: 'slow' } })) as CallToolResult;
      expect(run.isError).toBeFalsy();
      expect((run.structuredContent as { status: string }).status).toBe('succeeded');
      // The same session answers right after: it was not closed under the call.
      expect(toolNames(await client.listTools())).toContain('skill_run');
      await client.close();
    } finally {
      h.close();
    }
  });

  it('are closed after http.legacy_sessions.idle_minutes without a request: the old id is unknown, a new session opens', async () => {
    handle = await serveHttp(testRuntime({ config: { http: { legacy_sessions: { max: 1, idle_minutes: 0.01 } } } }), { host: '127.0.0.1', port: 0 });
    const first = await initialize(handle.url);
    const id = first.headers.get('mcp-session-id')!;
    expect(id).toBeTruthy();
    expect((await initialize(handle.url)).status).toBe(503);

    await new Promise((resolve) => setTimeout(resolve, 2_100));
    const stale = await fetch(handle.url, { method: 'POST', headers: { ...HEADERS, 'mcp-session-id': id, 'mcp-protocol-version': '2025-06-18' }, body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }) });
    expect(stale.status).toBe(404);
    expect((await initialize(handle.url)).status).toBe(200);
  });
});
