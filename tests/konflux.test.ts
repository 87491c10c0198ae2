import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KubeEmulator } from './emulators/kube.js';
import { connect, errorOf, testRuntime, type ConnectedClient } from './helpers/harness.js';

const NS = 'aap-aa-tenant';
const APP = 'aap-aa-main';
const PLAN = 'aap-aa-main-prod';
const SHA = '0123456789abcdef0123456789abcdef01234567';
const OTHER_SHA = 'f'.repeat(40);
const HAND_MADE_SHA = 'c'.repeat(40);
const TOKEN = 'kube-test-token';
const LOGIN_HINT = 'run oc login --web against the Konflux cluster, then retry';

const kube = new KubeEmulator();
let mcp: ConnectedClient;

function runtimeFor(token: string, extra: Record<string, unknown> = {}) {
  return testRuntime({
    config: { konflux: { kubeconfig: kube.kubeconfigFor(token), namespace: NS, release_plan: PLAN, login_hint: LOGIN_HINT, timeout_ms: 2000, poll_interval_ms: 50, ...extra } },
  });
}

function snapshot(name: string, sha: string, options: { labelled?: boolean; created?: string } = {}) {
  kube.seed('snapshots', {
    metadata: { name, ...(options.created ? { creationTimestamp: options.created } : {}), ...(options.labelled === false ? {} : { labels: { 'appstudio.openshift.io/application': APP } }) },
    spec: {
      application: APP,
      components: [
        { name: 'backend', containerImage: `quay.io/x/backend@sha256:${name.padEnd(64, '0').slice(0, 64)}`, source: { git: { url: 'https://git/backend', revision: sha } } },
        { name: 'worker', containerImage: 'quay.io/x/worker@sha256:1', source: { git: { url: 'https://git/worker', revision: OTHER_SHA } } },
      ],
    },
  });
}

beforeAll(async () => {
  await kube.start();
  kube.seed('applications', { metadata: { name: APP }, spec: { displayName: 'AA main' } });
  kube.seed('applications', { metadata: { name: 'aap-aa-other' }, spec: { displayName: 'Other' } });
  kube.seed('components', {
    metadata: { name: 'automation-analytics-backend-main' },
    spec: { componentName: 'backend', application: APP, source: { git: { url: 'https://git/backend', revision: 'main' } }, containerImage: 'quay.io/x/backend' },
    status: { lastBuiltCommit: SHA },
  });
  kube.seed('components', { metadata: { name: 'other-comp' }, spec: { componentName: 'other', application: 'aap-aa-other' } });
  kube.seed('releaseplans', { metadata: { name: PLAN }, spec: { application: APP, target: 'rhtap-releng-tenant' } });
  snapshot('aap-aa-main-old', SHA, { created: '2026-01-01T01:00:00Z' });
  snapshot('aap-aa-main-new', SHA, { created: '2026-01-02T01:00:00Z' });
  snapshot('aap-aa-main-unlabelled', HAND_MADE_SHA, { labelled: false, created: '2026-01-03T01:00:00Z' });
  snapshot('aap-aa-main-other', OTHER_SHA.replace(/f/g, 'e'));
});
afterAll(async () => {
  await kube.stop();
});
beforeEach(async () => {
  mcp = await connect(runtimeFor(TOKEN), { persona: 'devops' });
});
afterEach(async () => {
  kube.server.clearFaults();
  await mcp.close();
});

