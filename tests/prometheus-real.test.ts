import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, testRuntime, type ConnectedClient } from './helpers/harness.js';
import {
  alertmanagerAlert,
  poll,
  realPrometheusAvailable,
  silenceAlert,
  startAlertmanager,
  startPrometheus,
  waitForFiring,
  type RealAlertmanager,
  type RealPrometheus,
} from './helpers/real-prometheus.js';

// The alert tools against a real Prometheus (Debian package) that sends its alerts to a real
// Alertmanager: rules that fire with and without a namespace, with exported_namespace, an
// absent() alert, a pending and a never-firing rule.
const RULES = `
groups:
  - name: release-mcp-test
    interval: 1s
    rules:
      - alert: AAHighLatency
        expr: vector(1)
        labels: { severity: warning, namespace: ns-quiet }
        annotations: { summary: p99 latency high }
      - alert: AAAlmostDown
        expr: vector(1)
        for: 1h
        labels: { severity: critical, namespace: ns-quiet }
      - alert: AANeverFires
        expr: vector(1) == 0
        labels: { severity: critical, namespace: ns-quiet }
      - alert: KubePodCrashLooping
        expr: vector(1)
        labels: { severity: critical, namespace: openshift-monitoring, exported_namespace: ns-exported }
      - alert: AADownC1
        expr: vector(1)
        labels: { severity: critical, namespace: ns-clusters, cluster: c1 }
      - alert: AASlowC2
        expr: vector(1)
        labels: { severity: warning, namespace: ns-clusters, cluster: c2 }
      - alert: AABackendAbsent
        expr: absent(up{job="nonexistent"})
        labels: { severity: critical }
        annotations: { summary: no backend target }
`;

const available = realPrometheusAvailable();
let alertmanager: RealAlertmanager;
let prometheus: RealPrometheus;
let mcp: ConnectedClient;

describe.skipIf(!available)('alert tools against a real Prometheus and Alertmanager', () => {
  beforeAll(async () => {
    alertmanager = await startAlertmanager();
    prometheus = await startPrometheus(RULES, { alertmanager });
    await waitForFiring(prometheus, ['AAHighLatency', 'KubePodCrashLooping', 'AADownC1', 'AASlowC2', 'AABackendAbsent']);
    const env = (namespace: string, extra: Record<string, unknown> = {}) => ({ url: prometheus.url, namespace, ...extra });
    mcp = await connect(
      testRuntime({
        config: {
          prometheus: {
            environments: {
              quiet: env('ns-quiet', { unlabelled_alerts: 'ignore' }),
              quiet_default: env('ns-quiet'),
              exported: env('ns-exported', { unlabelled_alerts: 'ignore' }),
              c1: env('ns-clusters', { match_labels: { namespace: 'ns-clusters', cluster: 'c1' } }),
              c2: env('ns-clusters', { match_labels: { namespace: 'ns-clusters', cluster: 'c2' }, unlabelled_alerts: 'ignore' }),
            },
            timeout_ms: 5000,
          },
        },
      }),
    );
  }, 60_000);
  afterAll(async () => {
    await mcp?.close();
    await prometheus?.stop();
    await alertmanager?.stop();
  });

  const check = async (environment: string) => {
    const result = await mcp.call('prometheus_pre_deploy_check', { environment });
    expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
    return result.structuredContent as { ok: boolean; firing: number; blocking: string[]; by_severity: Record<string, Array<{ name: string; matched_by: string; labels: Record<string, string> }>> };
  };
  const names = (r: Awaited<ReturnType<typeof check>>) => Object.values(r.by_severity).flat().map((a) => a.name).sort();

  it('Prometheus reports the pending rule as pending (so leaving it out is a real check)', async () => {
    const body = (await (await fetch(`${prometheus.url}/api/v1/alerts`)).json()) as { data: { alerts: Array<{ state: string; labels: Record<string, string> }> } };
    expect(body.data.alerts.find((a) => a.labels.alertname === 'AAAlmostDown')?.state).toBe('pending');
    expect(body.data.alerts.some((a) => a.labels.alertname === 'AANeverFires')).toBe(false);
  });

  it('is ok with only a warning firing in the namespace; pending, never-firing and other namespaces\' criticals are left out', async () => {
    const result = await check('quiet');
    expect(result).toMatchObject({ ok: true, firing: 1, blocking: [] });
    expect(result.by_severity).toEqual({ warning: [expect.objectContaining({ name: 'AAHighLatency', matched_by: 'labels' })] });
  });

  it('blocks by default on the absent() alert, which has no namespace label', async () => {
    const result = await check('quiet_default');
    expect(result.ok).toBe(false);
    expect(result.blocking).toEqual(['AABackendAbsent is firing (critical) without namespace labels, so it may concern this environment']);
    expect(result.by_severity.critical).toEqual([expect.objectContaining({ name: 'AABackendAbsent', matched_by: 'unlabelled', labels: expect.objectContaining({ job: 'nonexistent' }) })]);
  });

  it('blocks on a critical alert placed by exported_namespace', async () => {
    const result = await check('exported');
    expect(result).toMatchObject({ ok: false, firing: 1, blocking: ['KubePodCrashLooping is firing (critical)'] });
    expect(result.by_severity.critical).toEqual([expect.objectContaining({ matched_by: 'exported_labels' })]);
  });

  it('places alerts by match_labels (namespace and cluster)', async () => {
    const c2 = await check('c2');
    expect(c2).toMatchObject({ ok: true, firing: 1 });
    expect(names(c2)).toEqual(['AASlowC2']);
    const c1 = await check('c1');
    expect(c1.ok).toBe(false);
    expect(names(c1)).toEqual(['AABackendAbsent', 'AADownC1']);
  });

  it('an Alertmanager silence does not hide a blocking alert: the tools read Prometheus, and fail closed', async () => {
    await poll('AABackendAbsent in Alertmanager', 20_000, () => alertmanagerAlert(alertmanager, 'AABackendAbsent'));
    const id = await silenceAlert(alertmanager, 'AABackendAbsent');
    const silenced = await poll('AABackendAbsent suppressed', 20_000, async () => {
      const status = await alertmanagerAlert(alertmanager, 'AABackendAbsent');
      return status?.state === 'suppressed' ? status : undefined;
    });
    expect(silenced.silencedBy).toEqual([id]);
    const result = await check('quiet_default');
    expect(result).toMatchObject({ ok: false, blocking: [expect.stringContaining('AABackendAbsent is firing (critical)')] });
  });

  it('watches a quiet environment for the window, and stops at once on the unlabelled critical', async () => {
    const quiet = await mcp.call('prometheus_watch_alerts', { environment: 'quiet', window_minutes: 0.03, interval_seconds: 0.5 });
    expect(quiet.structuredContent).toMatchObject({ ok: true, alert: null, failed_polls: 0, stopped_early: false });
    expect((quiet.structuredContent as { polls: number }).polls).toBeGreaterThanOrEqual(3);
    const blocked = await mcp.call('prometheus_watch_alerts', { environment: 'quiet_default', window_minutes: 1, interval_seconds: 0.5 });
    expect(blocked.structuredContent).toMatchObject({ ok: false, polls: 1, stopped_early: true, alert: { name: 'AABackendAbsent', severity: 'critical', summary: 'no backend target' } });
  });
});
