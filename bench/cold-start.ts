import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { fmt, median, verdict } from './stats.js';

const ROOT = join(import.meta.dirname, '..');

/** Milliseconds from spawning the process to the first tools/list answer. */
async function timeToFirstToolsList(args: string[]): Promise<number> {
  const started = performance.now();
  const client = new Client({ name: 'bench', version: '1.0.0' });
  await client.connect(new StdioClientTransport({ command: process.execPath, args, stderr: 'ignore' }));
  await client.listTools();
  const elapsed = performance.now() - started;
  await client.close();
  return elapsed;
}

export async function benchColdStart(runs = 10): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'release-mcp-bench-'));
  const ours = [join(ROOT, 'dist/cli.js'), 'serve', '--config', join(ROOT, 'config.json'), '--memory', join(work, 'memory.db')];
  const minimal = [join(ROOT, 'bench/minimal-server.mjs')];
  const oursMs: number[] = [];
  const minimalMs: number[] = [];
  await timeToFirstToolsList(ours); // warm the file cache for both, and create the memory file
  await timeToFirstToolsList(minimal);
  for (let i = 0; i < runs; i++) {
    // Interleaved, so machine noise hits both alike.
    oursMs.push(await timeToFirstToolsList(ours));
    minimalMs.push(await timeToFirstToolsList(minimal));
  }
  rmSync(work, { recursive: true, force: true });
  const ratio = median(oursMs) / median(minimalMs);
  console.log('cold start to first tools/list over stdio (median of %d)', runs);
  console.log(`  release-mcp        ${fmt(median(oursMs))}`);
  console.log(`  minimal SDK server ${fmt(median(minimalMs))}`);
  console.log(`  ratio              ${ratio.toFixed(2)}x   target <= 1.5x   ${verdict(ratio <= 1.5)}`);
}
