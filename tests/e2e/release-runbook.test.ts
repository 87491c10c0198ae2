import { join } from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EmulatorServer } from '../emulators/base.js';
import { GitlabEmulator } from '../emulators/gitlab.js';
import { PrometheusEmulator } from '../emulators/prometheus.js';
import { SlackEmulator } from '../emulators/slack.js';
import { git, gitFixture, type GitFixture } from '../helpers/git-fixture.js';
import { connect, testRuntime, textOf, type ConnectedClient } from '../helpers/harness.js';
import { columnsOf, data, seedUsers } from '../releases/fixtures.js';
import type { Runtime } from '../../src/server/runtime.js';

const NS = 'tower-analytics-prod';
const PROJECT = 'team/app';
const TOKEN = 'glpat-runbook-test';

interface Step {
  name: string;
  status: string;
  note?: string | null;
  error?: { code: string; message: string } | null;
}
interface Run {
  run_id: string;
  status: string;
  steps: Step[];
  outputs: Record<string, unknown>;
  report: string;
}

/** The run record of a result, with its report: the text of the result. */
const run = (result: CallToolResult): Run => ({ ...(result.structuredContent as unknown as Omit<Run, 'report'>), report: textOf(result) });
const step = (r: Run, name: string) => r.steps.find((s) => s.name === name);

