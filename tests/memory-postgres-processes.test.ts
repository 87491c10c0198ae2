import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlackEmulator } from './emulators/slack.js';
import { tempDir } from './helpers/harness.js';
import { sharedPostgres } from './helpers/real-postgres.js';
import { bundle, ledgerConfig } from './releases/fixtures.js';
import { writeAnnounceSkill } from './skills/fixtures.js';

/**
 * Several real server processes (`node dist/cli.js`) on one PostgreSQL memory: concurrent writes
 * lose nothing and ids stay unique; a run killed in one process is resumed by another.
 */
const server = sharedPostgres();
const CLI = join(process.cwd(), 'dist', 'cli.js');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function query<T>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

describe.skipIf(!server)('four server processes on one PostgreSQL memory', () => {
  let dir: { path: string; cleanup(): void };
  beforeAll(() => {
    dir = tempDir('release-mcp-pg-');
  });
  afterAll(() => dir.cleanup());

  it('lose nothing when they append, teach fixes and prepare releases at the same time; ids are unique', async () => {
    const url = await server!.createDatabase('four');
    const config = join(dir.path, 'config.json');
    writeFileSync(config, JSON.stringify(ledgerConfig(dir.path)));
    const password = decodeURIComponent(new URL(url).password);
    // The password comes from PGPASSWORD, not the URL: it must be masked all the same.
    const bare = new URL(url);
    bare.password = '';
    const start = async () => {
      const client = new Client({ name: 'writer', version: '1.0.0' });
      await client.connect(new StdioClientTransport({ command: process.execPath, args: [CLI, 'serve', '--config', config, '--persona', 'all'], env: { ...process.env, RELEASE_MCP_DATABASE_URL: bare.toString(), PGPASSWORD: password } as Record<string, string>, stderr: 'pipe' }));
      return client;
    };
    const servers = await Promise.all([start(), start(), start(), start()]);
    const ok = (result: CallToolResult) => {
      expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
      return result.structuredContent as Record<string, unknown>;
    };
    const APPENDS = 60;
    const FIXES = 15;
    const PREPARES = 6;
    const work = async (client: Client, w: number) => {
      for (let batch = 0; batch < APPENDS / 10; batch++) {
        // Several calls in flight at once, so the processes really interleave.
        const calls = [
          ...Array.from({ length: 10 }, (_, i) => client.callTool({ name: 'memory_append', arguments: { key: 'stress', list: 'entries', item: { writer: w, n: batch * 10 + i } } })),
          ...(batch < FIXES / 5
            ? Array.from({ length: 5 }, (_, i) => [
                client.callTool({ name: 'learn_tool_fix', arguments: { tool_name: 'git_push', error_pattern: 'shared failure text', root_cause: `seen by ${w}`, fix_description: 'retry the push' } }),
                client.callTool({ name: 'learn_tool_fix', arguments: { tool_name: 'git_push', error_pattern: `failure ${w}-${batch * 5 + i}`, root_cause: 'r', fix_description: 'f' } }),
              ]).flat()
            : []),
          ...(batch < PREPARES ? [client.callTool({ name: 'release_prepare', arguments: { from_env: 'dev', to_env: 'staging', bundle: bundle([], { writer: String(w) }) } })] : []),
        ];
        for (const result of await Promise.all(calls)) ok(result as CallToolResult);
      }
      const seen = ok((await client.callTool({ name: 'memory_session_log', arguments: { action: `done ${w}`, details: `connected with ${password}` } })) as CallToolResult);
      expect(JSON.stringify(seen)).not.toContain(password);
    };
    await Promise.all(servers.map((client, w) => work(client, w)));
    await Promise.all(servers.map((c) => c.close()));

    const items = await query<{ id: number; item: string }>(url, "SELECT id, item FROM kv_items WHERE key = 'stress'");
    expect(items).toHaveLength(4 * APPENDS);
    expect(new Set(items.map((r) => r.id)).size).toBe(4 * APPENDS);
    for (let w = 0; w < 4; w++) {
      const ns = items.map((r) => JSON.parse(r.item) as { writer: number; n: number }).filter((i) => i.writer === w).map((i) => i.n).sort((a, b) => a - b);
      expect(ns).toEqual(Array.from({ length: APPENDS }, (_, i) => i));
    }
    expect(await query(url, "SELECT length FROM kv_lists WHERE key = 'stress'")).toEqual([{ length: 4 * APPENDS }]);

    // One row for the fix all four taught, counted every time; every writer's own fixes kept.
    expect(await query(url, "SELECT count(*)::int AS rows, max(times_fixed) AS fixed FROM learned_fixes WHERE error_pattern = 'shared failure text'")).toEqual([{ rows: 1, fixed: 4 * FIXES }]);
    expect(await query(url, "SELECT count(*)::int AS n FROM learned_fixes WHERE error_pattern LIKE 'failure %'")).toEqual([{ n: 4 * FIXES }]);

    const releases = await query<{ id: string }>(url, 'SELECT id FROM releases');
    expect(releases).toHaveLength(4 * PREPARES);
    expect(new Set(releases.map((r) => r.id)).size).toBe(4 * PREPARES);
    expect(await query(url, "SELECT count(*)::int AS n FROM release_events WHERE event = 'release.prepared'")).toEqual([{ n: 4 * PREPARES }]);
    const journal = await query<{ details: string }>(url, "SELECT details FROM session_log WHERE action LIKE 'done %'");
    expect(journal).toHaveLength(4);
    for (const row of journal) expect(row.details).not.toContain(password);
  }, 120_000);
});

