import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PrometheusEmulator } from './emulators/prometheus.js';
import { connect, errorOf, testRuntime, type ConnectedClient } from './helpers/harness.js';

const NS = 'tower-analytics-prod';
const prom = new PrometheusEmulator();
let mcp: ConnectedClient;

function open(env: Record<string, string> = {}) {
  return connect(
    testRuntime({
      config: { prometheus: { environments: { production: { url: prom.url, namespace: NS, blocking_alerts: ['AABackendErrorBudget'] } }, timeout_ms: 1500 } },
      env,
    }),
  );
}

beforeAll(async () => {
  await prom.start();
});
afterAll(async () => {
  await prom.stop();
});
beforeEach(async () => {
  prom.alerts = [];
  prom.token = undefined;
  prom.beforeAnswer = undefined;
  mcp = await open();
});
afterEach(async () => {
  prom.server.clearFaults();
  await mcp.close();
});

describe('prometheus_pre_deploy_check', () => {
  it('is ok with only non-blocking firing alerts, grouped by severity; other namespaces and pending alerts are ignored', async () => {
    prom.addAlert({ name: 'AAHighLatency', severity: 'warning', namespace: NS, summary: 'p99 latency high' });
    prom.addAlert({ name: 'AADown', severity: 'critical', namespace: 'someone-else' });
    prom.addAlert({ name: 'AAAlmostDown', severity: 'critical', namespace: NS, state: 'pending' });
    const result = await mcp.call('prometheus_pre_deploy_check', { environment: 'production' });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ ok: true, firing: 1, namespace: NS, blocking: [] });
    expect(result.structuredContent!.by_severity).toEqual({ warning: [expect.objectContaining({ name: 'AAHighLatency', summary: 'p99 latency high' })] });
  });

  it('blocks on a critical alert and on a configured blocking alert', async () => {
    prom.addAlert({ name: 'AADown', severity: 'critical', namespace: NS });
    prom.addAlert({ name: 'AABackendErrorBudget', severity: 'info', namespace: NS });
    const result = await mcp.call('prometheus_pre_deploy_check', { environment: 'production' });
    expect(result.structuredContent).toMatchObject({ ok: false, firing: 2 });
    expect(result.structuredContent!.blocking).toEqual([expect.stringContaining('AADown'), expect.stringContaining('AABackendErrorBudget')]);
  });

  it('fails closed: a critical alert without a namespace label (absent()) blocks, and so does a blocking alert without one', async () => {
    prom.addAlert({ name: 'AABackendAbsent', severity: 'critical', labels: { job: 'aa-backend' }, summary: 'no backend target' });
    prom.addAlert({ name: 'ClusterWarning', severity: 'warning', labels: { cluster: 'c1' } });
    const result = await mcp.call('prometheus_pre_deploy_check', { environment: 'production' });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ ok: false, firing: 1, match_labels: { namespace: NS } });
    expect(result.structuredContent!.by_severity).toEqual({ critical: [expect.objectContaining({ name: 'AABackendAbsent', matched_by: 'unlabelled' })] });
    expect(result.structuredContent!.blocking).toEqual(['AABackendAbsent is firing (critical) without namespace labels, so it may concern this environment']);

    prom.alerts = [];
    prom.addAlert({ name: 'AABackendErrorBudget', severity: 'info', labels: { job: 'aa-backend' } });
    const named = await mcp.call('prometheus_pre_deploy_check', { environment: 'production' });
    expect(named.structuredContent).toMatchObject({ ok: false, blocking: [expect.stringContaining('AABackendErrorBudget is firing (info) and is a blocking alert in config without namespace labels')] });
  });

  it('places an alert by exported_namespace (a target label renamed at scrape)', async () => {
    prom.addAlert({ name: 'KubePodCrashLooping', severity: 'critical', namespace: 'openshift-monitoring', labels: { exported_namespace: NS } });
    prom.addAlert({ name: 'KubePodNotReady', severity: 'critical', namespace: 'openshift-monitoring', labels: { exported_namespace: 'someone-else' } });
    const result = await mcp.call('prometheus_pre_deploy_check', { environment: 'production' });
    expect(result.structuredContent).toMatchObject({ ok: false, firing: 1, blocking: ['KubePodCrashLooping is firing (critical)'] });
    expect(result.structuredContent!.by_severity).toEqual({ critical: [expect.objectContaining({ name: 'KubePodCrashLooping', matched_by: 'exported_labels' })] });
  });

  it('places alerts by match_labels, and unlabelled_alerts "ignore" leaves out alerts without them', async () => {
    const client = await connect(
      testRuntime({
        config: {
          prometheus: {
            environments: {
              prod_c1: { url: prom.url, namespace: NS, match_labels: { namespace: NS, cluster: 'c1' } },
              prod_lenient: { url: prom.url, namespace: NS, unlabelled_alerts: 'ignore' },
              dedicated: { url: prom.url, namespace: NS, match_labels: {} },
            },
            timeout_ms: 1500,
          },
        },
      }),
    );
    try {
      prom.addAlert({ name: 'AADownC2', severity: 'critical', namespace: NS, labels: { cluster: 'c2' } });
      prom.addAlert({ name: 'AASlowC1', severity: 'warning', namespace: NS, labels: { cluster: 'c1' } });
      const c1 = await client.call('prometheus_pre_deploy_check', { environment: 'prod_c1' });
      expect(c1.structuredContent).toMatchObject({ ok: true, firing: 1, match_labels: { namespace: NS, cluster: 'c1' } });
      prom.addAlert({ name: 'AADownNoCluster', severity: 'critical', namespace: NS });
      const partial = await client.call('prometheus_pre_deploy_check', { environment: 'prod_c1' });
      expect(partial.structuredContent).toMatchObject({ ok: false, blocking: [expect.stringContaining('AADownNoCluster is firing (critical) without namespace, cluster labels')] });

      prom.alerts = [];
      prom.addAlert({ name: 'AABackendAbsent', severity: 'critical', labels: { job: 'aa-backend' } });
      expect((await client.call('prometheus_pre_deploy_check', { environment: 'prod_lenient' })).structuredContent).toMatchObject({ ok: true, firing: 0 });
      const dedicated = await client.call('prometheus_pre_deploy_check', { environment: 'dedicated' });
      expect(dedicated.structuredContent).toMatchObject({ ok: false, match_labels: {} });
      expect(dedicated.structuredContent!.by_severity).toEqual({ critical: [expect.objectContaining({ name: 'AABackendAbsent', matched_by: 'labels' })] });
    } finally {
      await client.close();
    }
  });

  it('rejects an unknown environment, naming the configured ones', async () => {
    const error = errorOf(await mcp.call('prometheus_pre_deploy_check', { environment: 'stage' }));
    expect(error.code).toBe('invalid_input');
    expect(error.hint).toContain('production');
  });

  it('never puts credentials written into the Prometheus URL into an error', async () => {
    const withCredentials = prom.url.replace('http://', 'http://alice:s3cret-pass@');
    const client = await connect(testRuntime({ config: { prometheus: { environments: { production: { url: withCredentials, namespace: NS } }, timeout_ms: 1500 } } }));
    try {
      const result = await client.call('prometheus_pre_deploy_check', { environment: 'production' });
      const error = errorOf(result);
      expect(JSON.stringify(result)).not.toContain('s3cret-pass');
      expect(error.message).toContain('***@');
      expect(error.code).toBe('config');
    } finally {
      await client.close();
    }
  });

  it('sends PROMETHEUS_TOKEN and maps 401, 500, a delay and a closed port', async () => {
    prom.token = 'prom-secret';
    expect(errorOf(await mcp.call('prometheus_pre_deploy_check', { environment: 'production' })).code).toBe('auth');
    await mcp.close();
    mcp = await open({ PROMETHEUS_TOKEN: 'prom-secret' });
    expect((await mcp.call('prometheus_pre_deploy_check', { environment: 'production' })).isError).toBeFalsy();
    prom.inject({ status: 503, body: { status: 'error', errorType: 'unavailable', error: 'rule manager not ready' } });
    const upstream = errorOf(await mcp.call('prometheus_pre_deploy_check', { environment: 'production' }));
    expect(upstream.code).toBe('upstream');
    expect(upstream.message).toContain('rule manager not ready');
    prom.inject({ delayMs: 2000, status: 200 });
    expect(errorOf(await mcp.call('prometheus_pre_deploy_check', { environment: 'production' })).code).toBe('timeout');

    await mcp.close();
    mcp = await connect(testRuntime({ config: { prometheus: { environments: { production: { url: 'http://127.0.0.1:1', namespace: NS } } } } }));
    expect(errorOf(await mcp.call('prometheus_pre_deploy_check', { environment: 'production' })).code).toBe('network');
  });
});

