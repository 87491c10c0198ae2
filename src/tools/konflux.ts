import { z } from 'zod';
import { APPLICATION_LABEL, conditionsOf, snapshotComponents, snapshotsForCommit } from '../integrations/konflux-status.js';
import type { KubeObject } from '../integrations/kube.js';
import { conditionSchema, conditionView, namespaceInput, namespaceOf, readOnly, resourceName, withKonflux } from './konflux-common.js';
import { konfluxListBuilds } from './konflux-builds.js';
import { konfluxReleaseTools } from './konflux-releases.js';
import { defineTool } from './registry.js';

const str = (v: unknown): string | null => (typeof v === 'string' && v ? v : null);

const applicationSchema = z.object({ name: z.string(), namespace: z.string(), display_name: z.string().nullable(), created: z.string().nullable() });

function applicationView(app: KubeObject): z.input<typeof applicationSchema> {
  return { name: app.metadata.name, namespace: app.metadata.namespace ?? '', display_name: str(app.spec?.displayName), created: app.metadata.creationTimestamp ?? null };
}

const componentSchema = z.object({
  name: z.string(),
  namespace: z.string(),
  component_name: z.string().nullable(),
  application: z.string().nullable(),
  git_url: z.string().nullable(),
  revision: z.string().nullable().describe('Branch or commit the component builds from'),
  container_image: z.string().nullable(),
  last_built_commit: z.string().nullable(),
  last_promoted_image: z.string().nullable(),
  created: z.string().nullable(),
});

function componentView(c: KubeObject): z.input<typeof componentSchema> {
  const git = (((c.spec?.source as Record<string, unknown> | undefined)?.git ?? {}) as Record<string, unknown>);
  return {
    name: c.metadata.name,
    namespace: c.metadata.namespace ?? '',
    component_name: str(c.spec?.componentName),
    application: str(c.spec?.application),
    git_url: str(git.url),
    revision: str(git.revision),
    container_image: str(c.spec?.containerImage),
    last_built_commit: str(c.status?.lastBuiltCommit),
    last_promoted_image: str(c.status?.lastPromotedImage),
    created: c.metadata.creationTimestamp ?? null,
  };
}

export const konfluxGetApplication = defineTool({
  name: 'konflux_get_application',
  family: 'konflux',
  title: 'Get a Konflux application',
  description: 'One Konflux Application by name, with its conditions.',
  input: z.object({ name: resourceName('application'), namespace: namespaceInput }),
  output: applicationSchema.extend({ conditions: z.array(conditionSchema) }),
  annotations: readOnly,
  handler: async (args, ctx) => {
    const app = await withKonflux(ctx, (k) => k.get('applications', namespaceOf(ctx, args.namespace), args.name, ctx.signal));
    return { ...applicationView(app), conditions: conditionsOf(app).map(conditionView) };
  },
  summarize: (r) => `application ${r.name} in ${r.namespace}`,
});

export const konfluxListApplications = defineTool({
  name: 'konflux_list_applications',
  family: 'konflux',
  title: 'List Konflux applications',
  description: 'Konflux Applications in a namespace (config konflux.namespace when absent).',
  input: z.object({ namespace: namespaceInput }),
  output: z.object({ namespace: z.string(), applications: z.array(applicationSchema) }),
  annotations: readOnly,
  handler: async (args, ctx) => {
    const namespace = namespaceOf(ctx, args.namespace);
    const apps = await withKonflux(ctx, (k) => k.list('applications', namespace, { signal: ctx.signal }));
    return { namespace, applications: apps.map(applicationView).sort((a, b) => a.name.localeCompare(b.name)) };
  },
  summarize: (r) => [`${r.applications.length} application(s) in ${r.namespace}`, ...r.applications.map((a) => a.name)].join('\n'),
});

export const konfluxGetComponent = defineTool({
  name: 'konflux_get_component',
  family: 'konflux',
  title: 'Get a Konflux component',
  description: 'One Konflux Component: application, git source, container image, last built commit.',
  input: z.object({ name: resourceName('component'), namespace: namespaceInput }),
  output: componentSchema.extend({ conditions: z.array(conditionSchema) }),
  annotations: readOnly,
  handler: async (args, ctx) => {
    const component = await withKonflux(ctx, (k) => k.get('components', namespaceOf(ctx, args.namespace), args.name, ctx.signal));
    return { ...componentView(component), conditions: conditionsOf(component).map(conditionView) };
  },
  summarize: (r) => `component ${r.name} of ${r.application ?? '?'}: ${r.container_image ?? 'no image'}`,
});

