import type { Config } from '../config.js';
import { ToolError } from '../errors.js';
import { getJson } from './http-json.js';

export interface PrometheusAlert {
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  state: string;
  activeAt?: string;
  value?: string;
}

export interface FiringAlert {
  name: string;
  severity: string;
  summary: string | null;
  active_at: string | null;
  labels: Record<string, string>;
}

export interface PreDeployResult {
  ok: boolean;
  firing: number;
  by_severity: Record<string, FiringAlert[]>;
  blocking: string[];
}

export function prometheusEnvironment(config: Config, name: string): { url: string; namespace: string; blocking_alerts: string[] } {
  const env = config.prometheus.environments[name];
  if (env) return env;
  const known = Object.keys(config.prometheus.environments);
  throw new ToolError(known.length ? 'invalid_input' : 'config', `unknown Prometheus environment "${name}"`, {
    hint: known.length ? `use one of: ${known.join(', ')}` : 'add the environment (url, namespace) under prometheus.environments in config',
    details: { known },
  });
}

/** `GET <url>/api/v1/alerts`: every active alert Prometheus knows (pending and firing). */
export async function fetchAlerts(options: { url: string; token?: string | undefined; timeoutMs: number; signal?: AbortSignal; environment: string }): Promise<PrometheusAlert[]> {
  const url = `${options.url.replace(/\/+$/, '')}/api/v1/alerts`;
  const body = await getJson<{ status?: string; data?: { alerts?: PrometheusAlert[] }; error?: string }>(url, {
    service: 'Prometheus',
    what: `alerts of environment ${options.environment}`,
    token: options.token,
    timeoutMs: options.timeoutMs,
    authHint: options.token ? 'PROMETHEUS_TOKEN was refused: renew it and set PROMETHEUS_TOKEN' : 'this Prometheus needs a token: set PROMETHEUS_TOKEN',
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (body.status !== 'success' || !Array.isArray(body.data?.alerts)) {
    throw new ToolError('upstream', `Prometheus answered without alerts for environment ${options.environment}${body.error ? `: ${body.error}` : ''}`);
  }
  return body.data.alerts;
}

/**
 * Firing alerts of `namespace`, grouped by severity. Not ok when any critical alert, or any alert
 * named in `blockingAlerts`, is firing. Pending alerts are not firing yet and are left out.
 */
export function evaluatePreDeploy(alerts: readonly PrometheusAlert[], namespace: string, blockingAlerts: readonly string[]): PreDeployResult {
  const by_severity: Record<string, FiringAlert[]> = {};
  const blocking: string[] = [];
  let firing = 0;
  for (const alert of alerts) {
    if (alert.state !== 'firing' || alert.labels?.namespace !== namespace) continue;
    const name = alert.labels.alertname ?? '(unnamed)';
    const severity = (alert.labels.severity ?? 'none').toLowerCase();
    firing += 1;
    (by_severity[severity] ??= []).push({
      name,
      severity,
      summary: alert.annotations?.summary ?? alert.annotations?.description ?? alert.annotations?.message ?? null,
      active_at: alert.activeAt ?? null,
      labels: alert.labels,
    });
    if (severity === 'critical') blocking.push(`${name} is firing (critical)`);
    else if (blockingAlerts.includes(name)) blocking.push(`${name} is firing (${severity}) and is a blocking alert in config`);
  }
  return { ok: blocking.length === 0, firing, by_severity, blocking };
}
