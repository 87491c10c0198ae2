import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ListToolsResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { fmt, median, verdict } from './stats.js';

const ROOT = join(import.meta.dirname, '..');

interface Timing {
  /** Spawn to the tools/list response: what the server costs. */
  answer: number;
  /** The same through Client.listTools(), which also compiles a validator per output schema. */
  listTools: number;
}

async function timeToFirstToolsList(args: string[]): Promise<Timing> {
  const started = performance.now();
  const client = new Client({ name: 'bench', version: '1.0.0' });
  await client.connect(new StdioClientTransport({ command: process.execPath, args, stderr: 'ignore' }));
  await client.request({ method: 'tools/list', params: {} }, ListToolsResultSchema);
  const answer = performance.now() - started;
  const listStarted = performance.now();
  await client.listTools();
  const listTools = performance.now() - listStarted;
  await client.close();
  return { answer, listTools };
}

export async function benchColdStart(runs = 10): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'release-mcp-bench-'));
  const ours = [join(ROOT, 'dist/cli.js'), 'serve', '--config', join(ROOT, 'config.json'), '--memory', join(work, 'memory.db')];
  const minimal = [join(ROOT, 'bench/minimal-server.mjs')];
  const oursRuns: Timing[] = [];
  const minimalRuns: Timing[] = [];
  await timeToFirstToolsList(ours); // warm the file cache for both, and create the memory file
  await timeToFirstToolsList(minimal);
  for (let i = 0; i < runs; i++) {
    // Interleaved, so machine noise hits both alike.
    oursRuns.push(await timeToFirstToolsList(ours));
    minimalRuns.push(await timeToFirstToolsList(minimal));
  }
  rmSync(work, { recursive: true, force: true });
  const ourAnswer = median(oursRuns.map((r) => r.answer));
  const minimalAnswer = median(minimalRuns.map((r) => r.answer));
  const ratio = ourAnswer / minimalAnswer;
  console.log('cold start: spawn to the first tools/list answer over stdio (median of %d, release persona)', runs);
  console.log(`  release-mcp        ${fmt(ourAnswer)}`);
  console.log(`  minimal SDK server ${fmt(minimalAnswer)}   (one tool)`);
  console.log(`  ratio              ${ratio.toFixed(2)}x   target <= 1.5x   ${verdict(ratio <= 1.5)}`);
  console.log(
    `  client side, for reference: a second Client.listTools() takes ${fmt(median(oursRuns.map((r) => r.listTools)))} vs ${fmt(median(minimalRuns.map((r) => r.listTools)))}` +
      ' (the SDK client compiles a validator for every output schema)',
  );
}
