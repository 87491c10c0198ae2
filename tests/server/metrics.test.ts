import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRun } from '../../src/memory/index.js';
import { serveHttp, type HttpHandle } from '../../src/server/http.js';
import { escapeLabelValue, renderPrometheus } from '../../src/server/metrics.js';
import type { Runtime } from '../../src/server/runtime.js';
import { errorOf, tempDir, testRuntime } from '../helpers/harness.js';
import { bundle, data, ledgerConfig, type Manifest } from '../releases/fixtures.js';
import { httpClient, TOKEN_CONFIG, TOKENS, type HttpClient } from './http-fixtures.js';

interface Parsed {
  types: Map<string, string>;
  samples: Array<{ name: string; labels: Record<string, string>; value: number }>;
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = `([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\\\\n]|\\\\[\\\\"n])*)"`;
const SAMPLE = new RegExp(`^(${NAME})(?:\\{((?:${LABEL},?)*)\\})? (\\S+)$`);

/** A strict reader of the Prometheus text format: every line must be HELP, TYPE or a sample of a declared family. */
function parsePrometheus(text: string): Parsed {
  expect(text.endsWith('\n')).toBe(true);
  const types = new Map<string, string>();
  const samples: Parsed['samples'] = [];
  for (const line of text.trimEnd().split('\n')) {
    if (line.startsWith('# HELP ')) {
      expect(line, line).toMatch(new RegExp(`^# HELP ${NAME} .+$`));
      continue;
    }
    const type = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) {
      expect(types.has(type[1]!), `duplicate TYPE ${type[1]}`).toBe(false);
      types.set(type[1]!, type[2]!);
      continue;
    }
    const match = SAMPLE.exec(line);
    expect(match, `not a sample line: ${line}`).not.toBeNull();
    const name = match![1]!;
    const family = types.has(name) ? name : name.replace(/_(bucket|sum|count)$/, '');
    expect(types.has(family), `sample ${name} before its TYPE`).toBe(true);
    const labels: Record<string, string> = {};
    for (const m of (match![2] ?? '').matchAll(new RegExp(LABEL, 'g'))) labels[m[1]!] = m[2]!;
    const value = match![match!.length - 1]!;
    expect(value, line).toMatch(/^([+-]?(\d+(\.\d+)?([eE][+-]?\d+)?|Inf)|NaN)$/);
    samples.push({ name, labels, value: Number(value.replace('+Inf', 'Infinity')) });
  }
  return { types, samples };
}

const valueOf = (parsed: Parsed, name: string, labels: Record<string, string> = {}) =>
  parsed.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value ?? 0;

