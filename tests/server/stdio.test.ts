import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { tempDir } from '../helpers/harness.js';

const CLI = join(process.cwd(), 'dist', 'cli.js');

describe('stdio server (node dist/cli.js serve)', () => {
  const dir = tempDir();
  const configPath = join(dir.path, 'config.json');
  const memoryPath = join(dir.path, 'memory.db');
  beforeAll(() => writeFileSync(configPath, JSON.stringify({ default_persona: 'release' })));
  afterAll(() => dir.cleanup());

  it('initializes, lists tools and answers a memory tool call with structured content', async () => {
    const transport = new StdioClientTransport({ command: process.execPath, args: [CLI, 'serve', '--config', configPath, '--memory', memoryPath], stderr: 'pipe' });
    const client = new Client({ name: 'stdio-test', version: '1.0.0' });
    await client.connect(transport);
    expect(client.getServerVersion()?.name).toBe('release-mcp');
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain('memory_session_log');
    const result = await client.callTool({ name: 'memory_session_log', arguments: { action: 'stdio works' } });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ action: 'stdio works' });
    await client.close();
  });

  /** A raw stdio client: the handshake and tools/list in one write, then every answer and the exit. */
  function handshake(memory: string) {
    const child = spawn(process.execPath, [CLI, 'serve', '--config', configPath, '--memory', memory], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const line = (message: object) => `${JSON.stringify({ jsonrpc: '2.0', ...message })}\n`;
    child.stdin.write(line({ id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }));
    child.stdin.write(line({ method: 'notifications/initialized' }) + line({ id: 2, method: 'tools/list' }));
    const answers = () => stdout.split('\n').filter(Boolean).map((text) => JSON.parse(text) as { id?: number; result?: { tools?: unknown[] } });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    return { child, answers, exited, stderr: () => stderr };
  }

  it('answers the handshake and the tool list before it opens the memory, then stops with exit 2 on a memory it cannot use', async () => {
    const corrupt = join(dir.path, 'corrupt.db');
    writeFileSync(corrupt, 'this is not a database, it is a text file long enough to have a header page\n'.repeat(20));
    const run = handshake(corrupt);
    // The client stays connected: the server finds the problem itself, just after the handshake.
    expect(await run.exited).toBe(2);
    const toolList = run.answers().find((a) => a.id === 2);
    expect(toolList?.result?.tools?.length).toBeGreaterThan(0);
    expect(run.stderr()).toContain(`memory file ${corrupt} is not a usable SQLite database`);
  });

  it('opens the memory just after the handshake, without a call that needs it', async () => {
    const fresh = join(dir.path, 'fresh.db');
    const run = handshake(fresh);
    const deadline = Date.now() + 10_000;
    while (!existsSync(fresh) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(existsSync(fresh)).toBe(true);
    expect(run.answers().find((a) => a.id === 2)?.result?.tools?.length).toBeGreaterThan(0);
    run.child.stdin.end();
    expect(await run.exited).toBe(0);
  });

  it('exits 2 with one line per problem for an invalid config, and names the field', () => {
    const bad = join(dir.path, 'bad.json');
    writeFileSync(bad, JSON.stringify({ jira: { url: 'nope' } }));
    const run = spawnSync(process.execPath, [CLI, 'serve', '--config', bad, '--memory', memoryPath], { encoding: 'utf8' });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('jira.url: expected a URL');
    expect(run.stdout).toBe('');
  });

  it('exits 2 for an unknown persona, listing the known ones', () => {
    const run = spawnSync(process.execPath, [CLI, 'serve', '--config', configPath, '--memory', memoryPath, '--persona', 'ghost'], { encoding: 'utf8' });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/unknown persona "ghost"; known personas: all, core, developer, devops, release/);
  });

  it('lists tools for a persona in read-only mode from the command line', () => {
    const run = spawnSync(process.execPath, [CLI, 'tools', 'list', '--config', configPath, '--persona', 'release', '--read-only', '--json'], { encoding: 'utf8' });
    expect(run.status).toBe(0);
    const rows = JSON.parse(run.stdout) as Array<{ name: string; annotations: { readOnlyHint: boolean } }>;
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.annotations.readOnlyHint)).toBe(true);
  });

  it('refuses to bind a non-loopback address without a token', () => {
    const run = spawnSync(process.execPath, [CLI, 'serve', '--http', '--host', '0.0.0.0', '--port', '0', '--config', configPath, '--memory', memoryPath], {
      encoding: 'utf8',
      env: { ...process.env, RELEASE_MCP_HTTP_TOKEN: '' },
      timeout: 10_000,
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/refusing to bind 0\.0\.0\.0 without a bearer token/);
  });
});
