import { z } from 'zod';
import { ToolError } from '../errors.js';
import {
  APPLICATION_LABEL,
  conditionsOf,
  isFinal,
  newestFirst,
  pipelineRunsOf,
  RELEASE_PLAN_LABEL,
  SNAPSHOT_LABEL,
  summarizeRelease,
  type ReleaseState,
} from '../integrations/konflux-status.js';
import { KONFLUX_GROUP, KONFLUX_VERSION, type NewKubeObject } from '../integrations/kube.js';
import { conditionSchema, conditionView, namespaceInput, namespaceOf, readOnly, resourceName, withKonflux } from './konflux-common.js';
import { defineTool, type ToolContext } from './registry.js';

const STATES = ['Succeeded', 'Failed', 'Progressing', 'Unknown'] as const;

const releaseSchema = z.object({
  name: z.string(),
  namespace: z.string(),
  snapshot: z.string(),
  release_plan: z.string(),
  status: z.enum(STATES).describe('From the Released condition'),
  reason: z.string().nullable(),
  message: z.string().nullable(),
  created: z.string().nullable(),
  start_time: z.string().nullable(),
  completion_time: z.string().nullable(),
  target: z.string().nullable(),
});

const pipelineRunSchema = z.object({ stage: z.string(), pipeline_run: z.string(), start_time: z.string().nullable(), completion_time: z.string().nullable() });

function releasePlanOf(ctx: ToolContext, input: string | undefined): string {
  const plan = input ?? ctx.config.konflux.release_plan;
  if (!plan) throw new ToolError('config', 'no release plan given', { hint: 'pass release_plan, or set konflux.release_plan in config' });
  return plan;
}

export const konfluxListReleases = defineTool({
  name: 'konflux_list_releases',
  family: 'konflux',
  title: 'List Konflux releases',
  description:
    'Releases in a namespace, newest first, with their status; filter by application, release plan or snapshot (matched on spec).',
  input: z.object({
    namespace: namespaceInput,
    application: resourceName('application').optional().describe('Releases through the release plans of this application'),
    release_plan: resourceName('release plan').optional(),
    snapshot: resourceName('snapshot').optional(),
    limit: z.number().int().min(1).max(200).default(20),
  }),
  output: z.object({ namespace: z.string(), total: z.number().int(), releases: z.array(releaseSchema) }),
  annotations: readOnly,
  handler: async (args, ctx) => {
    const namespace = namespaceOf(ctx, args.namespace);
    const releases = await withKonflux(ctx, async (k) => {
      // No label selector: Releases created before the snapshot/plan labels existed have none; spec is the truth.
      let items = await k.list('releases', namespace, { signal: ctx.signal });
      items = items.filter((r) => (!args.snapshot || r.spec?.snapshot === args.snapshot) && (!args.release_plan || r.spec?.releasePlan === args.release_plan));
      if (args.application) {
        const plans = await k.list('releaseplans', namespace, { signal: ctx.signal });
        const ofApp = new Set(plans.filter((p) => p.spec?.application === args.application).map((p) => p.metadata.name));
        items = items.filter((r) => ofApp.has(String(r.spec?.releasePlan)) || r.metadata.labels?.[APPLICATION_LABEL] === args.application);
      }
      return newestFirst(items);
    });
    return { namespace, total: releases.length, releases: releases.slice(0, args.limit).map(summarizeRelease) };
  },
  summarize: (r) => `${r.releases.length} of ${r.total} release(s) in ${r.namespace}${r.releases[0] ? `; newest ${r.releases[0].name}: ${r.releases[0].status}` : ''}`,
});

export const konfluxGetRelease = defineTool({
  name: 'konflux_get_release',
  family: 'konflux',
  title: 'Get a Konflux release',
  description: 'One Release: spec, conditions, pipeline run references, start and completion times.',
  input: z.object({ name: resourceName('release'), namespace: namespaceInput }),
  output: releaseSchema.extend({
    labels: z.record(z.string(), z.string()),
    data: z.unknown().describe('spec.data, when set'),
    conditions: z.array(conditionSchema),
    pipeline_runs: z.array(pipelineRunSchema),
  }),
  annotations: readOnly,
  handler: async (args, ctx) => {
    const release = await withKonflux(ctx, (k) => k.get('releases', namespaceOf(ctx, args.namespace), args.name, ctx.signal));
    return {
      ...summarizeRelease(release),
      labels: release.metadata.labels ?? {},
      data: release.spec?.data ?? null,
      conditions: conditionsOf(release).map(conditionView),
      pipeline_runs: pipelineRunsOf(release),
    };
  },
  summarize: (r) => `release ${r.name}: ${r.status}${r.reason ? ` (${r.reason})` : ''}`,
});