describe('applications and components', () => {
  it('gets and lists applications in the configured namespace', async () => {
    const one = await mcp.call('konflux_get_application', { name: APP });
    expect(one.structuredContent).toMatchObject({ name: APP, namespace: NS, display_name: 'AA main' });
    const all = await mcp.call('konflux_list_applications', {});
    expect((all.structuredContent!.applications as Array<{ name: string }>).map((a) => a.name)).toEqual(['aap-aa-main', 'aap-aa-other']);
    const req = kube.server.requestsMatching(/applications$/).at(-1)!;
    expect(req.path).toBe(`/apis/appstudio.redhat.com/v1alpha1/namespaces/${NS}/applications`);
    expect(req.headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('gets a component and lists the components of one application', async () => {
    const one = await mcp.call('konflux_get_component', { name: 'automation-analytics-backend-main' });
    expect(one.structuredContent).toMatchObject({ application: APP, component_name: 'backend', last_built_commit: SHA, container_image: 'quay.io/x/backend' });
    const list = await mcp.call('konflux_list_components', { application: APP });
    expect((list.structuredContent!.components as Array<{ name: string }>).map((c) => c.name)).toEqual(['automation-analytics-backend-main']);
  });

  it('maps a missing object to not_found with the API message, and a forbidden namespace to forbidden', async () => {
    const missing = errorOf(await mcp.call('konflux_get_component', { name: 'nope' }));
    expect(missing.code).toBe('not_found');
    expect(missing.message).toContain('components.appstudio.redhat.com "nope" not found');
    kube.forbiddenNamespaces.add('locked');
    expect(errorOf(await mcp.call('konflux_list_applications', { namespace: 'locked' })).code).toBe('forbidden');
  });

  it('gives an expired token an auth error whose hint says how to log in again', async () => {
    await mcp.close();
    mcp = await connect(runtimeFor('expired-token'), { persona: 'devops' });
    const error = errorOf(await mcp.call('konflux_list_applications', {}));
    expect(error.code).toBe('auth');
    expect(error.hint).toBe(LOGIN_HINT);
  });

  it('maps 429, 500, a slow API and an unreachable cluster', async () => {
    kube.inject({ status: 429, headers: { 'retry-after': '3' }, body: { kind: 'Status', code: 429, message: 'too many requests', reason: 'TooManyRequests' } });
    expect(errorOf(await mcp.call('konflux_list_applications', {})).code).toBe('rate_limited');
    kube.inject({ status: 500, body: { kind: 'Status', code: 500, message: 'etcdserver: request timed out', reason: 'InternalError' } });
    const upstream = errorOf(await mcp.call('konflux_list_applications', {}));
    expect(upstream.code).toBe('upstream');
    expect(upstream.message).toContain('etcdserver');
    kube.inject({ delayMs: 2500, status: 200 });
    expect(errorOf(await mcp.call('konflux_list_applications', {})).code).toBe('timeout');

    await mcp.close();
    const unreachable = kube.kubeconfigFor(TOKEN);
    writeFileSync(unreachable, readFileSync(unreachable, 'utf8').replace(kube.url, 'http://127.0.0.1:1'));
    mcp = await connect(testRuntime({ config: { konflux: { kubeconfig: unreachable, login_hint: LOGIN_HINT } } }), { persona: 'devops' });
    const network = errorOf(await mcp.call('konflux_list_applications', {}));
    expect(network.code).toBe('network');
    expect(network.hint).toContain('VPN');

    await mcp.close();
    mcp = await connect(testRuntime({ config: { konflux: { kubeconfig: unreachable.replace(/config$/, 'missing') } } }), { persona: 'devops' });
    expect(errorOf(await mcp.call('konflux_list_applications', {})).code).toBe('config');
    await mcp.close();
    mcp = await connect(testRuntime({ config: {} }), { persona: 'devops' });
    const none = errorOf(await mcp.call('konflux_list_applications', {}));
    expect(none.code).toBe('config');
    expect(none.hint).toContain('KUBECONFIG');
  });

  it('reads the kubeconfig path from KUBECONFIG and rebuilds the client after logging in again', async () => {
    await mcp.close();
    const path = kube.kubeconfigFor('stale-token');
    mcp = await connect(testRuntime({ config: { konflux: { namespace: NS, login_hint: LOGIN_HINT } }, env: { KUBECONFIG: path } }), { persona: 'devops' });
    expect(errorOf(await mcp.call('konflux_list_applications', {})).code).toBe('auth');
    writeFileSync(path, readFileSync(path, 'utf8').replace('stale-token', TOKEN));
    expect((await mcp.call('konflux_list_applications', {})).isError).toBeFalsy();
  });
});

describe('konflux_find_snapshot', () => {
  it('finds the labelled snapshots of a commit, newest first', async () => {
    const result = await mcp.call('konflux_find_snapshot', { application: APP, commit_sha: SHA.toUpperCase() });
    expect(result.isError).toBeFalsy();
    const snapshots = result.structuredContent!.snapshots as Array<{ name: string; components: Array<{ revision: string }> }>;
    expect(snapshots.map((s) => s.name)).toEqual(['aap-aa-main-new', 'aap-aa-main-old']);
    expect(snapshots[0]!.components[0]!.revision).toBe(SHA);
    expect(kube.server.requestsMatching(/snapshots$/).at(-1)!.query).toContain('labelSelector=appstudio.openshift.io%2Fapplication%3Daap-aa-main');
  });

  it('falls back to spec.application for snapshots made without the application label', async () => {
    const result = await mcp.call('konflux_find_snapshot', { application: APP, commit_sha: HAND_MADE_SHA });
    expect((result.structuredContent!.snapshots as Array<{ name: string }>).map((s) => s.name)).toEqual(['aap-aa-main-unlabelled']);
    expect((await mcp.call('konflux_find_snapshot', { application: 'aap-aa-other', commit_sha: HAND_MADE_SHA })).structuredContent).toMatchObject({ snapshots: [] });
  });

  it('returns an empty list with a note when no snapshot has the commit, and rejects a short SHA', async () => {
    const result = await mcp.call('konflux_find_snapshot', { application: APP, commit_sha: '1'.repeat(40) });
    expect(result.structuredContent).toMatchObject({ snapshots: [] });
    expect(result.structuredContent!.note).toMatch(/no snapshot/);
    expect(errorOf(await mcp.call('konflux_find_snapshot', { application: APP, commit_sha: 'abc1234' })).code).toBe('invalid_input');
  });
});

describe('releases', () => {
  it('creates a release with generateName and labels, lists it, and refuses a duplicate unless allowed', async () => {
    const created = await mcp.call('konflux_create_release', { snapshot: 'aap-aa-main-new' });
    expect(created.isError).toBeFalsy();
    const name = created.structuredContent!.name as string;
    expect(name).toMatch(/^aap-aa-main-new-[a-z0-9]{5}$/);
    const stored = kube.find('releases', NS, name)!;
    expect(stored.spec).toEqual({ snapshot: 'aap-aa-main-new', releasePlan: PLAN });
    expect(stored.metadata.labels).toMatchObject({ 'release.appstudio.openshift.io/snapshot': 'aap-aa-main-new', 'release.appstudio.openshift.io/releasePlan': PLAN });

    const duplicate = errorOf(await mcp.call('konflux_create_release', { snapshot: 'aap-aa-main-new', release_plan: PLAN }));
    expect(duplicate.code).toBe('conflict');
    expect(duplicate.message).toContain(name);
    expect(kube.all('releases', NS).filter((r) => r.spec?.snapshot === 'aap-aa-main-new')).toHaveLength(1);

    const again = await mcp.call('konflux_create_release', { snapshot: 'aap-aa-main-new', allow_duplicate: true, name_prefix: 'manual-', labels: { team: 'aa' } });
    expect(again.structuredContent).toMatchObject({ duplicate_of: [name] });
    expect(again.structuredContent!.name).toMatch(/^manual-/);

    const listed = await mcp.call('konflux_list_releases', { snapshot: 'aap-aa-main-new' });
    expect(listed.structuredContent).toMatchObject({ total: 2 });
    const byApp = await mcp.call('konflux_list_releases', { application: APP, limit: 1 });
    expect((byApp.structuredContent!.releases as unknown[]).length).toBe(1);
    expect(byApp.structuredContent!.total).toBeGreaterThanOrEqual(2);
    expect((await mcp.call('konflux_list_releases', { application: 'aap-aa-other' })).structuredContent).toMatchObject({ total: 0 });
  });

  it('refuses a release of a snapshot that does not exist', async () => {
    const error = errorOf(await mcp.call('konflux_create_release', { snapshot: 'no-such-snapshot' }));
    expect(error.code).toBe('not_found');
    expect(kube.all('releases', NS).some((r) => r.spec?.snapshot === 'no-such-snapshot')).toBe(false);
  });

  it('reports a 409 from the API server as conflict', async () => {
    kube.inject({ match: /^POST /, status: 409, body: { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'AlreadyExists', message: 'releases.appstudio.redhat.com "x" already exists', code: 409 } });
    const error = errorOf(await mcp.call('konflux_create_release', { snapshot: 'aap-aa-main-old' }));
    expect(error.code).toBe('conflict');
    expect(error.message).toContain('already exists');
  });

  it('gets a release with conditions and pipeline runs, newest first in lists', async () => {
    kube.seed('releases', { metadata: { name: 'rel-a', creationTimestamp: '2026-02-01T00:00:00Z' }, spec: { snapshot: 'aap-aa-main-old', releasePlan: PLAN } });
    kube.setReleaseCondition(NS, 'rel-a', { type: 'Released', status: 'False', reason: 'Failed', message: 'pipeline failed' }, {
      startTime: '2026-02-01T00:01:00Z',
      completionTime: '2026-02-01T00:09:00Z',
      managedProcessing: { pipelineRun: 'rhtap-releng-tenant/managed-abc', startTime: '2026-02-01T00:02:00Z' },
    });
    const result = await mcp.call('konflux_get_release', { name: 'rel-a' });
    expect(result.structuredContent).toMatchObject({
      status: 'Failed',
      reason: 'Failed',
      message: 'pipeline failed',
      start_time: '2026-02-01T00:01:00Z',
      completion_time: '2026-02-01T00:09:00Z',
      pipeline_runs: [{ stage: 'managedProcessing', pipeline_run: 'rhtap-releng-tenant/managed-abc' }],
    });
    const list = await mcp.call('konflux_list_releases', { release_plan: PLAN });
    const names = (list.structuredContent!.releases as Array<{ name: string }>).map((r) => r.name);
    expect(names.indexOf('rel-a')).toBeLessThan(names.length);
  });

  describe('konflux_wait_release', () => {
    async function created(): Promise<string> {
      const result = await mcp.call('konflux_create_release', { snapshot: 'aap-aa-main-old', allow_duplicate: true });
      return result.structuredContent!.name as string;
    }

    it('polls until Succeeded, sending progress', async () => {
      const name = await created();
      kube.setReleaseCondition(NS, name, { type: 'Released', status: 'False', reason: 'Progressing', message: 'running' });
      setTimeout(() => kube.setReleaseCondition(NS, name, { type: 'Released', status: 'True', reason: 'Succeeded', message: 'done' }, { completionTime: '2026-03-01T00:00:00Z' }), 200);
      const progress: Array<{ progress: number; total?: number; message?: string }> = [];
      const result = await mcp.client.callTool({ name: 'konflux_wait_release', arguments: { name, poll_interval_seconds: 0.05, timeout_seconds: 10 } }, undefined, {
        onprogress: (p) => progress.push(p),
      });
      expect(result.isError).toBeFalsy();
      expect(result.structuredContent).toMatchObject({ status: 'Succeeded', succeeded: true, completion_time: '2026-03-01T00:00:00Z' });
      expect((result.structuredContent as { polls: number }).polls).toBeGreaterThan(1);
      expect(progress.length).toBeGreaterThan(1);
      expect(progress[0]!.message).toContain('Progressing');
    });

    it('returns a Failed release as succeeded=false with the reason', async () => {
      const name = await created();
      setTimeout(() => kube.setReleaseCondition(NS, name, { type: 'Released', status: 'False', reason: 'Failed', message: 'managed pipeline failed' }), 100);
      const result = await mcp.call('konflux_wait_release', { name, poll_interval_seconds: 0.05, timeout_seconds: 10 });
      expect(result.isError).toBeFalsy();
      expect(result.structuredContent).toMatchObject({ status: 'Failed', succeeded: false, message: 'managed pipeline failed' });
    });

    it('times out with a timeout error while the release is still running', async () => {
      const name = await created();
      kube.setReleaseCondition(NS, name, { type: 'Released', status: 'False', reason: 'Progressing' });
      const started = Date.now();
      const error = errorOf(await mcp.call('konflux_wait_release', { name, poll_interval_seconds: 0.2, timeout_seconds: 1 }));
      expect(error.code).toBe('timeout');
      expect(error.message).toContain('Progressing');
      expect(Date.now() - started).toBeLessThan(3000);
    });

    it('stops when the client cancels the call', async () => {
      const name = await created();
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 150);
      const started = Date.now();
      await expect(mcp.client.callTool({ name: 'konflux_wait_release', arguments: { name, poll_interval_seconds: 0.05, timeout_seconds: 30 } }, undefined, { signal: controller.signal })).rejects.toThrow();
      expect(Date.now() - started).toBeLessThan(2000);
      await new Promise((r) => setTimeout(r, 150));
      const polls = kube.server.requestsMatching(new RegExp(`releases/${name}$`)).length;
      await new Promise((r) => setTimeout(r, 200));
      expect(kube.server.requestsMatching(new RegExp(`releases/${name}$`)).length).toBe(polls);
    });

    it('reports a release that does not exist', async () => {
      expect(errorOf(await mcp.call('konflux_wait_release', { name: 'ghost', poll_interval_seconds: 0.05, timeout_seconds: 1 })).code).toBe('not_found');
    });
  });
});

describe('releases made before the labels existed, and long lists', () => {
  it('the duplicate check and the release filters match spec.snapshot and spec.releasePlan, not only the labels', async () => {
    kube.seed('releases', { metadata: { name: 'legacy-release', creationTimestamp: '2025-06-01T00:00:00Z' }, spec: { snapshot: 'aap-aa-main-unlabelled', releasePlan: PLAN } });
    const duplicate = errorOf(await mcp.call('konflux_create_release', { snapshot: 'aap-aa-main-unlabelled' }));
    expect(duplicate.code).toBe('conflict');
    expect(duplicate.message).toContain('legacy-release');
    expect(kube.all('releases', NS).filter((r) => r.spec?.snapshot === 'aap-aa-main-unlabelled')).toHaveLength(1);
    const bySnapshot = await mcp.call('konflux_list_releases', { snapshot: 'aap-aa-main-unlabelled' });
    expect((bySnapshot.structuredContent!.releases as Array<{ name: string }>).map((r) => r.name)).toEqual(['legacy-release']);
    const byPlan = await mcp.call('konflux_list_releases', { release_plan: PLAN, limit: 200 });
    expect((byPlan.structuredContent!.releases as Array<{ name: string }>).map((r) => r.name)).toContain('legacy-release');
  });

  it('follows continue tokens to the last page, and refuses a list longer than the page limit', async () => {
    const all = kube.all('releases', NS).length;
    expect(all).toBeGreaterThan(4);
    await mcp.close();
    mcp = await connect(runtimeFor(TOKEN, { list_page_size: 2 }), { persona: 'devops' });
    kube.listPages.length = 0;
    kube.server.requests.length = 0;
    const listed = await mcp.call('konflux_list_releases', { limit: 200 });
    expect(listed.structuredContent).toMatchObject({ total: all });
    expect(kube.listPages.filter((p) => p.plural === 'releases').map((p) => p.continued)).toEqual([false, ...Array(Math.ceil(all / 2) - 1).fill(true)]);
    expect(kube.server.requestsMatching(/releases$/).every((r) => r.query.includes('limit=2'))).toBe(true);
    // A release on the last page is still a duplicate
    const last = [...kube.all('releases', NS)].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name)).at(-1)!;
    expect(errorOf(await mcp.call('konflux_create_release', { snapshot: last.spec!.snapshot as string, release_plan: last.spec!.releasePlan as string })).code).toBe('conflict');

    await mcp.close();
    mcp = await connect(runtimeFor(TOKEN, { list_page_size: 2, list_max_pages: 2 }), { persona: 'devops' });
    const cut = errorOf(await mcp.call('konflux_list_releases', {}));
    expect(cut.code).toBe('precondition');
    expect(cut.hint).toContain('konflux.list_max_pages');
    const before = kube.all('releases', NS).length;
    expect(errorOf(await mcp.call('konflux_create_release', { snapshot: 'aap-aa-main-other', allow_duplicate: false })).code).toBe('precondition');
    expect(kube.all('releases', NS)).toHaveLength(before);
  });

  it('the emulated API server refuses a malformed or expired continue token, as Kubernetes does', async () => {
    const url = `${kube.url}/apis/appstudio.redhat.com/v1alpha1/namespaces/${NS}/releases`;
    const headers = { authorization: `Bearer ${TOKEN}` };
    const first = (await (await fetch(`${url}?limit=1`, { headers })).json()) as { metadata: { continue: string } };
    expect(first.metadata.continue).toBeTruthy();
    expect((await fetch(`${url}?limit=1&continue=%%%`, { headers })).status).toBe(400);
    kube.compactedBelow = Number.MAX_SAFE_INTEGER;
    try {
      const expired = await fetch(`${url}?limit=1&continue=${first.metadata.continue}`, { headers });
      expect(expired.status).toBe(410);
      expect(((await expired.json()) as { reason: string }).reason).toBe('Expired');
    } finally {
      kube.compactedBelow = 0;
    }
  });
});