describe('prometheus_watch_alerts', () => {
  const watch = (args: Record<string, unknown>, onprogress?: (message: string) => void, signal?: AbortSignal) =>
    mcp.client.callTool({ name: 'prometheus_watch_alerts', arguments: { environment: 'production', ...args } }, undefined, {
      ...(onprogress ? { onprogress: (p: { message?: string }) => onprogress(p.message ?? '') } : {}),
      ...(signal ? { signal } : {}),
    });

  it('polls for the whole window when nothing blocks, with progress per poll', async () => {
    prom.addAlert({ name: 'AAHighLatency', severity: 'warning', namespace: NS });
    prom.addAlert({ name: 'AADown', severity: 'critical', namespace: 'someone-else' });
    const before = prom.server.requests.length;
    const messages: string[] = [];
    const started = Date.now();
    const result = await watch({ window_minutes: 0.005, interval_seconds: 0.05 }, (m) => messages.push(m));
    expect(result.isError).toBeFalsy();
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    const body = result.structuredContent as { ok: boolean; alert: unknown; polls: number; failed_polls: number; stopped_early: boolean; watched_seconds: number };
    expect(body).toMatchObject({ ok: true, alert: null, failed_polls: 0, stopped_early: false });
    expect(body.polls).toBe(prom.server.requests.length - before);
    expect(body.polls).toBeGreaterThanOrEqual(5);
    expect(messages.length).toBe(body.polls);
    expect(messages[0]).toBe('poll 1: 1 non-blocking alert(s) firing');
  });

  it('stops at the first critical or blocking alert and names it', async () => {
    const first = prom.answered + 1;
    prom.beforeAnswer = (answer) => {
      if (answer === first + 2) prom.addAlert({ name: 'AABackendDown', severity: 'critical', namespace: NS, summary: '5xx spike' });
    };
    const started = Date.now();
    const result = await watch({ window_minutes: 1, interval_seconds: 0.05 });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(result.structuredContent).toMatchObject({ ok: false, stopped_early: true, polls: 3, alert: { name: 'AABackendDown', severity: 'critical', summary: '5xx spike' } });
    expect(result.content).toEqual([expect.objectContaining({ text: expect.stringContaining('AABackendDown (critical) fired') })]);
    prom.alerts = [];
    prom.addAlert({ name: 'AABackendErrorBudget', severity: 'info', namespace: NS });
    const blocking = await watch({ window_minutes: 1, interval_seconds: 0.05 });
    expect(blocking.structuredContent).toMatchObject({ ok: false, polls: 1, alert: { name: 'AABackendErrorBudget' } });
  });

  it('stops at a critical alert without a namespace label', async () => {
    prom.addAlert({ name: 'AABackendAbsent', severity: 'critical', labels: { job: 'aa-backend' } });
    const result = await watch({ window_minutes: 1, interval_seconds: 0.05 });
    expect(result.structuredContent).toMatchObject({ ok: false, polls: 1, stopped_early: true, alert: { name: 'AABackendAbsent', matched_by: 'unlabelled' } });
  });

  it('goes on through failed polls, but a window with no answer is an error, and auth stops at once', async () => {
    prom.inject({ status: 503, body: { status: 'error', error: 'not ready' }, times: 2 });
    const some = await watch({ window_minutes: 0.004, interval_seconds: 0.05 });
    expect(some.structuredContent).toMatchObject({ ok: true, failed_polls: 2 });
    prom.inject({ status: 503, body: { status: 'error', error: 'not ready' }, times: 1000 });
    const none = errorOf((await watch({ window_minutes: 0.003, interval_seconds: 0.05 })) as never);
    expect(none.code).toBe('upstream');
    expect(none.message).toMatch(/no alert poll succeeded during the watch/);
    prom.server.clearFaults();
    prom.token = 'prom-secret';
    const before = prom.server.requests.length;
    expect(errorOf((await watch({ window_minutes: 1, interval_seconds: 0.05 })) as never).code).toBe('auth');
    expect(prom.server.requests.length - before).toBe(1);
  });

  it('stops polling when the client cancels', async () => {
    const controller = new AbortController();
    const before = prom.server.requests.length;
    const call = watch({ window_minutes: 10, interval_seconds: 0.05 }, undefined, controller.signal);
    await new Promise((resolve) => setTimeout(resolve, 200));
    controller.abort();
    await expect(call).rejects.toThrow();
    await new Promise((resolve) => setTimeout(resolve, 150));
    const after = prom.server.requests.length;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(after - before).toBeGreaterThanOrEqual(2);
    expect(prom.server.requests.length).toBe(after);
  });
});