describe.skipIf(!server)('a skill run killed in one process, on a PostgreSQL memory', () => {
  const LEASE_MS = 800;
  const slack = new SlackEmulator();
  let dir: { path: string; cleanup(): void };
  let config: string;
  let url: string;
  beforeAll(async () => {
    await slack.start();
    dir = tempDir('release-mcp-pg-crash-');
    config = writeAnnounceSkill(dir.path, LEASE_MS);
    url = await server!.createDatabase('crash');
  });
  afterAll(async () => {
    await slack.stop();
    dir.cleanup();
  });
  const env = () => ({ ...process.env, NO_COLOR: '1', SLACK_WEBHOOK_URL: slack.webhookUrl, RELEASE_MCP_DATABASE_URL: url });
  const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, 'skill', ...args, '--config', config], { encoding: 'utf8', env: env() });

  it('is seen as interrupted by another process, which resumes it without repeating what was done', async () => {
    slack.server.inject({ delayMs: 1500, match: /POST \/services\// });
    const child: ChildProcess = spawn(process.execPath, [CLI, 'skill', 'run', 'announce', '--input', 'tag=a', '--config', config], { env: env(), stdio: 'ignore' });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    let runId: string | undefined;
    try {
      const deadline = Date.now() + 20_000;
      while (!runId && Date.now() < deadline) {
        const rows = await query<{ run_id: string }>(url, "SELECT run_id FROM run_step_calls WHERE name = 'post' AND done_at IS NULL").catch(() => []);
        runId = rows[0]?.run_id;
        if (!runId) await sleep(50);
      }
      expect(runId).toBeDefined();
      // Killed once Slack has the request, before the answer comes back.
      const until = Date.now() + 10_000;
      while (slack.server.pendingFaults > 0 && Date.now() < until) await sleep(20);
    } finally {
      child.kill('SIGKILL');
      await exited;
    }

    await sleep(LEASE_MS + 300);
    const listed = cli('runs', '--json');
    expect(listed.status, listed.stderr).toBe(0);
    expect((JSON.parse(listed.stdout).runs as Array<{ run_id: string; status: string }>).find((r) => r.run_id === runId)?.status).toBe('interrupted');
    await sleep(1500);
    expect(slack.payloads.map((p) => p.payload.text)).toEqual(['release a']);

    // Another process takes it: it asks before sending again, then skips the post on the operator's word.
    const asked = cli('resume', runId!, '--json');
    expect(asked.status, asked.stderr).toBe(3);
    expect(JSON.parse(asked.stdout)).toMatchObject({ status: 'awaiting_approval' });
    const done = cli('resume', runId!, '--skip', '--json');
    expect(done.status, done.stderr).toBe(0);
    expect(JSON.parse(done.stdout)).toMatchObject({ run_id: runId, status: 'succeeded' });
    expect(slack.payloads).toHaveLength(1);
    expect((await query<{ action: string }>(url, 'SELECT action FROM session_log ORDER BY id')).map((r) => r.action)).toEqual(['before a', 'after a']);
    expect(await query(url, 'SELECT status, resumes, owner FROM skill_runs WHERE id = $1', [runId])).toEqual([{ status: 'succeeded', resumes: 2, owner: null }]);
  }, 90_000);
});