describe('release_runbook against the emulators', () => {
  const gitlab = new GitlabEmulator();
  const prom = new PrometheusEmulator();
  const slack = new SlackEmulator();
  const service = new EmulatorServer('service');
  const health: Record<string, number> = {};
  let fixture: GitFixture;
  let sha: string;
  let runtime: Runtime;
  let mcp: ConnectedClient;

  beforeAll(async () => {
    for (const env of ['staging', 'prod']) {
      service.route('GET', `/${env}/health`, () => ({ status: health[env]!, body: { status: health[env] === 200 ? 'ok' : 'down' } }));
      service.route('GET', `/${env}/catalog`, () => ({ status: 200, body: { items: [{ id: 1 }] } }));
    }
    await Promise.all([gitlab.start(), prom.start(), slack.start(), service.start()]);
    gitlab.addToken(TOKEN, 'release-bot');
    gitlab.addProject(PROJECT);
  });
  afterAll(async () => {
    await Promise.all([gitlab.stop(), prom.stop(), slack.stop(), service.stop()]);
  });

  beforeEach(async () => {
    health.staging = 200;
    health.prod = 200;
    prom.alerts = [];
    slack.payloads.length = 0;
    fixture = gitFixture();
    sha = git(fixture.work, 'rev-parse', 'HEAD').trim();
    gitlab.setPipeline(PROJECT, { ref: 'master', sha, status: 'success' });
    const dir = fixture.root;
    seedUsers(join(dir, 'staging.db'));
    seedUsers(join(dir, 'prod.db'));
    const check = (env: string) => ({ url: `${service.url}/${env}/health`, json_field: 'status', expect_value: 'ok' });
    const smoke = (env: string) => [{ name: 'catalog lists items', url: `${service.url}/${env}/catalog`, json_field: 'items' }];
    runtime = testRuntime({
      config: {
        ...fixture.config,
        gitlab: { url: gitlab.url, timeout_ms: 5000 },
        prometheus: { environments: { production: { url: prom.url, namespace: NS } }, timeout_ms: 2000 },
        slack: { timeout_ms: 2000 },
        environments: [
          { name: 'dev', database: join(dir, 'dev.db') },
          { name: 'staging', database: join(dir, 'staging.db'), health_urls: [check('staging')], smoke_checks: smoke('staging') },
          { name: 'prod', database: join(dir, 'prod.db'), health_urls: [check('prod')], smoke_checks: smoke('prod'), alerts_environment: 'production' },
        ],
        releases: { repo: 'app', gitlab_project: PROJECT, watch_minutes: 0.01, watch_interval_seconds: 0.1 },
      },
      env: { GITLAB_TOKEN: TOKEN, SLACK_WEBHOOK_URL: slack.webhookUrl },
    });
    mcp = await connect(runtime);
  });
  afterEach(async () => {
    await mcp.close();
    runtime.close();
    fixture.cleanup();
  });

  /** A prepared release of the fixture's commit: staging -> prod, adding a column to users. */
  const prepare = async (options: { from?: string; hotfix?: boolean } = {}) => {
    const bundle = { commit_sha: sha, images: { backend: `quay.io/org/backend:${sha}` }, migrations: [{ operation: 'add_column', table: 'users', column: { name: 'plan', type: 'TEXT' } }] };
    return data<{ id: string }>(await mcp.call('release_prepare', { from_env: options.from ?? 'staging', to_env: 'prod', bundle, hotfix: options.hotfix ?? false })).id;
  };
  const remoteTags = () => git(fixture.origin, 'tag', '--list').split('\n').filter(Boolean);
  const releaseStatus = async (id: string) => data<{ status: string }>(await mcp.call('release_get', { release_id: id })).status;
  const prodDb = () => join(fixture.root, 'prod.db');
  const expectedTag = () => `v${new Date().toISOString().slice(0, 10).replace(/-/g, '.')}-${sha.slice(0, 7)}`;

  it('lints clean', async () => {
    const lint = data<{ ok: boolean; skills: Array<{ name: string; problems: unknown[] }> }>(await mcp.call('skill_lint', { target: 'release_runbook' }));
    expect(lint.ok).toBe(true);
  });

  it('releases to prod: checks, staging soak, promotion, verification, watch, tag pushed, team told', async () => {
    const id = await prepare();
    const result = await mcp.call('skill_run', { name: 'release_runbook', inputs: { sha, target: 'prod' } });
    const r = run(result);
    expect(result.isError, r.report).toBeFalsy();
    expect(r.status).toBe('succeeded');
    for (const name of ['pipeline_green', 'no_critical_alerts', 'staging_health', 'staging_smoke', 'migrations_dry_run_ok', 'promote', 'target_health', 'target_smoke', 'watch', 'tag', 'push_tag']) {
      expect(step(r, name)?.status, name).toBe('succeeded');
    }
    expect(step(r, 'hotfix_soak_skipped')?.status).toBe('skipped');
    expect(step(r, 'rollback')?.status).toBe('skipped');
    expect(await releaseStatus(id)).toBe('promoted');
    expect(columnsOf(prodDb(), 'users')).toContain('plan');
    expect(remoteTags()).toEqual([expectedTag()]);
    expect(git(fixture.origin, 'rev-list', '-n', '1', expectedTag()).trim()).toBe(sha);
    expect(r.outputs).toMatchObject({ target: 'prod', hotfix: false, staging_soak: 'verified', release_id: id, tag: expectedTag() });
    expect(String(r.outputs.watch)).toMatch(/poll\(s\) over .* no blocking alert/);
    expect(service.requestsMatching(/staging\/(health|catalog)/).length).toBeGreaterThanOrEqual(2);
    expect(slack.payloads.map((p) => p.payload.text)).toEqual([expect.stringMatching(/^Release done/)]);
  });

  it('stops before prod when the staging health check fails: nothing promoted, no tag, team told', async () => {
    const id = await prepare();
    health.staging = 503;
    const result = await mcp.call('skill_run', { name: 'release_runbook', inputs: { sha, target: 'prod' } });
    const r = run(result);
    expect(result.isError).toBe(true);
    expect(r.status).toBe('failed');
    expect(step(r, 'staging_health')).toMatchObject({ status: 'failed', error: { code: 'upstream' } });
    expect(step(r, 'staging_health')!.error!.message).toContain('status 503, expected 200');
    expect(step(r, 'promote')).toBeUndefined();
    expect(await releaseStatus(id)).toBe('prepared');
    expect(columnsOf(prodDb(), 'users')).not.toContain('plan');
    expect(remoteTags()).toEqual([]);
    expect(git(fixture.work, 'tag', '--list').trim()).toBe('');
    expect(slack.payloads).toHaveLength(1);
    expect(slack.payloads[0]!.payload.text).toMatch(/^Release failed.*at step staging_health/);
  });

  it('rolls back and fails, naming the alert, when a critical alert fires during the watch', async () => {
    const id = await prepare();
    // The alert starts firing after the first poll of the watch (polls 1 and 2 are the checks before and after the deploy).
    const before = prom.server.requestsMatching(/alerts/).length;
    const polls = () => prom.server.requestsMatching(/alerts/).length - before;
    const timer = setInterval(() => {
      if (polls() >= 3 && prom.alerts.length === 0) prom.addAlert({ name: 'AABackendDown', severity: 'critical', namespace: NS, summary: '5xx spike' });
    }, 5);
    try {
      const result = await mcp.call('skill_run', { name: 'release_runbook', inputs: { sha, target: 'prod' } });
      const r = run(result);
      expect(result.isError).toBe(true);
      expect(r.status).toBe('failed');
      expect(step(r, 'promote')?.status).toBe('succeeded');
      expect(step(r, 'watch')?.status).toBe('succeeded');
      expect(step(r, 'rollback')?.status).toBe('succeeded');
      const held = step(r, 'release_held')!;
      expect(held.status).toBe('failed');
      expect(held.error!.message).toMatch(/AABackendDown \(critical\) fired in tower-analytics-prod during the post-release watch/);
      expect(held.error!.message).toContain(`release ${id} was ROLLED BACK`);
      expect(step(r, 'tag')).toBeUndefined();
      expect(r.report).toContain('release_runbook v1: failed');
      expect(await releaseStatus(id)).toBe('rolled_back');
      expect(columnsOf(prodDb(), 'users')).not.toContain('plan');
      expect(remoteTags()).toEqual([]);
      expect(slack.payloads).toHaveLength(1);
      expect(slack.payloads[0]!.payload.text).toMatch(/^Release failed.*at step release_held/);
      expect(JSON.stringify(slack.payloads[0]!.payload)).toContain('AABackendDown');
    } finally {
      clearInterval(timer);
    }
  });

  it('rolls back when prod fails its health check after the promotion, and does not watch', async () => {
    const id = await prepare();
    health.prod = 500;
    const r = run(await mcp.call('skill_run', { name: 'release_runbook', inputs: { sha, target: 'prod', notify: false } }));
    expect(r.status).toBe('failed');
    expect(step(r, 'target_health')?.status).toBe('succeeded');
    expect(step(r, 'watch')?.status).toBe('skipped');
    expect(step(r, 'release_held')!.error!.message).toMatch(/^prod failed verification after the deploy: health: .*status 500, expected 200; release rel_\S+ was ROLLED BACK/);
    expect(await releaseStatus(id)).toBe('rolled_back');
    expect(remoteTags()).toEqual([]);
  });

  it('a hotfix skips the staging soak and says so', async () => {
    const id = await prepare({ from: 'dev', hotfix: true });
    health.staging = 503; // would stop a normal release
    const before = service.requestsMatching(/staging/).length;
    const result = await mcp.call('skill_run', { name: 'release_runbook', inputs: { sha, target: 'prod', hotfix: true } });
    const r = run(result);
    expect(result.isError, r.report).toBeFalsy();
    expect(step(r, 'hotfix_soak_skipped')).toMatchObject({ status: 'succeeded', note: expect.stringContaining('HOTFIX: the staging soak') });
    expect(step(r, 'staging_health')?.status).toBe('skipped');
    expect(r.report).toContain('HOTFIX: the staging soak');
    expect(r.outputs).toMatchObject({ staging_soak: 'skipped (hotfix)', release_id: id });
    expect(service.requestsMatching(/staging/).length).toBe(before);
    expect(JSON.stringify(slack.payloads[0]!.payload)).toContain('Hotfix: the staging soak was skipped.');
  });

  it('refuses a commit whose pipeline is not green, before anything changes', async () => {
    const id = await prepare();
    gitlab.setPipeline(PROJECT, { ref: 'master', sha, status: 'failed', jobs: [{ name: 'pytest', stage: 'test', status: 'failed' }] });
    const r = run(await mcp.call('skill_run', { name: 'release_runbook', inputs: { sha, target: 'prod' } }));
    expect(r.status).toBe('failed');
    expect(step(r, 'pipeline_green')!.error!.message).toMatch(/is failed \(failed: pytest\): a release needs a green pipeline/);
    expect(await releaseStatus(id)).toBe('prepared');
  });

  it('deploys through the deploy pipeline with deploy_via pipeline, and waits for it', async () => {
    gitlab.startedPipelineStatuses = ['running', 'success'];
    try {
      const r = run(await mcp.call('skill_run', { name: 'release_runbook', inputs: { sha, target: 'prod', deploy_via: 'pipeline', pipeline_poll_seconds: 0.1, notify: false } }));
      expect(r.status, r.report).toBe('succeeded');
      expect(step(r, 'promote')?.status).toBe('skipped');
      expect(step(r, 'deploy_pipeline')?.status).toBe('succeeded');
      const started = gitlab.pipelines.at(-1)!;
      expect(started).toMatchObject({ ref: 'master', status: 'success' });
      expect(gitlab.pipelineVariables.get(started.id)).toEqual([
        { key: 'DEPLOY_ENV', value: 'prod', variable_type: 'env_var' },
        { key: 'RELEASE_SHA', value: sha, variable_type: 'env_var' },
      ]);
      expect(r.outputs.deploy_pipeline).toBe(started.web_url);
      expect(remoteTags()).toEqual([expectedTag()]);
      expect(slack.payloads).toHaveLength(0);
    } finally {
      gitlab.startedPipelineStatuses = [];
    }
  });

  it('a plan does not run the post-release watch against the environment it has not deployed to', async () => {
    await prepare();
    const result = await mcp.call('skill_plan', { name: 'release_runbook', inputs: { sha, target: 'prod' } });
    const r = run(result);
    expect(result.isError, r.report).toBeFalsy();
    expect(r.status).toBe('planned');
    expect(step(r, 'promote')?.status).toBe('planned');
    expect(step(r, 'watch')?.status).toBe('planned');
    expect(step(r, 'watch')?.note).toMatch(/planned step promote/);
    expect(step(r, 'tag')?.status).toBe('planned');
    expect(remoteTags()).toEqual([]);
  });
});
