import { z } from 'zod';
import { ToolError } from '../errors.js';
import {
  listEvents,
  listReleases,
  migrationOpSchema,
  prepareRelease,
  promoteRelease,
  readRelease,
  RELEASE_EVENTS,
  RELEASE_STATUSES,
  rollbackRelease,
  type PromotionSkillRunner,
  type ReleaseManifest,
} from '../releases/index.js';
import { resourceUris } from '../resources/uris.js';
import { defineTool, type ResourceLink, type ToolContext } from './registry.js';
import { promotionSkillRunner } from '../releases/promotion-skill.js';

const readOnly = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false } as const;

const releaseId = z.string().regex(/^rel_\d{8}_\d{4}(_\d+)?$/, 'expected a release id like rel_20240115_1200').describe('Release id, e.g. rel_20240115_1200');
const envName = z.string().trim().min(1).describe('Environment name from config environments, e.g. staging');
const flagValue = z.union([z.boolean(), z.string()]);

const bundleSchema = z.object({
  commit_sha: z.string().regex(/^[0-9a-f]{40}$/, 'expected the full 40-character commit SHA').describe('Commit the release ships (full SHA)'),
  images: z.record(z.string(), z.string()).default({}).describe('Component name -> image reference'),
  migrations: z.array(migrationOpSchema).max(100).default([]).describe('Schema changes, applied in order'),
  feature_flags: z.record(z.string(), flagValue).default({}).describe('Flag name -> true, false or a plan name'),
});

const migrationSchema = z.object({
  index: z.number().int(),
  operation: z.string(),
  table: z.string(),
  sql: z.string(),
  rollback_sql: z.string().nullable(),
  reversible: z.boolean(),
  notes: z.array(z.string()),
  affected: z.array(z.string()),
  data_loss: z.boolean(),
  data_loss_detail: z.string().optional(),
  dry_run_result: z.object({ ok: z.boolean(), error: z.string().optional(), affected: z.array(z.string()) }),
  transactional: z.boolean().optional().describe('PostgreSQL: false for CREATE INDEX CONCURRENTLY, run after the migrations\' transaction commits'),
});

const findingSchema = z.object({
  rule: z.string().describe('Stable rule id, e.g. index-not-concurrent'),
  severity: z.enum(['error', 'warning']).describe('error refuses the prepare'),
  migration: z.number().int().describe('1-based migration index'),
  message: z.string(),
  fix: z.string(),
  count: z.number().int().optional().describe('Rows a data check found (values lost, NULLs, duplicate values)'),
});

const manifestSchema = z.object({
  id: z.string(),
  tenant: z.string(),
  from_env: z.string(),
  to_env: z.string(),
  status: z.enum(RELEASE_STATUSES),
  hotfix: z.boolean(),
  allow_data_loss: z.boolean(),
  bundle: z.record(z.string(), z.unknown()),
  bundle_sha256: z.string(),
  migrations: z.array(migrationSchema),
  plan_sha256: z.string().optional().describe('sha256 of the SQL the dry run ran; promote applies only this plan'),
  findings: z.array(findingSchema).optional().describe('Safe-migration findings of the prepare (warnings; an error refuses it)'),
  target_kind: z.enum(['sqlite', 'postgresql']).optional().describe('Kind of the target database'),
  feature_flags: z.record(z.string(), flagValue),
  previous_flags: z.record(z.string(), flagValue.nullable()).nullable().describe('Flag values the promotion replaced (null: the config value applied)'),
  backup_path: z.string().nullable().describe('Copy of the target database taken before promotion'),
  created_by: z.string(),
  created_at: z.string(),
  promoted_at: z.string().nullable(),
  failed_at: z.string().nullable(),
  rolled_back_at: z.string().nullable(),
  error_message: z.string().nullable(),
});

const deps = (ctx: ToolContext) => ({ config: ctx.config, memory: ctx.memory, secrets: ctx.secrets });

/** The release manifest (migrations with their SQL, dry-run results, flags), read as the release resource. */
const releaseLink = (r: Pick<ReleaseManifest, 'id' | 'from_env' | 'to_env' | 'status'>): ResourceLink[] => [
  { uri: resourceUris.release(r.id), name: r.id, mimeType: 'application/json', description: `Release manifest ${r.id} (${r.from_env} -> ${r.to_env}, ${r.status})` },
];