describe('konflux_list_builds', () => {
  const COMPONENT = 'backend';
  const build = (name: string, sha: string, created: string, condition: { status: string; reason: string } | null, extra: { type?: string; component?: string; results?: boolean } = {}) =>
    kube.seed('pipelineruns', {
      metadata: {
        name,
        creationTimestamp: created,
        labels: {
          'appstudio.openshift.io/application': APP,
          'appstudio.openshift.io/component': extra.component ?? COMPONENT,
          'pipelinesascode.tekton.dev/sha': sha,
          'pipelinesascode.tekton.dev/event-type': 'push',
          'pipelines.appstudio.openshift.io/type': extra.type ?? 'build',
        },
      },
      spec: { pipelineRef: { name: 'docker-build' } },
      status: {
        ...(condition ? { conditions: [{ type: 'Succeeded', ...condition, message: `Tasks Completed: ${condition.reason}` }] } : {}),
        startTime: created,
        ...(condition?.status === 'True' || condition?.status === 'False' ? { completionTime: created.replace('00:00Z', '09:00Z') } : {}),
        ...(extra.results ? { results: [{ name: 'IMAGE_URL', value: `quay.io/x/backend:${sha}` }, { name: 'IMAGE_DIGEST', value: `sha256:${'9'.repeat(64)}` }] } : {}),
      },
    });

  beforeAll(() => {
    build('backend-on-push-aaaaa', SHA, '2026-03-01T10:00:00Z', { status: 'False', reason: 'Failed' });
    build('backend-on-push-bbbbb', SHA, '2026-03-01T11:00:00Z', { status: 'True', reason: 'Succeeded' }, { results: true });
    build('backend-on-push-ccccc', OTHER_SHA, '2026-03-01T12:00:00Z', { status: 'Unknown', reason: 'Running' });
    build('backend-enterprise-contract-ddddd', SHA, '2026-03-01T12:30:00Z', { status: 'True', reason: 'Succeeded' }, { type: 'test' });
    build('worker-on-push-eeeee', SHA, '2026-03-01T13:00:00Z', null, { component: 'worker' });
  });

  it('lists the build PipelineRuns of a component and commit, newest first, with status and image', async () => {
    const result = await mcp.call('konflux_list_builds', { component: COMPONENT, commit_sha: SHA });
    expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ namespace: NS, total: 2, note: null });
    const builds = result.structuredContent!.builds as Array<Record<string, unknown>>;
    expect(builds.map((b) => [b.name, b.status, b.reason])).toEqual([
      ['backend-on-push-bbbbb', 'Succeeded', 'Succeeded'],
      ['backend-on-push-aaaaa', 'Failed', 'Failed'],
    ]);
    expect(builds[0]).toMatchObject({ component: COMPONENT, commit_sha: SHA, event_type: 'push', image_url: `quay.io/x/backend:${SHA}`, image_digest: `sha256:${'9'.repeat(64)}` });
    const selector = decodeURIComponent(kube.server.requestsMatching(/pipelineruns$/).at(-1)!.query);
    expect(selector).toContain('pipelines.appstudio.openshift.io/type=build');
    expect(kube.server.requestsMatching(/pipelineruns$/).at(-1)!.path).toBe(`/apis/tekton.dev/v1/namespaces/${NS}/pipelineruns`);
  });

  it('reports running and pending builds, an empty result with a note, and refuses a short SHA', async () => {
    const running = await mcp.call('konflux_list_builds', { component: COMPONENT, commit_sha: OTHER_SHA });
    expect((running.structuredContent!.builds as Array<{ status: string }>).map((b) => b.status)).toEqual(['Running']);
    const pending = await mcp.call('konflux_list_builds', { component: 'worker' });
    expect(pending.structuredContent).toMatchObject({ total: 1, builds: [{ status: 'Pending', reason: null }] });
    const none = await mcp.call('konflux_list_builds', { component: COMPONENT, commit_sha: HAND_MADE_SHA });
    expect(none.structuredContent).toMatchObject({ total: 0, builds: [] });
    expect(none.structuredContent!.note).toContain(`commit ${HAND_MADE_SHA}`);
    const short = errorOf(await mcp.call('konflux_list_builds', { component: COMPONENT, commit_sha: SHA.slice(0, 8) }));
    expect(short.code).toBe('invalid_input');
    expect(short.message).toContain('full 40-character');
  });
});
