import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { serveHttp, type HttpHandle } from '../../src/server/http.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, testRuntime } from '../helpers/harness.js';
// @ts-expect-error: a plain .mjs script without typings; the function takes and returns a string.
import { withoutFsGlobSync } from '../../scripts/conformance-node20-hook.mjs';

/** scripts/conformance.mjs for one protocol era; it spawns dist/cli.js (npm run build first). */
function conformance(era: '2025' | '2026-07-28') {
  return spawnSync(process.execPath, ['scripts/conformance.mjs', era], { encoding: 'utf8', timeout: 120_000 });
}

describe('MCP conformance suite over HTTP', () => {
  it('2025 era: passes every scenario except those needing the suite fixtures (conformance-baseline.yml)', () => {
    const run = conformance('2025');
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toMatch(/protocol era 2025 \(baseline conformance-baseline\.yml\): passed/);
    // Not tools-call-error or tools-call-simple-text: they call the suite's own tools, and pass on
    // the isError result release-mcp gives an unknown tool, so they say nothing about our tools.
    for (const scenario of ['server-initialize: 1', 'ping: 1', 'logging-set-level: 1', 'tools-list: 1', 'server-sse-multiple-streams: 2', 'dns-rebinding-protection: 2', 'resources-list: 1', 'prompts-list: 1']) {
      expect(run.stdout).toContain(`✓ ${scenario} passed, 0 failed`);
    }
  }, 150_000);

  it('2026-07-28 era: passes every check except those needing the suite fixtures (conformance-baseline-2026-07-28.yml)', () => {
    const run = conformance('2026-07-28');
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toMatch(/protocol era 2026-07-28 \(baseline conformance-baseline-2026-07-28\.yml\): passed/);
    expect(run.stdout).toMatch(/Baseline check passed: all failures are expected/);
    expect(run.stdout).not.toMatch(/2025 \(baseline/);
    // Scenarios of the 2026-07-28 requirements that need no fixture pass outright (tools-call-error and
    // tools-call-simple-text pass too, but only on our unknown-tool error: see the 2025 test).
    for (const scenario of ['tools-list: 4', 'server-sse-multiple-streams: 1', 'dns-rebinding-protection: 2', 'resources-list: 2', 'prompts-list: 2', 'sep-2164-resource-not-found: 4', 'caching: 8']) {
      expect(run.stdout).toContain(`✓ ${scenario} passed, 0 failed`);
    }
    // Mcp-Method / Mcp-Name header validation (SEP-2243): pending in the suite, so unscored; kept passing here.
    expect(run.stdout).toContain('✓ http-header-validation: 14 passed, 0 failed');
  }, 150_000);

  it('rejects an unknown era by name', () => {
    const run = spawnSync(process.execPath, ['scripts/conformance.mjs', '2024'], { encoding: 'utf8', timeout: 30_000 });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('unknown protocol era "2024": expected 2025 or 2026-07-28');
  });
});

describe('Node 20 hook of the 2026-07-28 suite', () => {
  it('drops globSync from the fs import and declares a local function under its alias that throws', () => {
    const source = 'import{existsSync as i,globSync as a,readFileSync as c}from"fs";import{spawn as d}from"child_process";a("x/*.yaml");';
    const rewritten = withoutFsGlobSync(source) as string;
    expect(rewritten).toMatch(/^import\{existsSync as i,readFileSync as c\}from"fs";function a\(pattern\)\{throw new Error\(/);
    expect(rewritten).toContain('import{spawn as d}from"child_process";a("x/*.yaml");');
    expect(() => new Function(rewritten.replace(/^import\{[^}]*\}from"fs";/, '').replace(/import\{[^}]*\}from"child_process";/, ''))()).toThrow(/fs\.globSync needs Node 22.*x\/\*\.yaml/);
  });

  it('leaves a source without globSync in its fs import unchanged', () => {
    const source = 'import{existsSync as i}from"fs";i("a");';
    expect(withoutFsGlobSync(source)).toBe(source);
  });
});

// What the baselined scenarios would show with the suite's own tools, checked with ours.
describe('2026-07-28 era over HTTP: what the suite checks only with its own tools', () => {
  let handle: HttpHandle | undefined;
  const dirs: Array<{ cleanup(): void }> = [];
  afterEach(async () => {
    await handle?.close();
    handle = undefined;
    for (const dir of dirs.splice(0)) dir.cleanup();
  });

  async function modernClient(url: string): Promise<Client> {
    const client = new Client({ name: 'modern-test', version: '1.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
    await client.connect(new StreamableHTTPClientTransport(new URL(url)));
    return client;
  }

  it('sends skill_run progress per step on the request stream (tools-call-with-progress)', async () => {
    const skills = tempDir();
    dirs.push(skills);
    writeFileSync(
      join(skills.path, 'two_notes.yaml'),
      'name: two_notes\ndescription: two journal notes\nsteps:\n  - name: first\n    tool: memory_session_log\n    args: { action: one }\n  - name: second\n    tool: memory_session_log\n    args: { action: two }\n',
    );
    handle = await serveHttp(testRuntime({ config: { skills_dirs: [skills.path] } }), { host: '127.0.0.1', port: 0 });
    const client = await modernClient(handle.url);
    try {
      const seen: Array<{ progress: number; total?: number; message?: string }> = [];
      const result = await client.callTool({ name: 'skill_run', arguments: { name: 'two_notes' } }, { onprogress: (p) => void seen.push(p) });
      expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
      expect(seen.map((p) => `${p.progress}/${p.total} ${p.message}`)).toEqual(['1/2 first: succeeded', '2/2 second: succeeded']);
    } finally {
      await client.close();
    }
  });

  it('tells an open subscriptions/listen stream when persona_load changes the tool list, and not when it does not', async () => {
    handle = await serveHttp(testRuntime(), { host: '127.0.0.1', port: 0 });
    const client = await modernClient(handle.url);
    const notified: string[] = [];
    client.setNotificationHandler('notifications/tools/list_changed', (n) => void notified.push(n.method));
    const subscription = await client.listen({ toolsListChanged: true });
    expect(subscription.honoredFilter).toMatchObject({ toolsListChanged: true });
    try {
      const before = (await client.listTools()).tools.map((t) => t.name);

      await client.callTool({ name: 'persona_load', arguments: { persona: 'release' } });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(notified, 'the persona was already release: nothing changed').toEqual([]);

      const loaded = await client.callTool({ name: 'persona_load', arguments: { persona: 'developer' } });
      expect(loaded.isError).toBeFalsy();
      await expect.poll(() => notified, { timeout: 5_000 }).toEqual(['notifications/tools/list_changed']);
      const after = (await client.listTools()).tools.map((t) => t.name);
      expect(after).not.toEqual(before);
    } finally {
      await subscription.close();
      await client.close();
    }
  });
});