const describeRelease = (r: Pick<ReleaseManifest, 'id' | 'from_env' | 'to_env' | 'status'>) => `${r.id} ${r.from_env} -> ${r.to_env}: ${r.status}`;

type ManifestResult = z.output<typeof manifestSchema>;

/** What a release engineer acts on: each migration with its dry run and data loss, each finding with its fix, the flags, the error. */
function releaseReport(headline: string, r: ManifestResult): string {
  const sha = typeof r.bundle.commit_sha === 'string' ? r.bundle.commit_sha.slice(0, 12) : 'none';
  const lines = [`${headline} (commit ${sha}, bundle ${r.bundle_sha256.slice(0, 12)}${r.target_kind ? `, ${r.target_kind} target` : ''}${r.hotfix ? ', hotfix' : ''})`];
  lines.push(`migrations: ${r.migrations.length}`);
  for (const m of r.migrations) {
    const dry = m.dry_run_result.ok ? 'dry run ok' : `dry run FAILED: ${m.dry_run_result.error ?? 'no detail'}`;
    lines.push(`  ${m.index}. ${m.operation} ${m.table}: ${dry}; ${m.reversible ? 'reversible' : 'not reversible'}${m.data_loss ? `; DATA LOSS${m.data_loss_detail ? ` (${m.data_loss_detail})` : ''}` : ''}`);
  }
  for (const f of r.findings ?? []) lines.push(`${f.severity} ${f.rule} (migration ${f.migration}): ${f.message} Fix: ${f.fix}`);
  const flags = Object.entries(r.feature_flags);
  if (flags.length) lines.push(`feature flags: ${flags.map(([name, value]) => `${name}=${String(value)}`).join(', ')}`);
  if (r.backup_path) lines.push(`backup: ${r.backup_path}`);
  if (r.error_message) lines.push(`error: ${r.error_message}`);
  return lines.join('\n');
}

export const releasePrepare = defineTool({
  name: 'release_prepare',
  family: 'releases',
  title: 'Prepare a staged release',
  description:
    'Plan each migration into SQL and rollback SQL for the target, check the safe-migration rules (an error refuses, naming rule and fix), dry-run them (rolled back) and store the release as prepared. Admin role.',
  input: z.object({
    from_env: envName,
    to_env: envName,
    bundle: bundleSchema,
    hotfix: z.boolean().default(false).describe('Take a configured hotfix path (releases.hotfix_paths) that skips environments'),
    allow_data_loss: z.boolean().default(false).describe('Accept migrations that drop a column or table holding data'),
  }),
  output: manifestSchema,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  handler: (args, ctx) => prepareRelease(deps(ctx), ctx.session.principal, args),
  summarize: (r) => releaseReport(`prepared ${describeRelease(r)}`, r),
  links: releaseLink,
});

export const releasePromote = defineTool({
  name: 'release_promote',
  family: 'releases',
  title: 'Promote a prepared release',
  description:
    "Back up the target database, apply the prepared migrations in one transaction, apply the feature flags, run the environment's promotion skill and mark it promoted; a failure rolls back and fails the release. Admin role.",
  input: z.object({ release_id: releaseId }),
  output: manifestSchema,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
  handler: (args, ctx) => promoteRelease(deps(ctx), ctx.session.principal, args.release_id, promotionSkillRunner((name, args) => ctx.callTool(name, args))),
  summarize: (r) => releaseReport(`promoted ${describeRelease(r)}`, r),
  links: releaseLink,
});

