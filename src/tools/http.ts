import { z } from 'zod';
import { ToolError } from '../errors.js';
import { checkHealthUrl, environmentNamed } from '../releases/index.js';
import { defineTool } from './registry.js';

const checkSchema = z.object({
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
    "Call an environment's configured health URLs (config environments[].health_urls only) and check the status code and, when configured, a JSON field and its value; retries each URL until it passes. Fails when a URL stays unhealthy unless fail_on_unhealthy is false.",
  input: z.object({
    environment: z.string().trim().min(1).describe('Environment name, e.g. staging'),
    url: z.string().optional().describe('Check only this one of the configured URLs'),
    timeout_ms: z.number().int().min(100).max(120_000).default(5_000).describe('Per attempt'),
    retries: z.number().int().min(0).max(10).default(2).describe('Extra attempts after a failed one'),
    retry_delay_ms: z.number().int().min(0).max(60_000).default(1_000),
    fail_on_unhealthy: z.boolean().default(true).describe('false: report unhealthy URLs in the result instead of failing'),
  }),
  output: z.object({ environment: z.string(), ok: z.boolean(), checks: z.array(checkSchema) }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  handler: async (args, ctx) => {
    const env = environmentNamed(ctx.config, args.environment);
    if (!env.health_urls.length) {
      throw new ToolError('config', `environment ${env.name} has no health URLs`, { hint: `add health_urls to environments "${env.name}" in config.json` });
    }
    const targets = args.url ? env.health_urls.filter((h) => h.url === args.url) : env.health_urls;
    if (!targets.length) {
      throw new ToolError('forbidden', `${args.url} is not a health URL of ${env.name}: only configured URLs are called`, { hint: `configured: ${env.health_urls.map((h) => h.url).join(', ')}` });
    }
    const options = { timeoutMs: args.timeout_ms, retries: args.retries, retryDelayMs: args.retry_delay_ms, signal: ctx.signal };
    const checks = await Promise.all(targets.map((t) => checkHealthUrl(t, options)));
    const ok = checks.every((c) => c.ok);
    if (!ok && args.fail_on_unhealthy) {
      const bad = checks.filter((c) => !c.ok);
      throw new ToolError('upstream', `${env.name} is unhealthy: ${bad.map((c) => `${c.url}: ${c.error}`).join('; ')}`, {
        hint: 'check the deployment and its logs; call again once it has settled',
        details: { checks },
      });
    }
    return { environment: env.name, ok, checks };
  },
  summarize: (r) => `${r.environment}: ${r.ok ? 'healthy' : 'unhealthy'} (${r.checks.filter((c) => c.ok).length}/${r.checks.length} URLs pass)`,
});

export const httpTools = [httpHealthCheck] as const;
