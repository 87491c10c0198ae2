import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { loadPersonas } from '../src/personas/index.js';
import { BUILTIN_SKILLS_DIR } from '../src/skills/index.js';
import { yamlFiles } from '../src/yaml-files.js';
import { createReleaseEnv } from '../tests/helpers/release-env.js';
import { figure } from './stats.js';

/**
 * What release-mcp costs an assistant's context, in bytes and in tokens (estimated as bytes / 4):
 * - tools/list per persona, as a real client receives it from `dist/cli.js serve --persona NAME`
 *   over stdio (the JSON of the result on the wire), and the part of it that is output schemas;
 * - the skill_plan result of the largest shipped skill (by file size), planned against the
 *   release world of the end-to-end tests (emulators, temp repositories): its text content
 *   against its structuredContent, and how much of the structured part is the `report` that the
 *   text already carries.
 *
 * The baselines are these figures for the released tool list and result format (measured at
 * 31a0934, before any work on context size): later changes print their ratio against them.
 * A figure with no recorded baseline is printed against itself.
 *
 * Also printed: the largest tool entry and tool description of each list (where to cut next),
 * and the resource links a plan result carries.
 */

/** The release persona's tools/list should fit in 40 KB (40,960 bytes): its ratio to the baseline. */
const RELEASE_LIST_TARGET = Math.round((40_960 / 127_245) * 1000) / 1000;

const ROOT = join(import.meta.dirname, '..');
const CLI = join(ROOT, 'dist/cli.js');

const BASELINE: Readonly<Record<string, number>> = {
  'tools/list core: tools': 9,
  'tools/list core: bytes': 14858,
  'tools/list core: tokens': 3715,
  'tools/list core: output schemas share': 60.3,
  'tools/list developer: tools': 38,
  'tools/list developer: bytes': 62031,
  'tools/list developer: tokens': 15508,
  'tools/list developer: output schemas share': 48.9,
  'tools/list devops: tools': 35,
  'tools/list devops: bytes': 65272,
  'tools/list devops: tokens': 16318,
  'tools/list devops: output schemas share': 55.4,
  'tools/list release: tools': 67,
  'tools/list release: bytes': 127245,
  'tools/list release: tokens': 31811,
  'tools/list release: output schemas share': 50.3,
  'skill_plan release_aa_backend_prod: result bytes': 58624,
  'skill_plan release_aa_backend_prod: result tokens': 14656,
  'skill_plan release_aa_backend_prod: text content bytes': 32074,
  'skill_plan release_aa_backend_prod: structuredContent bytes': 23699,
  'skill_plan release_aa_backend_prod: text content repeating structuredContent, bytes': 23699,
  'skill_plan release_aa_backend_prod: report inside structuredContent, bytes': 8681,
};

/** Bytes of a value as JSON on the wire (UTF-8). */
export function jsonBytes(value: unknown): number {
  return value === undefined ? 0 : Buffer.byteLength(JSON.stringify(value), 'utf8');
}

const tokens = (bytes: number) => bytes / 4;

interface WireClient {
  /** The raw JSON-RPC result of a request, as the server sent it. */
  request(method: string, params: Record<string, unknown>): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

/** A real MCP client over stdio whose requests return the result exactly as received (no client-side parsing or validation). */
async function connectWire(args: string[], env?: NodeJS.ProcessEnv): Promise<WireClient> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [CLI, ...args], stderr: 'ignore', ...(env ? { env: env as Record<string, string> } : {}) });
  const client = new Client({ name: 'bench-context', version: '1.0.0' });
  await client.connect(transport);
  // Answers to our own requests are taken off the wire before the SDK client sees them (it parses and validates what it receives).
  const pending = new Map<string | number, { resolve(result: Record<string, unknown>): void; reject(error: Error): void }>();
  const handle = transport.onmessage!;
  transport.onmessage = (message: JSONRPCMessage) => {
    const waiting = 'id' in message && message.id !== undefined ? pending.get(message.id) : undefined;
    if (!waiting) return handle(message);
    pending.delete((message as { id: string | number }).id);
    if ('result' in message) waiting.resolve(message.result as Record<string, unknown>);
    else waiting.reject(new Error(`error answer: ${JSON.stringify(message)}`));
  };
  let nextId = 0;
  return {
    async request(method, params) {
      const id = `bench-${nextId++}`;
      const answer = new Promise<Record<string, unknown>>((resolve, reject) => pending.set(id, { resolve, reject }));
      await transport.send({ jsonrpc: '2.0', id, method, params });
      return answer;
    },
    close: () => client.close(),
  };
}

function print(name: string, value: number, unit: string, target: { max?: number } = {}): void {
  console.log(`  ${figure(name, value, BASELINE[name] || value, unit, target)}`);
}

export interface ToolListFigures {
  persona: string;
  tools: number;
  bytes: number;
  outputSchemaBytes: number;
  /** The tool whose entry (name, title, description, schemas, hints) is the largest, and its bytes. */
  largestTool: { name: string; bytes: number };
  /** The tool with the longest description, and its bytes. */
  largestDescription: { name: string; bytes: number };
}

function largest<T extends { name: string }>(items: readonly T[], size: (item: T) => number): { name: string; bytes: number } {
  return items.map((item) => ({ name: item.name, bytes: size(item) })).reduce((a, b) => (b.bytes > a.bytes ? b : a), { name: 'none', bytes: 0 });
}

