import { z } from 'zod';
import { evaluatePreDeploy, fetchAlerts, prometheusEnvironment } from '../integrations/prometheus.js';
import { defineTool } from './registry.js';

const alertSchema = z.object({
  name: z.string(),
  severity: z.string(),
  summary: z.string().nullable(),
  active_at: z.string().nullable(),
  labels: z.record(z.string(), z.string()),
});

export const prometheusPreDeployCheck = defineTool({
  name: 'prometheus_pre_deploy_check',
  family: 'prometheus',
  title: 'Check alerts before a deploy',
  description:
    'Firing alerts for an environment\'s namespace (config prometheus.environments), grouped by severity. ok=false when any critical alert, or any alert listed in the environment\'s blocking_alerts, is firing.',
  input: z.object({ environment: z.string().trim().min(1).max(100).describe('Name under config prometheus.environments, e.g. "production"') }),
  output: z.object({
    environment: z.string(),
    namespace: z.string(),
    ok: z.boolean(),
    firing: z.number().int().describe('Firing alerts for the namespace'),
    by_severity: z.record(z.string(), z.array(alertSchema)),
    blocking: z.array(z.string()).describe('Why the deploy should wait; empty when ok'),
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  handler: async (args, ctx) => {
    const env = prometheusEnvironment(ctx.config, args.environment);
    const alerts = await fetchAlerts({ url: env.url, token: ctx.secrets.PROMETHEUS_TOKEN, timeoutMs: ctx.config.prometheus.timeout_ms, signal: ctx.signal, environment: args.environment });
    return { environment: args.environment, namespace: env.namespace, ...evaluatePreDeploy(alerts, env.namespace, env.blocking_alerts) };
  },
  summarize: (r) => (r.ok ? `ok: ${r.firing} non-blocking alert(s) firing in ${r.namespace}` : `blocked: ${r.blocking.join('; ')}`),
});

export const prometheusTools = [prometheusPreDeployCheck] as const;
