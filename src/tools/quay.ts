import { z } from 'zod';
import { ToolError } from '../errors.js';
import { DIGEST_PATTERN, isActiveTag, QuayClient, resolveQuayRepository, TAG_PATTERN, type QuayTag } from '../integrations/quay.js';
import { evaluatePolicy, SEVERITIES, summarizeVulnerabilities } from '../integrations/quay-vulns.js';
import { defineTool, type ToolContext } from './registry.js';
import { httpsTrust } from './trust.js';

const readOnly = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true } as const;

const repository = z
  .string()
  .trim()
  .min(1)
  .max(255)
  .describe('namespace/repo (several path segments allowed) or a short name from config quay.repositories, e.g. "backend"');
const tag = z.string().trim().regex(TAG_PATTERN, 'expected a Quay tag name').describe('Tag name, e.g. the full commit SHA');
const digest = z.string().trim().regex(DIGEST_PATTERN, 'expected sha256:<64 hex>').describe('Manifest digest, sha256:...');
const severityCounts = z.object(Object.fromEntries(SEVERITIES.map((s) => [s, z.number().int()])) as Record<(typeof SEVERITIES)[number], z.ZodNumber>);

const quay = (ctx: ToolContext) => {
  const trust = httpsTrust(ctx);
  return ctx.clients.get('quay', () => QuayClient.fromConfig(ctx.config, ctx.secrets.QUAY_TOKEN, trust.fetch));
};

function tagView(t: QuayTag) {
  return {
    name: t.name,
    manifest_digest: t.manifest_digest,
    size: typeof t.size === 'number' ? t.size : null,
    last_modified: t.last_modified ?? null,
    is_manifest_list: t.is_manifest_list ?? false,
  };
}

/** The live tag, or not_found: a tag that was deleted or expired (end_ts) is not an image. */
async function activeTag(ctx: ToolContext, repo: string, name: string): Promise<QuayTag> {
  const page = await quay(ctx).listTags(repo, { specificTag: name }, ctx.signal);
  const entries = (page.tags ?? []).filter((t) => t.name === name);
  const live = entries.find((t) => isActiveTag(t));
  if (live) return live;
  if (entries.length) {
    const ended = Math.max(...entries.map((t) => t.end_ts ?? 0));
    throw new ToolError('not_found', `tag ${name} of ${repo} is dead (deleted or expired at ${new Date(ended * 1000).toISOString()}): it is not an image`, {
      hint: 'the image is gone from this tag: rebuild it (re-run the build pipeline) or pick another tag',
      details: { repository: repo, tag: name, end_ts: ended },
    });
  }
  throw new ToolError('not_found', `no image tagged ${name} in ${repo}`, {
    hint: 'image not built yet: wait for the build pipeline to push it, then retry',
    details: { repository: repo, tag: name },
  });
}

export const quayGetTag = defineTool({
  name: 'quay_get_tag',
  family: 'quay',
  title: 'Get a Quay tag',
  description: 'The active tag of a Quay repository: manifest digest, size, last modified. not_found when the tag is missing or dead (deleted/expired).',
  input: z.object({ repository, tag }),
  output: z.object({
    repository: z.string(),
    tag: z.string(),
    manifest_digest: z.string(),
    size: z.number().nullable().describe('Bytes; null for manifest lists'),
    last_modified: z.string().nullable(),
    is_manifest_list: z.boolean(),
  }),
  annotations: readOnly,
  handler: async (args, ctx) => {
    const repo = resolveQuayRepository(ctx.config, args.repository);
    const { name, ...view } = tagView(await activeTag(ctx, repo, args.tag));
    return { repository: repo, tag: name, ...view };
  },
  summarize: (r) => `${r.repository}:${r.tag} -> ${r.manifest_digest}`,
});

export const quayListTags = defineTool({
  name: 'quay_list_tags',
  family: 'quay',
  title: 'List Quay tags',
  description: 'Tags of a Quay repository, most recent first, one page at a time; filter keeps tags whose name contains the text.',
  input: z.object({
    repository,
    filter: z.string().trim().max(128).optional().describe('Keep tags whose name contains this text'),
    limit: z.number().int().min(1).max(100).default(20),
    page: z.number().int().min(1).default(1),
    only_active: z.boolean().default(true).describe('false also lists dead (deleted/expired) tags'),
  }),
  output: z.object({
    repository: z.string(),
    page: z.number().int(),
    has_additional: z.boolean().describe('More tags on the next page'),
    tags: z.array(
      z.object({ name: z.string(), manifest_digest: z.string(), size: z.number().nullable(), last_modified: z.string().nullable(), is_manifest_list: z.boolean(), active: z.boolean() }),
    ),
  }),
  annotations: readOnly,
  handler: async (args, ctx) => {
    const repo = resolveQuayRepository(ctx.config, args.repository);
    const result = await quay(ctx).listTags(
      repo,
      { onlyActiveTags: args.only_active, page: args.page, limit: args.limit, ...(args.filter ? { filterTagName: `like:${args.filter}` } : {}) },
      ctx.signal,
    );
    return {
      repository: repo,
      page: result.page ?? args.page,
      has_additional: result.has_additional ?? false,
      tags: (result.tags ?? []).slice(0, args.limit).map((t) => ({ ...tagView(t), active: isActiveTag(t) })),
    };
  },
  summarize: (r) => `${r.tags.length} tag(s) of ${r.repository} (page ${r.page}${r.has_additional ? ', more' : ''})`,
});

