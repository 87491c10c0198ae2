import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { serveHttp, type HttpHandle } from '../src/server/http.js';
import type { Runtime } from '../src/server/runtime.js';
import { errorOf, tempDir, testRuntime } from './helpers/harness.js';

/** Another process that takes the memory file's write lock and keeps it until told to stop. */
async function holdWriteLock(path: string): Promise<ChildProcess> {
  const script = `
    const Database = require('better-sqlite3');
    const db = new Database(process.argv[1]);
    db.exec('BEGIN IMMEDIATE');
    db.prepare("INSERT INTO session_log (ts, action) VALUES ('now', 'held')").run();
    process.stdout.write('locked\\n');
    process.stdin.on('data', () => { db.exec('ROLLBACK'); db.close(); process.exit(0); });
  `;
  const child = spawn(process.execPath, ['-e', script, path], { stdio: ['pipe', 'pipe', 'inherit'], cwd: process.cwd() });
  const lines = createInterface({ input: child.stdout! });
  await new Promise<void>((resolve, reject) => {
    lines.once('line', (line) => (line === 'locked' ? resolve() : reject(new Error(line))));
    child.once('exit', (code) => reject(new Error(`lock holder exited with ${code}`)));
  });
  return child;
}

describe('a memory file locked by another writer', () => {
  let handle: HttpHandle | undefined;
  let runtime: Runtime | undefined;
  let holder: ChildProcess | undefined;
  const dir = tempDir('release-mcp-lock-');
  afterEach(async () => {
    if (holder && holder.exitCode === null) {
      const exited = new Promise((resolve) => holder!.once('exit', resolve));
      holder.stdin!.write('release\n');
      await exited;
    }
    await handle?.close();
    runtime?.close();
  });

  it('fails a write fast with a conflict naming the file, while /health answers at once', async () => {
    const path = join(dir.path, 'memory.db');
    runtime = testRuntime({ memoryPath: path, persona: 'developer' });
    handle = await serveHttp(runtime, { host: '127.0.0.1', port: 0 });
    const client = new Client({ name: 'lock-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(handle.url)));
    holder = await holdWriteLock(path);

    const writeStarted = performance.now();
    const write = client.callTool({ name: 'memory_append', arguments: { key: 'k', list: 'l', item: 1 } }).then((r) => ({ result: r as CallToolResult, ms: performance.now() - writeStarted }));
    const healthStarted = performance.now();
    const health = fetch(handle.url.replace('/mcp', '/health')).then(async (r) => ({ status: r.status, body: (await r.json()) as { status: string; memory: { ok: boolean } }, ms: performance.now() - healthStarted }));
    const [w, h] = await Promise.all([write, health]);

    expect(errorOf(w.result)).toMatchObject({ code: 'conflict', message: `the memory database ${path} is locked by another writer: gave up after 500 ms (SQLITE_BUSY)` });
    expect(w.ms).toBeLessThan(3000);
    expect(h.status).toBe(200);
    expect(h.body).toMatchObject({ status: 'ok', memory: { ok: true } });
    expect(h.ms).toBeLessThan(2000);

    // Nothing was written; once the lock is gone the same write goes through.
    holder.stdin!.write('release\n');
    await new Promise((resolve) => holder!.once('exit', resolve));
    const again = (await client.callTool({ name: 'memory_append', arguments: { key: 'k', list: 'l', item: 1 } })) as CallToolResult;
    expect(again.structuredContent).toMatchObject({ length: 1 });
    await client.close();
  }, 30_000);
});
