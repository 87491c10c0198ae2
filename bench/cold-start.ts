import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ListToolsResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { build, type BuildOptions } from 'esbuild';
import { cpuMsOf, figure, median, verdict } from './stats.js';

const ROOT = join(import.meta.dirname, '..');
const TARGET = 1.2;

interface Timing {
  /**
   * Spawn to the arrival of the tools/list response: what the server costs. Taken when the
   * message reaches the client, before the client checks it against its schema: checking 45
   * tools costs the client more than checking one, which is the client's cost, shown apart.
   */
  answer: number;
  /** Spawn to the end of that request, the client's check included. */
  checked: number;
  /** CPU time the server process used up to that answer (Linux), which waiting for a busy CPU does not inflate. */
  cpu: number | undefined;
  /** The same list through Client.listTools(), which also compiles a validator per output schema. */
  listTools: number;
  /** A second tools/list request without validators: what Client.listTools() adds is the difference. */
  rawList: number;
}

async function timeToFirstToolsList(args: string[]): Promise<Timing> {
  const started = performance.now();
  const client = new Client({ name: 'bench', version: '1.0.0' });
  const transport = new StdioClientTransport({ command: process.execPath, args, stderr: 'ignore' });
  await client.connect(transport);
  // The client's handler of incoming messages, wrapped to note when each arrives.
  // The server's CPU is read at the same moment: work it does after answering (its memory opens
  // once the client is quiet) is not part of its cold start.
  let arrived = 0;
  let cpu: number | undefined;
  const receive = transport.onmessage!;
  transport.onmessage = (message) => {
    arrived = performance.now();
    cpu = cpuMsOf(transport.pid);
    receive(message);
  };
  await client.request({ method: 'tools/list', params: {} }, ListToolsResultSchema);
  const checked = performance.now() - started;
  const answer = arrived - started;
  const cpuAtAnswer = cpu;
  let mark = performance.now();
  await client.request({ method: 'tools/list', params: {} }, ListToolsResultSchema);
  const rawList = performance.now() - mark;
  mark = performance.now();
  await client.listTools();
  const listTools = performance.now() - mark;
  const pid = transport.pid;
  await client.close();
  // The next spawn starts once this process is gone: work it still does after its answers (its
  // memory opening, its shutdown) must not slow the next server down.
  if (pid !== null) await gone(pid);
  return { answer, checked, cpu: cpuAtAnswer, listTools, rawList };
}

/** Resolves when process `pid` has exited (at most 10 s). */
async function gone(pid: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    if (Date.now() > deadline) throw new Error(`server process ${pid} still runs 10 s after its client closed`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** The baseline: bench/minimal-server.mjs (one tool) bundled with the CLI's own esbuild settings. */
async function bundleMinimalServer(dir: string): Promise<string> {
  const { bundleOptions } = (await import(pathToFileURL(join(ROOT, 'scripts/bundle-options.mjs')).href)) as { bundleOptions: BuildOptions };
  await build({ ...bundleOptions, entryPoints: [join(ROOT, 'bench/minimal-server.mjs')], outdir: dir, absWorkingDir: ROOT });
  // Marked ESM as dist/ is by package.json: without it Node first tries the file as CommonJS and
  // detects ESM only when that fails, which costs the baseline about 40 ms ours does not pay.
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  return join(dir, 'minimal-server.js');
}

export async function benchColdStart(runs = 20): Promise<{ ours: number; minimal: number }> {
  const work = mkdtempSync(join(tmpdir(), 'release-mcp-bench-'));
  try {
    const minimalEntry = await bundleMinimalServer(join(work, 'minimal'));
    const ours = [join(ROOT, 'dist/cli.js'), 'serve', '--config', join(ROOT, 'config.json'), '--memory', join(work, 'memory.db')];
    const minimal = [minimalEntry];
    const oursRuns: Timing[] = [];
    const minimalRuns: Timing[] = [];
    await timeToFirstToolsList(ours); // warm the file cache for both, and create the memory file
    await timeToFirstToolsList(minimal);
    for (let i = 0; i < runs; i++) {
      // In pairs, each server first in every other pair, so machine noise hits both alike.
      const pair = i % 2 ? [minimal, ours] : [ours, minimal];
      const [first, second] = [await timeToFirstToolsList(pair[0]!), await timeToFirstToolsList(pair[1]!)];
      oursRuns.push(i % 2 ? second : first);
      minimalRuns.push(i % 2 ? first : second);
    }
    const ourAnswer = median(oursRuns.map((r) => r.answer));
    const minimalAnswer = median(minimalRuns.map((r) => r.answer));
    const client = (list: Timing[], key: 'listTools' | 'rawList') => median(list.map((r) => r[key]));
    console.log(`cold start over stdio, ${runs} spawns of each in pairs (release persona; baseline: a one-tool SDK server bundled with the same esbuild settings)`);
    // The ratio of each spawn to the baseline's spawn beside it: load that changes over seconds
    // moves both of a pair, where it can move one median and not the other.
    const paired = median(oursRuns.map((r, i) => r.answer / minimalRuns[i]!.answer));
    console.log(`  spawn to the first tools/list answer, median of the pairs' ratios: ${paired.toFixed(2)} (medians ${ourAnswer.toFixed(0)} ms, baseline ${minimalAnswer.toFixed(0)} ms)  target <= ${TARGET}: ${verdict(paired <= TARGET)}`);
    console.log(`  ${figure('the same, median of each', ourAnswer, minimalAnswer, 'ms')}`);
    // The fastest spawn of each, for reference: on a shared machine the least disturbed one.
    console.log(`  ${figure('the same, fastest of the spawns', Math.min(...oursRuns.map((r) => r.answer)), Math.min(...minimalRuns.map((r) => r.answer)), 'ms')}`);
    console.log(`  ${figure('spawn to the end of that request, the client checking the list included', median(oursRuns.map((r) => r.checked)), median(minimalRuns.map((r) => r.checked)), 'ms')}`);
    // On a busy machine wall time mostly measures the wait for a CPU; the server's own CPU time does not.
    const cpu = (list: Timing[]) => list.map((r) => r.cpu).filter((v): v is number => v !== undefined);
    if (cpu(oursRuns).length && cpu(minimalRuns).length) {
      console.log(`  ${figure('server CPU time up to that answer (all threads)', median(cpu(oursRuns)), median(cpu(minimalRuns)), 'ms')}`);
    }
    // Client side, for reference: the SDK client compiles a validator for every output schema in Client.listTools().
    console.log(`  ${figure('client side, our tools: Client.listTools() vs a plain tools/list request', client(oursRuns, 'listTools'), client(oursRuns, 'rawList'), 'ms')}`);
    console.log(`  ${figure('client side, one-tool server: Client.listTools() vs a plain tools/list request', client(minimalRuns, 'listTools'), client(minimalRuns, 'rawList'), 'ms')}`);
    return { ours: ourAnswer, minimal: minimalAnswer };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

// `node --import tsx bench/cold-start.ts [runs]`: this bench alone (after `npm run build`).
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await benchColdStart(Number(process.argv[2] ?? 20));