export const releaseRollback = defineTool({
  name: 'release_rollback',
  family: 'releases',
  title: 'Roll back a release',
  description:
    'Undo a promoted or failed release: run its rollback SQL when every migration is reversible and untouched, restore the previous flags, mark it rolled_back; otherwise refuse and name the backup. Admin role.',
  input: z.object({ release_id: releaseId }),
  output: manifestSchema.extend({ rolled_back: z.literal(true), reverted_migrations: z.number().int() }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  handler: async (args, ctx) => {
    const { release, reverted_migrations } = await rollbackRelease(deps(ctx), ctx.session.principal, args.release_id);
    return { ...release, rolled_back: true as const, reverted_migrations };
  },
  summarize: (r) => releaseReport(`rolled back ${r.id} (${r.reverted_migrations} migration(s) reverted)`, r),
  links: releaseLink,
});

const releaseSummarySchema = manifestSchema.pick({
  id: true,
  from_env: true,
  to_env: true,
  status: true,
  bundle_sha256: true,
  created_by: true,
  created_at: true,
  promoted_at: true,
  failed_at: true,
  rolled_back_at: true,
  error_message: true,
}).extend({ commit_sha: z.string().nullable(), migrations: z.number().int() });

export const releaseList = defineTool({
  name: 'release_list',
  family: 'releases',
  title: 'List releases',
  description: "List your tenant's releases, newest first, optionally by status or target environment.",
  input: z.object({
    status: z.enum(RELEASE_STATUSES).optional(),
    environment: z.string().optional().describe('Target environment (to_env)'),
    limit: z.number().int().min(1).max(500).default(50),
  }),
  output: z.object({ releases: z.array(releaseSummarySchema), count: z.number().int() }),
  annotations: readOnly,
  handler: async (args, ctx) => {
    const releases = await listReleases(ctx.memory, ctx.session.principal.tenant, { limit: args.limit, ...(args.status ? { status: args.status } : {}), ...(args.environment ? { environment: args.environment } : {}) });
    const rows = releases.map((r) => ({ ...r, commit_sha: typeof r.bundle.commit_sha === 'string' ? r.bundle.commit_sha : null, migrations: r.migrations.length }));
    return { releases: rows, count: rows.length };
  },
  summarize: (r) => (r.count ? r.releases.map((x) => `${x.id} ${x.from_env}->${x.to_env} ${x.status}, commit ${x.commit_sha?.slice(0, 12) ?? 'none'}, ${x.migrations} migration(s), by ${x.created_by} at ${x.created_at}`).join('\n') : 'no releases'),
});

export const releaseGet = defineTool({
  name: 'release_get',
  family: 'releases',
  title: 'Get a release manifest',
  description: 'The full manifest of a release: bundle, planned migrations with SQL, rollback SQL and dry-run results, flags, status and timestamps.',
  input: z.object({ release_id: releaseId }),
  output: manifestSchema,
  annotations: readOnly,
  handler: (args, ctx) => readRelease(deps(ctx), ctx.session.principal, args.release_id),
  summarize: (r) => releaseReport(describeRelease(r), r),
  links: releaseLink,
});

export const releaseEvents = defineTool({
  name: 'release_events',
  family: 'releases',
  title: 'Release audit trail',
  description: 'Audit events (prepared, promoted, failed, rollback, refused calls) of one release or of your whole tenant, oldest first, with who, when and details.',
  input: z.object({
    release_id: releaseId.optional(),
    event: z.enum(RELEASE_EVENTS).optional(),
    limit: z.number().int().min(1).max(1000).default(100).describe('Newest events kept'),
  }),
  output: z.object({
    events: z.array(
      z.object({
        id: z.number().int(),
        release_id: z.string().nullable(),
        event: z.enum(RELEASE_EVENTS),
        actor: z.string(),
        role: z.string(),
        ts: z.string(),
        duration_ms: z.number().nullable(),
        details: z.record(z.string(), z.unknown()),
      }),
    ),
  }),
  annotations: readOnly,
  handler: async (args, ctx) => ({
    events: await listEvents(ctx.memory, ctx.session.principal.tenant, { limit: args.limit, ...(args.release_id ? { release_id: args.release_id } : {}), ...(args.event ? { event: args.event } : {}) }),
  }),
  summarize: (r) =>
    [`${r.events.length} event(s)`, ...r.events.map((e) => `${e.ts} ${e.event}${e.release_id ? ` ${e.release_id}` : ''} by ${e.actor} (${e.role})${e.duration_ms !== null ? `, ${e.duration_ms} ms` : ''}`)].join('\n'),
});

export const releaseTools = [releasePrepare, releasePromote, releaseRollback, releaseList, releaseGet, releaseEvents] as const;
