import { z } from 'zod';
import { evaluatePreDeploy, fetchAlerts, prometheusEnvironment, type PrometheusEnvironment } from '../integrations/prometheus.js';
import { watchAlerts } from '../integrations/prometheus-watch.js';
import { defineTool, type ToolContext } from './registry.js';
import { httpsTrust } from './trust.js';

const alertSchema = z.object({
  name: z.string(),
  severity: z.string(),
  summary: z.string().nullable(),
  active_at: z.string().nullable(),
  labels: z.record(z.string(), z.string()),
  matched_by: z
    .enum(['labels', 'exported_labels', 'unlabelled'])
    .describe('How the alert was placed in the environment: its match labels, their exported_ twins (renamed at scrape), or unlabelled (it lacks them, e.g. absent(); it may concern this environment)'),
});

const matchLabelsSchema = z.record(z.string(), z.string()).describe('Labels that place an alert in the environment (config match_labels; default its namespace)');

/** One poll of the environment's Prometheus. */
function alertsOf(ctx: ToolContext, env: PrometheusEnvironment, environment: string, signal: AbortSignal) {
  return fetchAlerts({ url: env.url, token: ctx.secrets.PROMETHEUS_TOKEN, timeoutMs: ctx.config.prometheus.timeout_ms, signal, environment, fetch: httpsTrust(ctx).fetch });
}

export const prometheusPreDeployCheck = defineTool({
  name: 'prometheus_pre_deploy_check',
  family: 'prometheus',
  title: 'Check alerts before a deploy',
  description:
    'Firing alerts of an environment (config prometheus.environments), by severity. ok=false when a critical alert or one of its blocking_alerts fires; unlabelled alerts block too unless unlabelled_alerts is "ignore".',
  input: z.object({ environment: z.string().trim().min(1).max(100).describe('Name under config prometheus.environments, e.g. "production"') }),
  output: z.object({
    environment: z.string(),
    namespace: z.string(),
    match_labels: matchLabelsSchema,
    ok: z.boolean(),
    firing: z.number().int().describe('Firing alerts of the environment (unlabelled ones only when they block)'),
    by_severity: z.record(z.string(), z.array(alertSchema)),
    blocking: z.array(z.string()).describe('Why the deploy should wait; empty when ok'),
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  handler: async (args, ctx) => {
    const env = prometheusEnvironment(ctx.config, args.environment);
    const alerts = await alertsOf(ctx, env, args.environment, ctx.signal);
    return { environment: args.environment, namespace: env.namespace, match_labels: { ...env.policy.matchLabels }, ...evaluatePreDeploy(alerts, env.policy) };
  },
  summarize: (r) => (r.ok ? `ok: ${r.firing} non-blocking alert(s) firing in ${r.namespace}` : `blocked: ${r.blocking.join('; ')}`),
});

export const prometheusWatchAlerts = defineTool({
  name: 'prometheus_watch_alerts',
  family: 'prometheus',
  title: 'Watch alerts after a deploy',
  description:
    "Poll an environment's firing alerts every interval_seconds for window_minutes; stop at the first blocking alert (as prometheus_pre_deploy_check), ok=false naming it. Sends progress per poll.",
  input: z.object({
    environment: z.string().trim().min(1).max(100).describe('Name under config prometheus.environments, e.g. "production"'),
    window_minutes: z.number().min(0).max(720).describe('How long to watch; 0 polls once'),
    interval_seconds: z.number().min(0.05).max(600).default(30).describe('Seconds between polls'),
  }),
  output: z.object({
    environment: z.string(),
    namespace: z.string(),
    match_labels: matchLabelsSchema,
    ok: z.boolean().describe('false when a critical or blocking alert fired during the window'),
    alert: alertSchema.nullable().describe('The first critical or blocking alert seen; null when none'),
    blocking: z.array(z.string()),
    polls: z.number().int(),
    failed_polls: z.number().int().describe('Polls Prometheus did not answer'),
    watched_seconds: z.number(),
    stopped_early: z.boolean(),
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  handler: async (args, ctx) => {
    const env = prometheusEnvironment(ctx.config, args.environment);
    const windowMs = Math.round(args.window_minutes * 60_000);
    const result = await watchAlerts({
      fetchAlerts: (signal) => alertsOf(ctx, env, args.environment, signal),
      policy: env.policy,
      windowMs,
      intervalMs: Math.round(args.interval_seconds * 1000),
      signal: ctx.signal,
      onPoll: (poll) =>
        ctx
          .progress({
            progress: Math.min(poll.elapsed_ms, windowMs),
            total: windowMs,
            message: `poll ${poll.poll}: ${poll.error ? `failed (${poll.error})` : poll.ok ? `${poll.firing} non-blocking alert(s) firing` : 'blocking alert firing'}`,
          })
          .catch(() => undefined),
    });
    const { watched_ms, ...rest } = result;
    return { environment: args.environment, namespace: env.namespace, match_labels: { ...env.policy.matchLabels }, ...rest, watched_seconds: Math.round(watched_ms / 100) / 10 };
  },
  summarize: (r) =>
    r.ok
      ? `no blocking alert in ${r.namespace} for ${r.watched_seconds} s (${r.polls} poll(s), ${r.failed_polls} failed)`
      : `${r.alert?.name ?? 'an alert'} (${r.alert?.severity ?? 'blocking'}) fired in ${r.namespace} after ${r.watched_seconds} s`,
});

export const prometheusTools = [prometheusPreDeployCheck, prometheusWatchAlerts] as const;
