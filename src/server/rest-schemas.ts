/**
 * The REST API's request and response bodies (seed 003), as zod schemas: requests are validated
 * with them and GET /api/openapi.json is generated from them, so the two cannot drift apart.
 */
import { z } from 'zod';
import { migrationOpSchema, RELEASE_STATUSES } from '../releases/index.js';

export const releaseIdSchema = z
  .string()
  .regex(/^rel_\d{8}_\d{4}(_\d+)?$/, 'expected a release id like rel_20240115_1200')
  .describe('Release id, rel_YYYYMMDD_hhmm (a second release in the same minute gets _2, _3...)');

const envName = z.string().trim().min(1).max(100).describe('Environment name from config environments, e.g. staging');
const flagValue = z.union([z.boolean(), z.string().max(200)]).describe('true, false or a plan name');

type OpOption = (typeof migrationOpSchema.options)[number];

/** A migration as seed 003 writes it: the operation under `type` (`{"type": "create_table", "table": ...}`). */
function withTypeKey(option: OpOption) {
  const { operation, ...rest } = option.shape;
  return z.strictObject({ type: operation, ...rest });
}

export const databaseChangeSchema = z
  .discriminatedUnion('type', migrationOpSchema.options.map(withTypeKey) as unknown as [ReturnType<typeof withTypeKey>, ...ReturnType<typeof withTypeKey>[]])
  .describe('One schema change: type create_table | add_column | drop_column | modify_column | create_index | drop_table');

export const bundleDataSchema = z
  .strictObject({
    commit_sha: z.string().regex(/^[0-9a-f]{40}$/, 'expected the full 40-character commit SHA').optional().describe('Commit the release ships (full SHA)'),
    images: z.record(z.string().max(200), z.string().max(500)).optional().describe('Component name -> image reference'),
    database: z
      .strictObject({ changes: z.array(databaseChangeSchema).max(100).optional().describe('Schema changes, applied in order') })
      .optional(),
    feature_flags: z.record(z.string().max(200), flagValue).optional().describe('Flag name -> true, false or a plan name'),
  })
  .describe('What the release ships; every part is optional');

export const prepareRequestSchema = z.strictObject({
  from_env: envName,
  to_env: envName,
  bundle_data: bundleDataSchema.optional(),
  hotfix: z.boolean().optional().describe('Take a configured hotfix path (releases.hotfix_paths) that skips environments; default false'),
  allow_data_loss: z.boolean().optional().describe('Accept migrations that drop a column or table holding data; default false'),
});

export const releaseRefRequestSchema = z.strictObject({ release_id: releaseIdSchema });

export const listQuerySchema = z.strictObject({
  status: z.enum(RELEASE_STATUSES).optional(),
  environment: z.string().max(100).optional().describe('Target environment (to_env)'),
  limit: z.coerce.number().int().min(1).max(500).optional().describe('At most this many, newest first (default 50)'),
});

const migrationView = z.object({
  index: z.number().int(),
  operation: z.string(),
  table: z.string(),
  sql: z.string(),
  rollback_sql: z.string().nullable(),
  reversible: z.boolean(),
  data_loss: z.boolean(),
  dry_run_result: z.object({ ok: z.boolean(), error: z.string().optional(), affected: z.array(z.string()) }),
});

const timestamps = {
  created_by: z.string(),
  created_at: z.string().describe('ISO 8601, UTC'),
  promoted_at: z.string().nullable(),
  failed_at: z.string().nullable(),
  rolled_back_at: z.string().nullable(),
  error_message: z.string().nullable(),
};

export const releaseViewSchema = z.object({
  release_id: releaseIdSchema,
  id: releaseIdSchema.describe('The same as release_id (the manifest field of seed 003)'),
  status: z.enum(RELEASE_STATUSES),
  from_env: z.string(),
  to_env: z.string(),
  hotfix: z.boolean(),
  allow_data_loss: z.boolean(),
  commit_sha: z.string().nullable(),
  images: z.record(z.string(), z.string()),
  bundle_sha256: z.string(),
  migrations: z.array(migrationView),
  feature_flags: z.record(z.string(), flagValue),
  previous_flags: z.record(z.string(), flagValue.nullable()).nullable().describe('Flag values the promotion replaced (null: the config value applied)'),
  backup_path: z.string().nullable().describe('Copy of the target database taken before promotion'),
  promotion_running: z.boolean().describe('A promotion answered 202 is still running in this server'),
  ...timestamps,
});

export const releaseSummarySchema = z.object({
  release_id: releaseIdSchema,
  status: z.enum(RELEASE_STATUSES),
  from_env: z.string(),
  to_env: z.string(),
  commit_sha: z.string().nullable(),
  bundle_sha256: z.string(),
  migrations: z.number().int().describe('How many migrations'),
  ...timestamps,
});

export const releaseListSchema = z.object({ releases: z.array(releaseSummarySchema), count: z.number().int() });

export const rollbackViewSchema = releaseViewSchema.extend({
  rolled_back: z.literal(true),
  reverted_migrations: z.number().int().describe('0 for a failed release: its promotion was already rolled back'),
});

export const promotionAcceptedSchema = z.object({
  release_id: releaseIdSchema,
  status: z.literal('promoting'),
  status_url: z.string().describe('GET it for the outcome (also in the Location header)'),
});

export const errorBodySchema = z.object({
  success: z.literal(false),
  error: z.object({
    code: z.string().describe('invalid_input, auth, forbidden, not_found, conflict, precondition, rate_limited, config, internal...'),
    message: z.string(),
    hint: z.string().optional(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});

/** `{success: true, data}` around a response body. */
export const envelope = <T extends z.ZodType>(data: T) => z.object({ success: z.literal(true), data });

export type PrepareRequest = z.output<typeof prepareRequestSchema>;
export type ReleaseView = z.output<typeof releaseViewSchema>;
export type ReleaseSummary = z.output<typeof releaseSummarySchema>;
