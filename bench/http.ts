import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cpuMsOf, figure } from './stats.js';

/**
 * Calls per second of a cheap tool over Streamable HTTP, at 1, 8 and 32 concurrent clients, in
 * both protocol eras: 2025 (a session per client) and 2026-07-28 (stateless: every request stands
 * alone). release-mcp (dist/cli.js serve --http, persona_list) against a minimal SDK v2 server with
 * the same serving pieces (bench/minimal-http-server.mjs, payload). Both run as their own process on
 * 127.0.0.1; each level runs for a bounded time. Target: at least 0.9x the baseline.
 *
 * Fairness: the baseline's `payload` returns the very persona_list result release-mcp gave at
 * start (structured content in MINIMAL_PAYLOAD, text in MINIMAL_TEXT), validated against the same
 * output shape by the SDK. Both then do the same work per call except what release-mcp adds
 * (auth, Host/Origin, persona filter and, on 2026-07-28, reading the principal's persona from the
 * store, input checks, masking, metrics): what this bench is about.
 */

const ROOT = join(import.meta.dirname, '..');
const LEVELS = [1, 8, 32] as const;
const TARGET = 0.9;
const PROTOCOL = '2025-06-18';
const MODERN = '2026-07-28';
type Era = 'legacy' | 'modern';
/** A 2026-07-28 client's per-request envelope and the headers that must agree with its body. */
const ENVELOPE = { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientInfo': { name: 'bench', version: '1' }, 'io.modelcontextprotocol/clientCapabilities': {} };

interface Target {
  url: URL;
  /** The server's process: its CPU time per call is the figure a busy machine does not skew. */
  pid: number | undefined;
  tool: string;
  args: Record<string, unknown>;
}

async function start(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ child: ChildProcess; url: URL }> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env });
  const url = await new Promise<URL>((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`no "listening on" line within 30 s from ${args.join(' ')}: ${seen}`)), 30_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      seen += chunk.toString('utf8');
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(seen);
      if (match) {
        clearTimeout(timer);
        child.stderr!.removeAllListeners('data');
        child.stderr!.resume();
        resolve(new URL(match[1]!));
      }
    });
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}: ${seen}`)));
  });
  return { child, url };
}

const agent = new Agent({ keepAlive: true, maxSockets: 256 });

/** One JSON-RPC POST; the answer is JSON or a one-event SSE stream. */
function post(url: URL, body: unknown, headers: Record<string, string>): Promise<{ status: number; session?: string; message?: { result?: { isError?: boolean }; error?: unknown } }> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'content-length': Buffer.byteLength(payload), ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const data = text.startsWith('{') ? text : /^data: (.*)$/m.exec(text)?.[1];
          const session = res.headers['mcp-session-id'];
          resolve({ status: res.statusCode ?? 0, ...(typeof session === 'string' ? { session } : {}), ...(data ? { message: JSON.parse(data) } : {}) });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

async function openSession(url: URL, era: Era): Promise<string> {
  if (era === 'modern') return '';
  const init = await post(url, { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: PROTOCOL, capabilities: {}, clientInfo: { name: 'bench', version: '1' } } }, {});
  if (init.status !== 200 || !init.session) throw new Error(`initialize answered ${init.status}`);
  const headers = { 'mcp-session-id': init.session, 'mcp-protocol-version': PROTOCOL };
  const ready = await post(url, { jsonrpc: '2.0', method: 'notifications/initialized' }, headers);
  if (ready.status !== 202) throw new Error(`notifications/initialized answered ${ready.status}`);
  return init.session;
}

async function closeSessions(target: Target, ids: string[]): Promise<void> {
  ids = ids.filter(Boolean);
  const headers = { 'mcp-protocol-version': PROTOCOL };
  await Promise.all(
    ids.map((id) => new Promise<void>((resolve) => request(target.url, { method: 'DELETE', agent, headers: { ...headers, 'mcp-session-id': id } }, (res) => res.resume().on('end', resolve)).on('error', () => resolve()).end())),
  );
}

/** Every session calls the tool back to back for `ms`; returns the calls answered and the time taken. */
async function slice(target: Target, ids: string[], ms: number): Promise<{ calls: number; seconds: number; cpuMs: number }> {
  let calls = 0;
  const cpuBefore = cpuMsOf(target.pid ?? null) ?? 0;
  const started = performance.now();
  const end = started + ms;
  await Promise.all(
    ids.map(async (id) => {
      const modern = !id;
      const headers: Record<string, string> = modern ? { 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/call', 'mcp-name': target.tool } : { 'mcp-session-id': id, 'mcp-protocol-version': PROTOCOL };
      const params = { name: target.tool, arguments: target.args, ...(modern ? { _meta: ENVELOPE } : {}) };
      for (let n = 1; performance.now() < end; n++) {
        const answer = await post(target.url, { jsonrpc: '2.0', id: n, method: 'tools/call', params }, headers);
        if (answer.status !== 200 || !answer.message?.result || answer.message.result.isError) throw new Error(`${target.tool} failed: ${answer.status} ${JSON.stringify(answer.message)}`);
        calls += 1;
      }
    }),
  );
  return { calls, seconds: (performance.now() - started) / 1000, cpuMs: (cpuMsOf(target.pid ?? null) ?? 0) - cpuBefore };
}

/**
 * Calls/s of both servers at one level of concurrency. The time is cut into short slices that
 * alternate between the two, so a load swing on the machine hits both alike.
 */
async function compare(ours: Target, minimal: Target, sessions: number, seconds: number, era: Era): Promise<{ ours: number; minimal: number; cpuPerCall?: { ours: number; minimal: number } }> {
  const SLICES = 6;
  const ids = { ours: await Promise.all(Array.from({ length: sessions }, () => openSession(ours.url, era))), minimal: await Promise.all(Array.from({ length: sessions }, () => openSession(minimal.url, era))) };
  const total = { ours: { calls: 0, seconds: 0, cpuMs: 0 }, minimal: { calls: 0, seconds: 0, cpuMs: 0 } };
  type Tally = typeof total.ours;
  const add = (into: Tally, part: Tally) => ((into.calls += part.calls), (into.seconds += part.seconds), (into.cpuMs += part.cpuMs));
  for (let i = 0; i < SLICES; i++) {
    const sliceMs = (seconds * 1000) / SLICES;
    // Alternate which goes first, too.
    if (i % 2) {
      add(total.ours, await slice(ours, ids.ours, sliceMs));
      add(total.minimal, await slice(minimal, ids.minimal, sliceMs));
    } else {
      add(total.minimal, await slice(minimal, ids.minimal, sliceMs));
      add(total.ours, await slice(ours, ids.ours, sliceMs));
    }
  }
  await closeSessions(ours, ids.ours);
  await closeSessions(minimal, ids.minimal);
  const rates = { ours: total.ours.calls / total.ours.seconds, minimal: total.minimal.calls / total.minimal.seconds };
  if (!total.ours.cpuMs || !total.minimal.cpuMs) return rates;
  return { ...rates, cpuPerCall: { ours: total.ours.cpuMs / total.ours.calls, minimal: total.minimal.cpuMs / total.minimal.calls } };
}

export async function benchHttp(seconds = 3): Promise<Record<string, { ours: number; minimal: number }>> {
  const work = mkdtempSync(join(tmpdir(), 'release-mcp-bench-'));
  const env = { ...process.env, RELEASE_MCP_HTTP_TOKEN: '' };
  const ours = await start([join(ROOT, 'dist/cli.js'), 'serve', '--http', '--host', '127.0.0.1', '--port', '0', '--config', join(ROOT, 'config.json'), '--memory', join(work, 'memory.db')], env);
  const sampleSession = await openSession(ours.url, 'legacy');
  const sample = await post(ours.url, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'persona_list', arguments: {} } }, { 'mcp-session-id': sampleSession, 'mcp-protocol-version': PROTOCOL });
  await closeSessions({ url: ours.url, pid: ours.child.pid, tool: 'persona_list', args: {} }, [sampleSession]);
  const sampled = sample.message?.result as { structuredContent?: unknown; content?: Array<{ text: string }> } | undefined;
  const payload = sampled?.structuredContent;
  if (!payload) throw new Error(`persona_list gave no structured result: ${JSON.stringify(sample.message)}`);
  const minimal = await start([join(ROOT, 'bench/minimal-http-server.mjs')], { ...process.env, MINIMAL_PAYLOAD: JSON.stringify(payload), MINIMAL_TEXT: sampled.content?.[0]?.text ?? '' });
  const targets = { ours: { url: ours.url, pid: ours.child.pid, tool: 'persona_list', args: {} }, minimal: { url: minimal.url, pid: minimal.child.pid, tool: 'payload', args: {} } };
  const results: Record<string, { ours: number; minimal: number }> = {};
  try {
    const lines = [`HTTP: calls/s of a cheap tool over Streamable HTTP on 127.0.0.1, ${seconds} s per server and level in alternating slices (release-mcp persona_list; baseline: a minimal SDK v2 server, same serving pieces, returning the same result)`];
    for (const era of ['legacy', 'modern'] as const) {
      await compare(targets.ours, targets.minimal, 4, 1, era); // warm both up (JIT, first sessions)
      lines.push(`  ${era === 'legacy' ? `2025 era (${PROTOCOL}, a session per client)` : `2026-07-28 era (stateless)`}:`);
      for (const sessions of LEVELS) {
        const rates = await compare(targets.ours, targets.minimal, sessions, seconds, era);
        results[`${era} ${sessions}`] = { ours: rates.ours, minimal: rates.minimal };
        lines.push(`    ${figure(`calls/s at ${sessions} concurrent client${sessions > 1 ? 's' : ''}`, rates.ours, rates.minimal, 'calls/s', { min: TARGET })}`);
        // Server CPU per call: what each call costs the server, whatever else keeps the machine busy.
        if (rates.cpuPerCall) lines.push(`      ${figure('server CPU time per call', rates.cpuPerCall.ours * 1000, rates.cpuPerCall.minimal * 1000, 'µs')}`);
      }
    }
    console.log(lines.join('\n'));
    return results;
  } finally {
    ours.child.kill();
    minimal.child.kill();
    agent.destroy();
    rmSync(work, { recursive: true, force: true });
  }
}

// `node --import tsx bench/http.ts [seconds]`: this bench alone (after `npm run build`).
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await benchHttp(Number(process.argv[2] ?? 3));
