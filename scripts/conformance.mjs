// Run the MCP conformance suite against `release-mcp serve --http` on a free loopback port.
// Exit code is the suite's: a scenario outside conformance-baseline.yml that fails, or one inside it
// that passes, fails this script.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
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

const suite = spawn(process.execPath, [join(root, 'node_modules/@modelcontextprotocol/conformance/dist/index.js'), 'server', '--url', url, '--expected-failures', join(root, 'conformance-baseline.yml'), '-o', join(work, 'results')], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
let output = '';
suite.stdout.on('data', (chunk) => (output += chunk));
const code = await new Promise((resolve) => suite.once('exit', (c) => resolve(c ?? 1)));
const summary = output.slice(output.indexOf('=== SUMMARY ==='));
process.stdout.write(`${summary || output}\n`);
server.kill('SIGTERM');
rmSync(work, { recursive: true, force: true });
process.exit(code);
