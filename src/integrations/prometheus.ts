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

/**
 * How an alert was placed in the environment: by its own labels, by `exported_<label>` (a
 * target's label renamed at scrape), or not at all (`unlabelled`: it lacks the labels, so it
 * cannot be ruled out, e.g. `absent(up{job="x"})`).
 */
export type AlertMatch = 'labels' | 'exported_labels' | 'unlabelled';

export interface FiringAlert {
  name: string;
  severity: string;
  summary: string | null;
  active_at: string | null;
  labels: Record<string, string>;
  matched_by: AlertMatch;
}

export interface PreDeployResult {
  ok: boolean;
  firing: number;
  by_severity: Record<string, FiringAlert[]>;
  blocking: string[];
}

/** Which firing alerts are an environment's and which of them block. */
export interface AlertPolicy {
  /** Labels (or exported_<label>) an alert must carry with these values; {} takes every alert. */
  matchLabels: Readonly<Record<string, string>>;
  /** Names that block at any severity. */
  blockingAlerts: readonly string[];
  /** A critical or blocking alert without the match labels: block (fail closed) or ignore. */
  unlabelled: 'block' | 'ignore';
}

export interface PrometheusEnvironment {
  url: string;
  namespace: string;
  policy: AlertPolicy;
}

export function prometheusEnvironment(config: Config, name: string): PrometheusEnvironment {
  const env = config.prometheus.environments[name];
  if (env) {
    return {
      url: env.url,
      namespace: env.namespace,
      policy: { matchLabels: env.match_labels ?? { namespace: env.namespace }, blockingAlerts: env.blocking_alerts, unlabelled: env.unlabelled_alerts },
    };
  }
  const known = Object.keys(config.prometheus.environments);
  throw new ToolError(known.length ? 'invalid_input' : 'config', `unknown Prometheus environment "${name}"`, {
    hint: known.length ? `use one of: ${known.join(', ')}` : 'add the environment (url, namespace) under prometheus.environments in config',
    details: { known },
  });
}

/** `GET <url>/api/v1/alerts`: every active alert Prometheus knows (pending and firing). */
export async function fetchAlerts(options: {
  url: string;
  token?: string | undefined;
  timeoutMs: number;
  signal?: AbortSignal;
  environment: string;
  fetch?: typeof fetch;
}): Promise<PrometheusAlert[]> {
  const url = `${options.url.replace(/\/+$/, '')}/api/v1/alerts`;
  const body = await getJson<{ status?: string; data?: { alerts?: PrometheusAlert[] }; error?: string }>(url, {
    service: 'Prometheus',
    what: `alerts of environment ${options.environment}`,
    token: options.token,
    timeoutMs: options.timeoutMs,
    authHint: options.token ? 'PROMETHEUS_TOKEN was refused: renew it and set PROMETHEUS_TOKEN' : 'this Prometheus needs a token: set PROMETHEUS_TOKEN',
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  if (body.status !== 'success' || !Array.isArray(body.data?.alerts)) {
    throw new ToolError('upstream', `Prometheus answered without alerts for environment ${options.environment}${body.error ? `: ${body.error}` : ''}`);
  }
  return body.data.alerts;
}

/**
 * Whether an alert is the environment's. Every match label must equal the alert's label or its
 * `exported_` twin; a label with another value puts the alert elsewhere, a label missing from
 * both leaves it unlabelled. Returns null for another environment's alert.
 */
export function matchAlert(labels: Readonly<Record<string, string>>, matchLabels: Readonly<Record<string, string>>): AlertMatch | null {
  let exported = false;
  let missing = false;
  for (const [name, value] of Object.entries(matchLabels)) {
    const own = labels[name];
    const renamed = labels[`exported_${name}`];
    if (own === value) continue;
    if (renamed === value) {
      exported = true;
      continue;
    }
    if (own === undefined && renamed === undefined) {
      missing = true;
      continue;
    }
    return null;
  }
  return missing ? 'unlabelled' : exported ? 'exported_labels' : 'labels';
}

const describeLabels = (matchLabels: Readonly<Record<string, string>>) => Object.keys(matchLabels).join(', ');

/**
 * The environment's firing alerts, grouped by severity. Not ok when any critical alert, or any
 * alert named in `blockingAlerts`, is firing. Fails closed: such an alert without the labels
 * that place it blocks too (unless policy.unlabelled is "ignore"); unlabelled alerts that would
 * not block are left out. Pending alerts are not firing yet and are left out.
 */
export function evaluatePreDeploy(alerts: readonly PrometheusAlert[], policy: AlertPolicy): PreDeployResult {
  const by_severity: Record<string, FiringAlert[]> = {};
  const blocking: string[] = [];
  let firing = 0;
  for (const alert of alerts) {
    if (alert.state !== 'firing') continue;
    const labels = alert.labels ?? {};
    const matched = matchAlert(labels, policy.matchLabels);
    if (matched === null) continue;
    const name = labels.alertname ?? '(unnamed)';
    const severity = (labels.severity ?? 'none').toLowerCase();
    const critical = severity === 'critical';
    const named = policy.blockingAlerts.includes(name);
    if (matched === 'unlabelled' && (policy.unlabelled === 'ignore' || (!critical && !named))) continue;
    firing += 1;
    (by_severity[severity] ??= []).push({
      name,
      severity,
      summary: alert.annotations?.summary ?? alert.annotations?.description ?? alert.annotations?.message ?? null,
      active_at: alert.activeAt ?? null,
      labels,
      matched_by: matched,
    });
    const unplaced = matched === 'unlabelled' ? ` without ${describeLabels(policy.matchLabels)} labels, so it may concern this environment` : '';
    if (critical) blocking.push(`${name} is firing (critical)${unplaced}`);
    else if (named) blocking.push(`${name} is firing (${severity}) and is a blocking alert in config${unplaced}`);
  }
  return { ok: blocking.length === 0, firing, by_severity, blocking };
}
