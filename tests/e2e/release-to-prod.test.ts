import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectServer, createReleaseEnv, KONFLUX_NAMESPACE, RELEASE_PLAN, STAGING_REPO, type ReleaseEnv, type ServerClient } from '../helpers/release-env.js';
import { errorOf, runOf as run, stepOf as step, textOf as text } from '../helpers/harness.js';

const SKILL = 'release_to_prod';
let env: ReleaseEnv;
let mcp: ServerClient;
let stopController: () => void;

const releases = () => env.kube.all('releases', KONFLUX_NAMESPACE);

beforeAll(async () => {
  env = await createReleaseEnv({ prefix: 'e2e-konflux-' });
  stopController = env.startReleaseController();
  mcp = await connectServer(env, { approve: true });
});

afterAll(async () => {
  stopController?.();
  await mcp?.close();
  await env?.close();
});

describe('release_to_prod', () => {
  it('refuses a short SHA before any step runs', async () => {
    const result = await mcp.runSkill(SKILL, { commit_sha: env.commits.release.slice(0, 8) });
    expect(result.isError).toBe(true);
    expect(errorOf(result)).toMatchObject({ code: 'invalid_input' });
    expect(errorOf(result).message).toContain('commit_sha');
  });

  it('with dry_run checks everything and creates nothing', async () => {
    const slackBefore = env.slack.payloads.length;
    const result = await mcp.runSkill(SKILL, { commit_sha: env.commits.release, dry_run: true });
    expect(result.isError, text(result)).toBeFalsy();
    expect(run(result).status).toBe('succeeded');
    expect(run(result).outputs).toMatchObject({ status: 'dry_run', release: null, snapshot: `aap-aa-main-${env.commits.release.slice(0, 7)}` });
    for (const name of ['check_image', 'check_vulnerabilities', 'check_alerts', 'get_component', 'find_snapshot', 'recent_releases']) expect(step(result, name).status).toBe('succeeded');
    for (const name of ['approve', 'create_release', 'record_history', 'notify_team']) expect(step(result, name).status).toBe('skipped');
    expect(releases()).toHaveLength(0);
    expect(env.slack.payloads.length).toBe(slackBefore);
  });

  it('plans (skill_plan) without creating anything, showing the Release it would create', async () => {
    const result = await mcp.call('skill_plan', { name: SKILL, inputs: { commit_sha: env.commits.release, wait: true } });
    expect(result.isError, text(result)).toBeFalsy();
    expect(run(result).status).toBe('planned');
    expect(step(result, 'create_release')).toMatchObject({ status: 'planned', args: { snapshot: `aap-aa-main-${env.commits.release.slice(0, 7)}`, release_plan: RELEASE_PLAN, namespace: KONFLUX_NAMESPACE, allow_duplicate: false } });
    expect(step(result, 'wait_release')).toMatchObject({ status: 'planned', note: 'arguments depend on the output of planned step create_release' });
    expect(releases()).toHaveLength(0);
  });

  it('is blocked by a critical CVE in the staging image', async () => {
    const digest = env.stagingDigests[env.commits.previous]!;
    env.quay.setSecurity(STAGING_REPO, digest, {
      status: 'scanned',
      data: { Layer: { Features: [{ Name: 'openssl', Version: '3.0.1', Vulnerabilities: [{ Name: 'CVE-2026-0001', Severity: 'Critical', FixedBy: '3.0.9', Link: 'https://access.redhat.com/security/cve/CVE-2026-0001', Description: 'remote code execution' }] }] } },
    } as never);
    try {
      const result = await mcp.runSkill(SKILL, { commit_sha: env.commits.previous });
      expect(result.isError).toBe(true);
      expect(run(result).status).toBe('failed');
      const blocked = step(result, 'vulnerability_policy');
      expect(blocked.status).toBe('failed');
      expect(blocked.error?.message).toMatch(/^vulnerability policy blocks the release: 1 critical vulnerability/);
      expect(blocked.error?.message).toContain('CVE-2026-0001');
      expect(releases()).toHaveLength(0);
    } finally {
      env.quay.setSecurity(STAGING_REPO, digest, { status: 'scanned', data: { Layer: { Features: [] } } } as never);
    }
  });

  it('is blocked by a firing critical alert in production', async () => {
    env.prometheus.addAlert({ name: 'TowerAnalyticsApiDown', severity: 'critical', namespace: 'tower-analytics-prod', summary: 'API down' });
    try {
      const result = await mcp.runSkill(SKILL, { commit_sha: env.commits.release });
      expect(result.isError).toBe(true);
      const blocked = step(result, 'no_critical_alerts');
      expect(blocked.status).toBe('failed');
      expect(blocked.error?.message).toContain('TowerAnalyticsApiDown');
      expect(releases()).toHaveLength(0);
    } finally {
      env.prometheus.alerts = [];
    }
  });

  it('records a learned fix when the image is missing, and shows it the next time', async () => {
    const sha = env.commits.missingImage;
    const first = await mcp.runSkill(SKILL, { commit_sha: sha });
    expect(first.isError).toBe(true);
    expect(step(first, 'check_image')).toMatchObject({ status: 'failed', error: { code: 'not_found' } });
    expect(step(first, 'learn_fix').status).toBe('succeeded');
    const second = await mcp.runSkill(SKILL, { commit_sha: sha });
    expect(step(second, 'check_image').matches?.map((m) => m.fix)).toContain('Wait for the Konflux build of the commit (konflux_list_builds with component and commit_sha shows whether it runs or failed), then resume');
    expect(text(second)).toContain('Known fixes:');
    expect(releases()).toHaveLength(0);
  });

  it('records the fix for an expired Konflux login, and for an unreachable cluster', async () => {
    env.kube.inject({ status: 401, body: { kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 }, match: /components/ });
    const unauthorized = await mcp.runSkill(SKILL, { commit_sha: env.commits.release });
    expect(unauthorized.isError).toBe(true);
    expect(step(unauthorized, 'get_component')).toMatchObject({ status: 'failed', error: { code: 'auth' } });
    expect(step(unauthorized, 'learn_fix').status).toBe('succeeded');
    env.kube.inject({ drop: true, times: 3, match: /components/ });
    const unreachable = await mcp.runSkill(SKILL, { commit_sha: env.commits.release });
    expect(step(unreachable, 'get_component')).toMatchObject({ status: 'failed', attempts: 3, error: { code: 'network' } });
    const fixes = await mcp.call('check_known_issues', { tool_name: 'konflux_get_component', limit: 10 });
    const text = JSON.stringify(fixes.structuredContent);
    expect(text).toContain('Log in to the Konflux cluster again (oc login)');
    expect(text).toContain('Connect the VPN');
    // The lesson's pattern is the error's own words: the next unreachable cluster shows the fix beside the error.
    env.kube.inject({ drop: true, times: 3, match: /components/ });
    const again = await mcp.runSkill(SKILL, { commit_sha: env.commits.release });
    expect(step(again, 'get_component').matches?.[0]).toMatchObject({ fix: expect.stringContaining('Connect the VPN') });
    expect(releases()).toHaveLength(0);
  });

  it('creates one Release for the snapshot of the SHA, waits for it, records and notifies', async () => {
    const result = await mcp.runSkill(SKILL, { commit_sha: env.commits.release, wait: true });
    expect(result.isError, text(result)).toBeFalsy();
    expect(run(result).status).toBe('succeeded');
    expect(releases()).toHaveLength(1);
    const release = releases()[0]!;
    expect(release.spec).toMatchObject({ snapshot: `aap-aa-main-${env.commits.release.slice(0, 7)}`, releasePlan: RELEASE_PLAN });
    expect(run(result).outputs).toMatchObject({ release: release.metadata.name, status: 'Succeeded' });
    expect(step(result, 'approve').status).toBe('succeeded');
    // Key-value lists are the developer persona's: a release engineer loads it to look.
    await mcp.call('persona_load', { persona: 'developer' });
    const history = await mcp.call('memory_read', { key: 'state/releases', list: 'release_history' });
    await mcp.call('persona_load', { persona: 'release' });
    expect(JSON.stringify(history.structuredContent)).toContain(release.metadata.name);
    expect(JSON.stringify(env.slack.payloads.at(-1)!.payload)).toContain(release.metadata.name);
  });

  it('stops when the snapshot was already released, and learns what that means', async () => {
    const result = await mcp.runSkill(SKILL, { commit_sha: env.commits.release });
    expect(result.isError).toBe(true);
    const stopped = step(result, 'not_already_released');
    expect(stopped.status).toBe('failed');
    expect(stopped.error?.message).toContain('was already released');
    expect(stopped.error?.message).toContain(releases()[0]!.metadata.name);
    expect(step(result, 'learn_fix').status).toBe('succeeded');
    expect(releases()).toHaveLength(1);
  });

  it('stops when another snapshot of the same commit was released: a newer snapshot is no reason to release it again', async () => {
    const first = env.kube.find('snapshots', KONFLUX_NAMESPACE, `aap-aa-main-${env.commits.release.slice(0, 7)}`)!;
    env.kube.seed('snapshots', { metadata: { name: `aap-aa-main-${env.commits.release.slice(0, 7)}-rebuild`, labels: first.metadata.labels ?? {}, creationTimestamp: new Date(Date.now() + 60_000).toISOString() }, spec: first.spec as Record<string, unknown> });
    const result = await mcp.runSkill(SKILL, { commit_sha: env.commits.release });
    expect(result.isError).toBe(true);
    expect(step(result, 'find_snapshot').output_summary).toContain('rebuild');
    expect(step(result, 'not_already_released')).toMatchObject({ status: 'failed', error: { message: expect.stringContaining(releases()[0]!.metadata.name) } });
    expect(releases()).toHaveLength(1);
  });
});
