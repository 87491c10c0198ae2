import { z } from 'zod';
import { KonfluxConnector, type KonfluxClient } from '../integrations/kube.js';
import type { KubeCondition } from '../integrations/konflux-status.js';
import type { ToolContext } from './registry.js';
import { httpsTrust } from './trust.js';

export const readOnly = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true } as const;

const K8S_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
export const resourceName = (what: string) =>
  z
    .string()
    .trim()
    .max(253)
    .regex(K8S_NAME, `expected a Kubernetes resource name (lowercase, digits, - and .) for the ${what}`)
    .describe(`Name of the ${what}`);
export const namespaceInput = z
  .string()
  .trim()
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'expected a Kubernetes namespace')
  .optional()
  .describe('Konflux namespace (default: config konflux.namespace)');

export const conditionSchema = z.object({
  type: z.string(),
  status: z.string(),
  reason: z.string().nullable(),
  message: z.string().nullable(),
  last_transition: z.string().nullable(),
});

export function conditionView(c: KubeCondition): z.input<typeof conditionSchema> {
  return { type: c.type, status: c.status, reason: c.reason ?? null, message: c.message ?? null, last_transition: c.lastTransitionTime ?? null };
}

export function namespaceOf(ctx: ToolContext, namespace: string | undefined): string {
  return namespace ?? ctx.config.konflux.namespace;
}

/** Run `fn` with the cached Konflux client (rebuilt after an auth failure). */
export function withKonflux<T>(ctx: ToolContext, fn: (client: KonfluxClient) => Promise<T>): Promise<T> {
  const trust = httpsTrust(ctx);
  return ctx.clients.get('konflux', () => new KonfluxConnector(ctx.config, ctx.secrets, trust.ca)).use(fn);
}
