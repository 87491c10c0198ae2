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

  it('rejects an unknown environment, naming the configured ones', async () => {
    const error = errorOf(await mcp.call('prometheus_pre_deploy_check', { environment: 'stage' }));
    expect(error.code).toBe('invalid_input');
    expect(error.hint).toContain('production');
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