describe('/metrics', () => {
  const dir = tempDir();
  let runtime: Runtime;
  let http: HttpHandle;
  let admin: HttpClient;
  let operator: HttpClient;
  const scrape = async (token = TOKENS.VIEWER_TOKEN) => {
    const response = await fetch(http.url.replace('/mcp', '/metrics'), { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0.0.4/);
    return parsePrometheus(await response.text());
  };

  beforeAll(async () => {
    runtime = testRuntime({ config: ledgerConfig(dir.path, { http: { tokens: TOKEN_CONFIG } }), env: TOKENS });
    http = await serveHttp(runtime, { host: '127.0.0.1', port: 0 });
    admin = await httpClient(http.url, TOKENS.ADMIN_TOKEN);
    operator = await httpClient(http.url, TOKENS.OPERATOR_TOKEN);
  });
  afterAll(async () => {
    await admin?.close();
    await operator?.close();
    await http?.close();
    dir.cleanup();
  });

  it('needs a token when tokens are configured; any role may read it', async () => {
    expect((await fetch(http.url.replace('/mcp', '/metrics'))).status).toBe(401);
    const parsed = await scrape(TOKENS.VIEWER_TOKEN);
    expect(parsed.types.get('releases_prepared_total')).toBe('counter');
    expect(parsed.types.get('release_promote_seconds')).toBe('histogram');
    expect(parsed.types.get('tool_calls_total')).toBe('counter');
  });

  it('moves the release counters, histograms and tool call counts', async () => {
    const before = await scrape();
    const { id } = data<Manifest>(await admin.call('release_prepare', { from_env: 'dev', to_env: 'staging', bundle: bundle([{ operation: 'create_table', table: 't1', columns: [{ name: 'id', type: 'INTEGER' }] }]) }));
    data(await admin.call('release_promote', { release_id: id }));
    expect(errorOf(await operator.call('release_rollback', { release_id: id })).code).toBe('forbidden');
    const failing = data<Manifest>(await admin.call('release_prepare', { from_env: 'staging', to_env: 'prod', bundle: bundle([{ operation: 'create_index', table: 'users', index: 'users_email_u', columns: ['email'], unique: true }]) }));
    // A duplicate written after prepare makes the promotion fail.
    const Database = (await import('better-sqlite3')).default;
    const prod = new Database(`${dir.path}/prod.db`);
    prod.prepare("INSERT INTO users (name, email) VALUES ('x', 'ada@example.com')").run();
    prod.close();
    expect((await admin.call('release_promote', { release_id: failing.id })).isError).toBe(true);

    const after = await scrape();
    expect(valueOf(after, 'releases_prepared_total') - valueOf(before, 'releases_prepared_total')).toBe(2);
    expect(valueOf(after, 'releases_promoted_total') - valueOf(before, 'releases_promoted_total')).toBe(1);
    expect(valueOf(after, 'releases_failed_total') - valueOf(before, 'releases_failed_total')).toBe(1);
    expect(valueOf(after, 'release_promote_seconds_count') - valueOf(before, 'release_promote_seconds_count')).toBe(2);
    expect(valueOf(after, 'release_prepare_seconds_sum')).toBeGreaterThan(0);
    expect(valueOf(after, 'tool_calls_total', { tool: 'release_prepare', outcome: 'ok' })).toBe(2);
    expect(valueOf(after, 'tool_calls_total', { tool: 'release_promote', outcome: 'precondition' })).toBe(1);
    expect(valueOf(after, 'tool_calls_total', { tool: 'release_rollback', outcome: 'forbidden' })).toBe(1);

    const buckets = after.samples.filter((s) => s.name === 'release_promote_seconds_bucket');
    const counts = buckets.map((b) => b.value);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    expect(buckets.at(-1)!.labels.le).toBe('+Inf');
    expect(buckets.at(-1)!.value).toBe(valueOf(after, 'release_promote_seconds_count'));
  });

  it('counts a run whose process died as interrupted, not running, as skill_runs shows it', async () => {
    const before = await scrape();
    const dead = spawnSync('node', ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    const run = async (id: string, owner: string, heartbeatAgoMs: number) => {
      await createRun(runtime.memory, { id, tenant: runtime.config.releases.default_tenant, started_by: 'test', skill: 's', version: '1', file: '', status: 'running', dry_run: false, inputs: {}, owner });
      runtime.memory.db.prepare('UPDATE skill_runs SET heartbeat_at = ? WHERE id = ?').run(Date.now() - heartbeatAgoMs, id);
    };
    // Killed: its process is gone and its lease (skills.lease_ms, 30 s here) expired a minute ago.
    await run('metrics-killed', `${hostname()}:${dead}:0badc0de`, 90_000);
    // Alive: its process (this test's parent) exists and it renewed its lease just now.
    await run('metrics-live', `${hostname()}:${process.ppid}:live`, 0);
    const after = await scrape();
    expect(after.types.get('skill_runs')).toBe('gauge');
    expect(valueOf(after, 'skill_runs', { status: 'interrupted' }) - valueOf(before, 'skill_runs', { status: 'interrupted' })).toBe(1);
    expect(valueOf(after, 'skill_runs', { status: 'running' }) - valueOf(before, 'skill_runs', { status: 'running' })).toBe(1);
    const listed = data<{ runs: Array<{ run_id: string; status: string }> }>(await admin.call('skill_runs', {}));
    expect(listed.runs.filter((r) => r.run_id.startsWith('metrics-')).map((r) => `${r.run_id}:${r.status}`).sort()).toEqual(['metrics-killed:interrupted', 'metrics-live:running']);
  });

  it('escapes label values and HELP text', async () => {
    expect(escapeLabelValue('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
    const text = renderPrometheus([{ name: 'x_total', help: 'line\nbreak', type: 'counter', samples: [{ name: 'x_total', labels: { tool: 'we"ird\\' }, value: 3 }] }]);
    expect(text).toBe('# HELP x_total line\\nbreak\n# TYPE x_total counter\nx_total{tool="we\\"ird\\\\"} 3\n');
    expect(parsePrometheus(text).samples[0]!.value).toBe(3);
  });
});