export const konfluxListComponents = defineTool({
  name: 'konflux_list_components',
  family: 'konflux',
  title: 'List Konflux components',
  description: 'Konflux Components in a namespace, optionally only those of one application.',
  input: z.object({ namespace: namespaceInput, application: resourceName('application').optional() }),
  output: z.object({ namespace: z.string(), components: z.array(componentSchema) }),
  annotations: readOnly,
  handler: async (args, ctx) => {
    const namespace = namespaceOf(ctx, args.namespace);
    const items = await withKonflux(ctx, (k) => k.list('components', namespace, { signal: ctx.signal }));
    const components = items.map(componentView).filter((c) => !args.application || c.application === args.application);
    return { namespace, components: components.sort((a, b) => a.name.localeCompare(b.name)) };
  },
  summarize: (r) =>
    [`${r.components.length} component(s) in ${r.namespace}`, ...r.components.map((c) => `${c.name} (${c.application ?? 'no application'}): ${c.container_image ?? 'no image'}, last built ${c.last_built_commit ?? 'never'}`)].join('\n'),
});

export const konfluxFindSnapshot = defineTool({
  name: 'konflux_find_snapshot',
  family: 'konflux',
  title: 'Find snapshots of a commit',
  description: 'Snapshots of an application having a component built from the given commit SHA, newest first. An empty list (not an error) when none exists yet.',
  input: z.object({
    application: resourceName('application'),
    commit_sha: z.string().trim().toLowerCase().regex(/^[0-9a-f]{40}$/, 'expected a full 40-hex commit SHA (short SHAs are ambiguous)'),
    namespace: namespaceInput,
    limit: z.number().int().min(1).max(100).default(10),
  }),
  output: z.object({
    namespace: z.string(),
    application: z.string(),
    commit_sha: z.string(),
    snapshots: z.array(
      z.object({
        name: z.string(),
        created: z.string().nullable(),
        components: z.array(z.object({ name: z.string(), containerImage: z.string(), revision: z.string() })),
      }),
    ),
    note: z.string().nullable(),
  }),
  annotations: readOnly,
  handler: async (args, ctx) => {
    const namespace = namespaceOf(ctx, args.namespace);
    const found = await withKonflux(ctx, async (k) => {
      const labelled = await k.list('snapshots', namespace, { labelSelector: `${APPLICATION_LABEL}=${args.application}`, signal: ctx.signal });
      const matches = snapshotsForCommit(labelled, args.commit_sha, args.application);
      if (matches.length) return matches;
      // Snapshots made by hand may lack the label: look through all of them by spec.application.
      return snapshotsForCommit(await k.list('snapshots', namespace, { signal: ctx.signal }), args.commit_sha, args.application);
    });
    const snapshots = found.slice(0, args.limit).map((s) => ({
      name: s.metadata.name,
      created: s.metadata.creationTimestamp ?? null,
      components: snapshotComponents(s).map(({ name, containerImage, revision }) => ({ name, containerImage, revision })),
    }));
    const note = snapshots.length
      ? found.length > snapshots.length
        ? `showing the newest ${snapshots.length} of ${found.length}`
        : null
      : `no snapshot of ${args.application} contains commit ${args.commit_sha} yet: the build or its integration tests may still be running`;
    return { namespace, application: args.application, commit_sha: args.commit_sha, snapshots, note };
  },
  summarize: (r) => (r.snapshots.length ? `${r.snapshots.length} snapshot(s); newest ${r.snapshots[0]!.name}` : (r.note ?? 'no snapshot')),
});

export const konfluxTools = [
  konfluxGetApplication,
  konfluxListApplications,
  konfluxGetComponent,
  konfluxListComponents,
  konfluxFindSnapshot,
  konfluxListBuilds,
  ...konfluxReleaseTools,
] as const;