export const konfluxCreateRelease = defineTool({
  name: 'konflux_create_release',
  family: 'konflux',
  title: 'Create a Konflux release',
  description:
    'Create a Release of a snapshot through a release plan. Refuses (conflict) when one exists for the same snapshot and plan, unless allow_duplicate.',
  input: z.object({
    snapshot: resourceName('snapshot'),
    release_plan: resourceName('release plan').optional().describe('config konflux.release_plan when absent'),
    namespace: namespaceInput,
    name_prefix: z
      .string()
      .trim()
      .max(200)
      .regex(/^[a-z0-9][-a-z0-9.]*-$/, 'expected a lowercase prefix ending in "-"')
      .optional()
      .describe('metadata.generateName; "<snapshot>-" when absent: the API adds a random suffix'),
    labels: z.record(z.string(), z.string()).default({}).describe('Extra labels on the Release'),
    allow_duplicate: z.boolean().default(false).describe('Create even when a Release for this snapshot and plan exists'),
  }),
  output: z.object({ name: z.string(), namespace: z.string(), snapshot: z.string(), release_plan: z.string(), created: z.string().nullable(), duplicate_of: z.array(z.string()) }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  handler: async (args, ctx) => {
    const namespace = namespaceOf(ctx, args.namespace);
    const releasePlan = releasePlanOf(ctx, args.release_plan);
    return withKonflux(ctx, async (k) => {
      await k.get('snapshots', namespace, args.snapshot, ctx.signal);
      await k.get('releaseplans', namespace, releasePlan, ctx.signal);
      // Matched on spec, over every page: a Release made before the labels existed is still a duplicate.
      const existing = newestFirst((await k.list('releases', namespace, { signal: ctx.signal })).filter((r) => r.spec?.snapshot === args.snapshot && r.spec?.releasePlan === releasePlan)).map(
        (r) => r.metadata.name,
      );
      if (existing.length && !args.allow_duplicate) {
        throw new ToolError('conflict', `snapshot ${args.snapshot} was already released through ${releasePlan}: Release ${existing[0]} exists`, {
          hint: `check it with konflux_get_release name=${existing[0]}; pass allow_duplicate=true to release it again`,
          details: { existing, namespace },
        });
      }
      const body: NewKubeObject = {
        apiVersion: `${KONFLUX_GROUP}/${KONFLUX_VERSION}`,
        kind: 'Release',
        metadata: { generateName: args.name_prefix ?? `${args.snapshot}-`, namespace, labels: { ...args.labels, [SNAPSHOT_LABEL]: args.snapshot, [RELEASE_PLAN_LABEL]: releasePlan } },
        spec: { snapshot: args.snapshot, releasePlan },
      };
      const created = await k.create('releases', namespace, body, ctx.signal);
      return { name: created.metadata.name, namespace, snapshot: args.snapshot, release_plan: releasePlan, created: created.metadata.creationTimestamp ?? null, duplicate_of: existing };
    });
  },
  summarize: (r) => `created release ${r.name} of ${r.snapshot} via ${r.release_plan}`,
});

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new ToolError('cancelled', 'waiting for the release was cancelled'));
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new ToolError('cancelled', 'waiting for the release was cancelled'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export const konfluxWaitRelease = defineTool({
  name: 'konflux_wait_release',
  family: 'konflux',
  title: 'Wait for a Konflux release',
  description:
    'Poll a Release until Released is Succeeded or Failed, sending progress. A Failed release returns succeeded=false with the reason; running out of time is a timeout error.',
  input: z.object({
    name: resourceName('release'),
    namespace: namespaceInput,
    timeout_seconds: z.number().int().min(1).max(6 * 3600).default(3600),
    poll_interval_seconds: z.number().min(0.05).max(600).optional().describe('config konflux.poll_interval_ms when absent'),
  }),
  output: z.object({
    name: z.string(),
    namespace: z.string(),
    status: z.enum(STATES),
    succeeded: z.boolean(),
    reason: z.string().nullable(),
    message: z.string().nullable(),
    completion_time: z.string().nullable(),
    polls: z.number().int(),
    waited_seconds: z.number(),
    pipeline_runs: z.array(pipelineRunSchema),
  }),
  annotations: readOnly,
  handler: async (args, ctx) => {
    const namespace = namespaceOf(ctx, args.namespace);
    const intervalMs = args.poll_interval_seconds !== undefined ? args.poll_interval_seconds * 1000 : ctx.config.konflux.poll_interval_ms;
    const started = Date.now();
    const deadline = started + args.timeout_seconds * 1000;
    let polls = 0;
    let last: ReleaseState = 'Unknown';
    for (;;) {
      const release = await withKonflux(ctx, (k) => k.get('releases', namespace, args.name, ctx.signal));
      polls += 1;
      const summary = summarizeRelease(release);
      last = summary.status;
      const waited = (Date.now() - started) / 1000;
      await ctx.progress({ progress: Math.min(waited, args.timeout_seconds), total: args.timeout_seconds, message: `release ${args.name}: ${summary.status}${summary.reason ? ` (${summary.reason})` : ''}` });
      if (isFinal(summary.status)) {
        return {
          name: args.name,
          namespace,
          status: summary.status,
          succeeded: summary.status === 'Succeeded',
          reason: summary.reason,
          message: summary.message,
          completion_time: summary.completion_time,
          polls,
          waited_seconds: Math.round(waited * 10) / 10,
          pipeline_runs: pipelineRunsOf(release),
        };
      }
      if (Date.now() >= deadline) {
        throw new ToolError('timeout', `release ${args.name} is still ${last} after ${Math.round(waited)}s (timeout ${args.timeout_seconds}s)`, {
          hint: 'the release keeps running: call konflux_wait_release again, or check its pipeline runs with konflux_get_release',
          details: { name: args.name, namespace, status: last, polls },
        });
      }
      await sleep(Math.min(intervalMs, deadline - Date.now()), ctx.signal);
    }
  },
  summarize: (r) => `release ${r.name}: ${r.status}${r.reason ? ` (${r.reason})` : ''} after ${r.waited_seconds}s`,
});

export const konfluxReleaseTools = [konfluxListReleases, konfluxGetRelease, konfluxCreateRelease, konfluxWaitRelease] as const;