/** tools/list of every builtin persona, through a real client of the built server. */
export async function toolListFigures(work: string): Promise<ToolListFigures[]> {
  const config = join(work, 'config.json');
  writeFileSync(config, '{}\n');
  const figures: ToolListFigures[] = [];
  for (const persona of [...loadPersonas().keys()].sort()) {
    const client = await connectWire(['serve', '--persona', persona, '--config', config, '--memory', join(work, `${persona}.db`)]);
    try {
      const result = await client.request('tools/list', {});
      const tools = result.tools as Array<{ name: string; description?: string; outputSchema?: unknown }>;
      figures.push({
        persona,
        tools: tools.length,
        bytes: jsonBytes(result),
        outputSchemaBytes: tools.reduce((sum, tool) => sum + jsonBytes(tool.outputSchema), 0),
        largestTool: largest(tools, jsonBytes),
        largestDescription: largest(tools, (tool) => Buffer.byteLength(tool.description ?? '', 'utf8')),
      });
    } finally {
      await client.close();
    }
  }
  return figures;
}

export interface PlanFigures {
  skill: string;
  steps: number;
  bytes: number;
  textBytes: number;
  structuredBytes: number;
  /** The `report` field of structuredContent: the same markdown as the text. */
  reportBytes: number;
  /** The text content carries the JSON of structuredContent after the report: these bytes are sent twice. */
  repeatedBytes: number;
  /** resource_link blocks of the result (the run record as a resource). */
  links: number;
}

/** The largest builtin skill, by file size. */
function largestSkill(): string {
  const files = yamlFiles(BUILTIN_SKILLS_DIR).map((file) => ({ file, size: statSync(file).size }));
  const largest = files.sort((a, b) => b.size - a.size)[0]!.file;
  return largest.replace(/^.*[\\/]/, '').replace(/\.ya?ml$/, '');
}

/** skill_plan of the largest builtin skill in the end-to-end release world. */
export async function planFigures(): Promise<PlanFigures> {
  const skill = largestSkill();
  const env = await createReleaseEnv({ prefix: 'release-mcp-bench-context-' });
  try {
    const client = await connectWire(['serve', '--config', env.configPath], env.processEnv());
    try {
      // Inputs every builtin release skill takes; the plan must come out planned to be the figure we want.
      const inputs = { commit_sha: env.commits.release, release_date: '2026-02-02' };
      const result = await client.request('tools/call', { name: 'skill_plan', arguments: { name: skill, inputs } });
      const structured = result.structuredContent as { status?: string; steps?: unknown[]; report?: string } | undefined;
      if (result.isError || structured?.status !== 'planned') throw new Error(`skill_plan ${skill} did not plan: ${JSON.stringify(result).slice(0, 500)}`);
      const content = result.content as Array<{ type: string; text?: string }>;
      const texts = content.filter((c) => c.type === 'text').map((c) => c.text ?? '');
      const textBytes = texts.reduce((sum, text) => sum + Buffer.byteLength(text, 'utf8'), 0);
      const structuredJson = JSON.stringify(structured);
      const repeatedBytes = texts.some((text) => text.includes(structuredJson)) ? Buffer.byteLength(structuredJson, 'utf8') : 0;
      return { skill, steps: structured.steps?.length ?? 0, bytes: jsonBytes(result), textBytes, structuredBytes: jsonBytes(structured), reportBytes: jsonBytes(structured.report), repeatedBytes, links: content.filter((c) => c.type === 'resource_link').length };
    } finally {
      await client.close();
    }
  } finally {
    await env.close();
  }
}

export async function benchContext(): Promise<{ lists: ToolListFigures[]; plan: PlanFigures }> {
  const work = mkdtempSync(join(tmpdir(), 'release-mcp-bench-context-'));
  try {
    const lists = await toolListFigures(work);
    console.log('context cost: tools/list per persona (JSON of the result as received over stdio; tokens estimated as bytes / 4)');
    for (const l of lists) {
      print(`tools/list ${l.persona}: tools`, l.tools, 'tools');
      print(`tools/list ${l.persona}: bytes`, l.bytes, 'B', l.persona === 'release' ? { max: RELEASE_LIST_TARGET } : {});
      print(`tools/list ${l.persona}: tokens`, tokens(l.bytes), 'tokens');
      print(`tools/list ${l.persona}: output schemas share`, (100 * l.outputSchemaBytes) / l.bytes, '%');
      console.log(`  tools/list ${l.persona}: largest tool entry ${l.largestTool.name}, ${l.largestTool.bytes} B; longest description ${l.largestDescription.name}, ${l.largestDescription.bytes} B`);
    }
    const plan = await planFigures();
    console.log(`context cost: skill_plan result of ${plan.skill} (${plan.steps} steps), the largest builtin skill`);
    print(`skill_plan ${plan.skill}: result bytes`, plan.bytes, 'B');
    print(`skill_plan ${plan.skill}: result tokens`, tokens(plan.bytes), 'tokens');
    print(`skill_plan ${plan.skill}: text content bytes`, plan.textBytes, 'B');
    print(`skill_plan ${plan.skill}: structuredContent bytes`, plan.structuredBytes, 'B');
    print(`skill_plan ${plan.skill}: text content repeating structuredContent, bytes`, plan.repeatedBytes, 'B');
    print(`skill_plan ${plan.skill}: report inside structuredContent, bytes`, plan.reportBytes, 'B');
    print(`skill_plan ${plan.skill}: resource links`, plan.links, 'links');
    return { lists, plan };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

// `node --import tsx bench/context.ts`: this bench alone (after `npm run build`).
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await benchContext();
