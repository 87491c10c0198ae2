import { z } from 'zod';
import { buildSelector, summarizeBuild } from '../integrations/konflux-builds.js';
import { newestFirst } from '../integrations/konflux-status.js';
import { namespaceInput, namespaceOf, readOnly, resourceName, withKonflux } from './konflux-common.js';
import { defineTool } from './registry.js';

const BUILD_STATES = ['Succeeded', 'Failed', 'Running', 'Pending'] as const;

export const konfluxListBuilds = defineTool({
  name: 'konflux_list_builds',
  family: 'konflux',
  title: 'List Konflux builds',
  description:
    'Build PipelineRuns of a component and/or commit, newest first, with status, reason, times and pushed image. Use it when an image is missing in Quay: running, failed or never started?',
  input: z.object({
    component: resourceName('component').optional().describe('Component whose builds to list (label appstudio.openshift.io/component)'),
    commit_sha: z
      .string()
      .trim()
      .regex(/^[0-9a-f]{40}$/, 'expected the full 40-character commit SHA: builds are labelled with the full SHA')
      .optional()
      .describe('Commit the builds were for (label pipelinesascode.tekton.dev/sha)'),
    application: resourceName('application').optional(),
    namespace: namespaceInput,
    limit: z.number().int().min(1).max(100).default(20),
  }),
  output: z.object({
    namespace: z.string(),
    total: z.number().int(),
    builds: z.array(
      z.object({
        name: z.string(),
        component: z.string().nullable(),
        application: z.string().nullable(),
        commit_sha: z.string().nullable(),
        event_type: z.string().nullable().describe('push or pull_request (Pipelines as Code)'),
        status: z.enum(BUILD_STATES),
        reason: z.string().nullable(),
        message: z.string().nullable(),
        created: z.string().nullable(),
        start_time: z.string().nullable(),
        completion_time: z.string().nullable(),
        image_url: z.string().nullable(),
        image_digest: z.string().nullable(),
      }),
    ),
    note: z.string().nullable(),
  }),
  annotations: readOnly,
  handler: async (args, ctx) => {
    const namespace = namespaceOf(ctx, args.namespace);
    const selector = buildSelector({ component: args.component, commitSha: args.commit_sha, application: args.application });
    const runs = newestFirst(await withKonflux(ctx, (k) => k.listPipelineRuns(namespace, { labelSelector: selector, signal: ctx.signal })));
    const builds = runs.slice(0, args.limit).map(summarizeBuild);
    const what = [args.component && `component ${args.component}`, args.commit_sha && `commit ${args.commit_sha}`].filter(Boolean).join(' and ');
    const note = builds.length
      ? runs.length > builds.length
        ? `showing the newest ${builds.length} of ${runs.length}`
        : null
      : `no build PipelineRun${what ? ` for ${what}` : ''} in ${namespace}: the push may not have triggered a build yet, or old PipelineRuns were pruned`;
    return { namespace, total: runs.length, builds, note };
  },
  summarize: (r) => (r.builds[0] ? `${r.total} build(s); newest ${r.builds[0].name}: ${r.builds[0].status}${r.builds[0].reason ? ` (${r.builds[0].reason})` : ''}` : (r.note ?? 'no builds')),
});
