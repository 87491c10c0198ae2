// Run the MCP conformance suites against `release-mcp serve --http` on a free loopback port, one
// suite per protocol era (`node scripts/conformance.mjs [2025|2026-07-28]` runs one; default both).
// Exit code is non-zero when a suite fails: a scenario outside its baseline that fails, or one inside
// it that passes.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const SUITES = [
  { era: '2025', node: [], entry: 'node_modules/@modelcontextprotocol/conformance/dist/index.js', args: [], baseline: 'conformance-baseline.yml' },
  // 0.2.0-alpha (npm alias conformance-next) is the only suite that knows 2026-07-28; it needs Node 22
  // to load, so it runs through the hook in scripts/conformance-node20-hook.mjs (which says why).
  {
    era: '2026-07-28',
    node: ['--import', join(root, 'scripts/conformance-node20-register.mjs')],
    entry: 'node_modules/@modelcontextprotocol/conformance-next/dist/index.js',
    args: ['--requirements', '2026-07-28'],
    baseline: 'conformance-baseline-2026-07-28.yml',
  },
];
const suites = SUITES.filter((s) => !process.argv[2] || s.era === process.argv[2]);
if (suites.length === 0) {
  console.error(`unknown protocol era "${process.argv[2]}": expected ${SUITES.map((s) => s.era).join(' or ')}`);
  process.exit(2);
}

const work = mkdtempSync(join(tmpdir(), 'release-mcp-conformance-'));
const server = spawn(process.execPath, [join(root, 'dist/cli.js'), 'serve', '--http', '--port', '0', '--config', join(root, 'config.json'), '--memory', join(work, 'memory.db')], {
  stdio: ['ignore', 'ignore', 'pipe'],
});

const url = await new Promise((resolve, reject) => {
  let seen = '';
  const timer = setTimeout(() => reject(new Error(`server did not start:\n${seen}`)), 15_000);
  server.stderr.on('data', (chunk) => {
    seen += chunk;
    const match = /listening on (http:\/\/\S+)/.exec(seen);
    if (match) {
      clearTimeout(timer);
      resolve(match[1]);
    }
  });
  server.once('exit', (code) => reject(new Error(`server exited with ${code}:\n${seen}`)));
});

let failed = 0;
for (const { era, node, entry, args, baseline } of suites) {
  const suite = spawn(process.execPath, [...node, join(root, entry), 'server', '--url', url, ...args, '--expected-failures', join(root, baseline), '-o', join(work, `results-${era}`)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  suite.stdout.on('data', (chunk) => (output += chunk));
  const code = await new Promise((resolve) => suite.once('exit', (c) => resolve(c ?? 1)));
  // A suite that crashed before its summary shows everything it printed.
  const at = output.indexOf('=== SUMMARY ===');
  const summary = at >= 0 ? output.slice(at) : output;
  process.stdout.write(`\n##### protocol era ${era} (baseline ${baseline}): ${code === 0 ? 'passed' : 'FAILED'}\n${summary}\n`);
  if (code !== 0) failed += 1;
}
server.kill('SIGTERM');
rmSync(work, { recursive: true, force: true });
process.exit(failed === 0 ? 0 : 1);
