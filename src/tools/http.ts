import { z } from 'zod';
import type { HealthUrlConfig } from '../config.js';
import { ToolError } from '../errors.js';
import { withoutUrlCredentials } from '../integrations/http-errors.js';
import { checkHealthUrl, environmentNamed } from '../releases/index.js';
import { defineTool } from './registry.js';
import { httpsTrust } from './trust.js';

const checkSchema = z.object({
  name: z.string().optional().describe('Name of the smoke check (kind "smoke")'),
  url: z.string(),
  ok: z.boolean(),
  status: z.number().int().nullable().describe('HTTP status of the last attempt; null when nothing answered'),
  attempts: z.number().int(),
  duration_ms: z.number(),
  json_value: z.unknown().optional().describe('Value at the configured json_field'),
  error: z.string().optional(),
});

export const httpHealthCheck = defineTool({
  name: 'http_health_check',
  family: 'http',
  title: 'Check environment health URLs',
  description:
    "Call an environment's configured health URLs (or with kind \"smoke\" its smoke checks), checking status and, when configured, a JSON field; retries until each passes. Fails when one stays unhealthy unless fail_on_unhealthy is false.",
  input: z.object({
    environment: z.string().trim().min(1).describe('Environment name, e.g. staging'),
    kind: z.enum(['health', 'smoke']).default('health').describe('health: environments[].health_urls; smoke: environments[].smoke_checks'),
    url: z.string().optional().describe('Check only this one of the configured URLs'),
    timeout_ms: z.number().int().min(100).max(120_000).default(5_000).describe('Per attempt'),
    retries: z.number().int().min(0).max(10).default(2).describe('Extra attempts after a failed one'),
    retry_delay_ms: z.number().int().min(0).max(60_000).default(1_000),
    fail_on_unhealthy: z.boolean().default(true).describe('false: report unhealthy URLs in the result instead of failing'),
  }),
  output: z.object({ environment: z.string(), kind: z.enum(['health', 'smoke']), ok: z.boolean(), checks: z.array(checkSchema) }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  handler: async (args, ctx) => {
    const env = environmentNamed(ctx.config, args.environment);
    const smoke = args.kind === 'smoke';
    const configured: Array<HealthUrlConfig & { name?: string }> = smoke ? env.smoke_checks : env.health_urls;
    const setting = smoke ? 'smoke_checks' : 'health_urls';
    if (!configured.length) {
      throw new ToolError('config', `environment ${env.name} has no ${smoke ? 'smoke checks' : 'health URLs'}`, { hint: `add ${setting} to environments "${env.name}" in config.json` });
    }
    const targets = args.url ? configured.filter((h) => h.url === args.url) : configured;
    if (!targets.length) {
      throw new ToolError('forbidden', `${withoutUrlCredentials(args.url ?? '')} is not in ${setting} of ${env.name}: only configured URLs are called`, { hint: `configured: ${configured.map((h) => withoutUrlCredentials(h.url)).join(', ')}` });
    }
    const options = { timeoutMs: args.timeout_ms, retries: args.retries, retryDelayMs: args.retry_delay_ms, signal: ctx.signal, fetch: httpsTrust(ctx).fetch };
    const checks = await Promise.all(targets.map(async (t) => ({ ...(t.name ? { name: t.name } : {}), ...(await checkHealthUrl(t, options)) })));
    const ok = checks.every((c) => c.ok);
    if (!ok && args.fail_on_unhealthy) {
      const bad = checks.filter((c) => !c.ok);
      const what = smoke ? 'smoke checks fail' : 'is unhealthy';
      throw new ToolError('upstream', `${env.name} ${what}: ${bad.map((c) => `${c.name ?? c.url}: ${c.error}`).join('; ')}`, {
        hint: 'check the deployment and its logs; call again once it has settled',
        details: { checks },
      });
    }
    return { environment: env.name, kind: args.kind, ok, checks };
  },
  summarize: (r) =>
    r.kind === 'smoke'
      ? `${r.environment}: smoke checks ${r.ok ? 'pass' : 'fail'} (${r.checks.filter((c) => c.ok).length}/${r.checks.length})`
      : `${r.environment}: ${r.ok ? 'healthy' : 'unhealthy'} (${r.checks.filter((c) => c.ok).length}/${r.checks.length} URLs pass)`,
});

export const httpTools = [httpHealthCheck] as const;