const target = { repository, tag: tag.optional(), digest: digest.optional() };

async function scan(ctx: ToolContext, args: { repository: string; tag?: string | undefined; digest?: string | undefined }) {
  if (!args.tag && !args.digest) throw new ToolError('invalid_input', 'give a tag or a digest', { hint: 'tag: the image tag (e.g. the commit SHA); digest: sha256:...' });
  const repo = resolveQuayRepository(ctx.config, args.repository);
  const tagged = args.tag ? (await activeTag(ctx, repo, args.tag)).manifest_digest : undefined;
  if (tagged && args.digest && tagged !== args.digest) {
    throw new ToolError('invalid_input', `tag ${args.tag} of ${repo} is ${tagged}, not the digest given (${args.digest})`, {
      hint: 'give the tag or the digest alone, or the digest that the tag points at',
      details: { repository: repo, tag: args.tag, tag_digest: tagged, digest: args.digest },
    });
  }
  const manifest = args.digest ?? tagged!;
  const report = await quay(ctx).security(repo, manifest, ctx.signal);
  return { repo, manifest, summary: summarizeVulnerabilities(report, ctx.config.quay.cve_list_limit) };
}

export const quayGetVulnerabilities = defineTool({
  name: 'quay_get_vulnerabilities',
  family: 'quay',
  title: 'Get image vulnerabilities',
  description:
    'Quay security scan of an image (by tag or digest): scan status (scanned, queued, failed, unsupported), counts by severity, fixable counts and the CVE list, most severe first, trimmed to config quay.cve_list_limit.',
  input: z.object(target),
  output: z.object({
    repository: z.string(),
    tag: z.string().nullable(),
    manifest_digest: z.string(),
    status: z.enum(['scanned', 'queued', 'failed', 'unsupported']),
    counts: severityCounts,
    fixable: severityCounts.describe('Vulnerabilities with a fixed version, by severity'),
    total: z.number().int(),
    cves: z.array(z.object({ id: z.string(), severity: z.string(), package: z.string(), version: z.string(), fixed_by: z.string().nullable(), link: z.string().nullable() })),
    trimmed: z.string().nullable().describe('Set when the CVE list was cut short'),
  }),
  annotations: readOnly,
  handler: async (args, ctx) => {
    const { repo, manifest, summary } = await scan(ctx, args);
    return { repository: repo, tag: args.tag ?? null, manifest_digest: manifest, ...summary };
  },
  summarize: (r) =>
    r.status === 'scanned' ? `${r.total} vulnerabilities (${r.counts.Critical} critical, ${r.counts.High} high) in ${r.manifest_digest}` : `scan ${r.status} for ${r.manifest_digest}`,
});

export const quayCheckPolicy = defineTool({
  name: 'quay_check_policy',
  family: 'quay',
  title: 'Check image vulnerability policy',
  description:
    'Release policy on the image scan: verdict pass, block (findings at or above fail_on), pending (scan still queued) or unknown (scan failed/unsupported). Only a finished clean scan passes.',
  input: z.object({ ...target, fail_on: z.enum(['critical', 'high']).default('critical').describe('Lowest severity that blocks') }),
  output: z.object({
    repository: z.string(),
    tag: z.string().nullable(),
    manifest_digest: z.string(),
    verdict: z.enum(['pass', 'block', 'pending', 'unknown']),
    pass: z.boolean(),
    reasons: z.array(z.string()),
    fail_on: z.enum(['critical', 'high']),
    scan_status: z.enum(['scanned', 'queued', 'failed', 'unsupported']),
    counts: severityCounts,
    fixable: severityCounts,
  }),
  annotations: readOnly,
  handler: async (args, ctx) => {
    const { repo, manifest, summary } = await scan(ctx, args);
    const policy = evaluatePolicy(summary, args.fail_on);
    return {
      repository: repo,
      tag: args.tag ?? null,
      manifest_digest: manifest,
      verdict: policy.verdict,
      pass: policy.verdict === 'pass',
      reasons: policy.reasons,
      fail_on: args.fail_on,
      scan_status: summary.status,
      counts: summary.counts,
      fixable: summary.fixable,
    };
  },
  summarize: (r) => `${r.verdict}: ${r.reasons.join('; ')}`,
});

export const quayTools = [quayGetTag, quayListTags, quayGetVulnerabilities, quayCheckPolicy] as const;
