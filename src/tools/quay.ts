import { z } from 'zod';
import { ToolError } from '../errors.js';
import { DIGEST_PATTERN, isActiveTag, manifestListEntries, QuayClient, resolveQuayRepository, TAG_PATTERN, type QuayManifest, type QuayTag } from '../integrations/quay.js';
import { evaluatePolicy, mergeReports, SEVERITIES, summarizeVulnerabilities, worstVerdict, type VulnerabilitySummary } from '../integrations/quay-vulns.js';
import { defineTool, type ToolContext } from './registry.js';
import { httpsTrust } from './trust.js';

const readOnly = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true } as const;

const repository = z
  .string()
  .trim()
  .min(1)
  .max(255)
  .describe('namespace/repo, or a short name from config quay.repositories (e.g. "backend")');
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

type TagLookup = { state: 'live'; tag: QuayTag } | { state: 'dead'; endedAt: number } | { state: 'missing' };

async function lookupTag(ctx: ToolContext, repo: string, name: string): Promise<TagLookup> {
  const page = await quay(ctx).listTags(repo, { specificTag: name }, ctx.signal);
  const entries = (page.tags ?? []).filter((t) => t.name === name);
  const live = entries.find((t) => isActiveTag(t));
  if (live) return { state: 'live', tag: live };
  if (entries.length) return { state: 'dead', endedAt: Math.max(...entries.map((t) => t.end_ts ?? 0)) };
  return { state: 'missing' };
}

const DEAD_HINT = 'the image is gone from this tag: rebuild it (re-run the build pipeline) or pick another tag';
const MISSING_HINT = 'image not built yet: wait for the build pipeline to push it (konflux_list_builds shows the builds of a commit), then retry';
const SHORT_SHA_HINT = 'Konflux tags images with the full 40-character commit SHA: a short SHA tag does not exist';
const looksLikeShortSha = (tagName: string) => /^[0-9a-f]{7,39}$/.test(tagName);

/** The live tag, or not_found: a tag that was deleted or expired (end_ts) is not an image. */
async function activeTag(ctx: ToolContext, repo: string, name: string): Promise<QuayTag> {
  const found = await lookupTag(ctx, repo, name);
  if (found.state === 'live') return found.tag;
  if (found.state === 'dead') {
    throw new ToolError('not_found', `tag ${name} of ${repo} is dead (deleted or expired at ${new Date(found.endedAt * 1000).toISOString()}): it is not an image`, {
      hint: DEAD_HINT,
      details: { repository: repo, tag: name, end_ts: found.endedAt },
    });
  }
  throw new ToolError('not_found', `no image tagged ${name} in ${repo}`, {
    hint: looksLikeShortSha(name) ? SHORT_SHA_HINT : MISSING_HINT,
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

export const quayCheckImageExists = defineTool({
  name: 'quay_check_image_exists',
  family: 'quay',
  title: 'Does the image exist in Quay?',
  description:
    'Whether a live image is tagged `tag` in a Quay repository: exists with its digest, or not with the reason (never pushed, deleted/expired). An unreadable repository is an error, not false.',
  input: z.object({
    repository,
    tag,
    namespace: z
      .string()
      .trim()
      .regex(/^[a-z0-9][a-z0-9._-]*$/, 'expected a Quay namespace (organization or user), e.g. redhat-user-workloads')
      .optional()
      .describe('Quay namespace to put before repository when repository does not start with it'),
  }),
  output: z.object({
    repository: z.string(),
    tag: z.string(),
    exists: z.boolean(),
    manifest_digest: z.string().nullable(),
    is_manifest_list: z.boolean().nullable(),
    last_modified: z.string().nullable(),
    reason: z.string().nullable().describe('Why there is no image (missing or dead tag); null when it exists'),
    hint: z.string().nullable().describe('What to do when there is no image'),
  }),
  annotations: readOnly,
  handler: async (args, ctx) => {
    const given = args.namespace && !args.repository.startsWith(`${args.namespace}/`) ? `${args.namespace}/${args.repository}` : args.repository;
    const repo = resolveQuayRepository(ctx.config, given);
    const found = await lookupTag(ctx, repo, args.tag);
    const base = { repository: repo, tag: args.tag };
    if (found.state === 'live') {
      const view = tagView(found.tag);
      return { ...base, exists: true, manifest_digest: view.manifest_digest, is_manifest_list: view.is_manifest_list, last_modified: view.last_modified, reason: null, hint: null };
    }
    const absent = { ...base, exists: false, manifest_digest: null, is_manifest_list: null, last_modified: null };
    if (found.state === 'dead') return { ...absent, reason: `tag ${args.tag} was deleted or expired at ${new Date(found.endedAt * 1000).toISOString()}`, hint: DEAD_HINT };
    return { ...absent, reason: `image not found: nothing tagged ${args.tag} in ${repo}`, hint: looksLikeShortSha(args.tag) ? SHORT_SHA_HINT : MISSING_HINT };
  },
  summarize: (r) => (r.exists ? `${r.repository}:${r.tag} exists (${r.manifest_digest})` : `${r.repository}:${r.tag} does not exist: ${r.reason}`),
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
  summarize: (r) =>
    [`${r.tags.length} tag(s) of ${r.repository} (page ${r.page}${r.has_additional ? ', more' : ''})`, ...r.tags.map((t) => `${t.name} ${t.manifest_digest}${t.last_modified ? ` ${t.last_modified}` : ''}${t.active ? '' : ' (inactive)'}`)].join('\n'),
});

const target = { repository, tag: tag.optional(), digest: digest.optional() };

interface ImageScan {
  platform: string;
  digest: string;
  summary: VulnerabilitySummary;
}

/**
 * Scan results for the image, or for each image of a manifest list: Quay reports a list itself as
 * `unsupported`, so the list is followed to each architecture's manifest and all are judged.
 */
async function scan(ctx: ToolContext, args: { repository: string; tag?: string | undefined; digest?: string | undefined }) {
  if (!args.tag && !args.digest) throw new ToolError('invalid_input', 'give a tag or a digest', { hint: 'tag: the image tag (e.g. the commit SHA); digest: sha256:...' });
  const repo = resolveQuayRepository(ctx.config, args.repository);
  const tagged = args.tag ? await activeTag(ctx, repo, args.tag) : undefined;
  if (tagged && args.digest && tagged.manifest_digest !== args.digest) {
    throw new ToolError('invalid_input', `tag ${args.tag} of ${repo} is ${tagged.manifest_digest}, not the digest given (${args.digest})`, {
      hint: 'give the tag or the digest alone, or the digest that the tag points at',
      details: { repository: repo, tag: args.tag, tag_digest: tagged.manifest_digest, digest: args.digest },
    });
  }
  const manifest = args.digest ?? tagged!.manifest_digest;
  const client = quay(ctx);
  const limit = ctx.config.quay.cve_list_limit;
  let list: QuayManifest | undefined;
  if (tagged?.is_manifest_list !== true) {
    const report = await client.security(repo, manifest, ctx.signal);
    const single = summarizeVulnerabilities(report, limit);
    // A digest given alone may be a list: Quay then says unsupported, and the manifest tells.
    if (single.status === 'unsupported') list = await client.manifest(repo, manifest, ctx.signal);
    if (!list?.is_manifest_list) return { repo, manifest, summary: single, images: [] as ImageScan[] };
  }
  const entries = manifestListEntries(list ?? (await client.manifest(repo, manifest, ctx.signal)));
  if (!entries.length) throw new ToolError('upstream', `manifest list ${manifest} in ${repo} names no images to scan`, { details: { repository: repo, digest: manifest } });
  const reports = await Promise.all(entries.map((e) => client.security(repo, e.digest, ctx.signal)));
  const images = entries.map((e, i) => ({ platform: e.platform, digest: e.digest, summary: summarizeVulnerabilities(reports[i]!, limit) }));
  return { repo, manifest, summary: summarizeVulnerabilities(mergeReports(reports), limit), images };
}

const scanStatus = z.enum(['scanned', 'queued', 'failed', 'unsupported']);

export const quayGetVulnerabilities = defineTool({
  name: 'quay_get_vulnerabilities',
  family: 'quay',
  title: 'Get image vulnerabilities',
  description:
    'Quay security scan of an image (tag or digest): status, counts by severity, fixable counts and the CVE list, most severe first. A multi-arch image is scanned per architecture and summed.',
  input: z.object(target),
  output: z.object({
    repository: z.string(),
    tag: z.string().nullable(),
    manifest_digest: z.string(),
    status: scanStatus.describe('For a manifest list: the worst status of its images'),
    counts: severityCounts,
    fixable: severityCounts.describe('Vulnerabilities with a fixed version, by severity'),
    total: z.number().int(),
    cves: z.array(z.object({ id: z.string(), severity: z.string(), package: z.string(), version: z.string(), fixed_by: z.string().nullable(), link: z.string().nullable() })),
    trimmed: z.string().nullable().describe('Set when the CVE list was cut short'),
    architectures: z
      .array(z.object({ platform: z.string().describe('os/architecture[/variant]'), digest: z.string(), status: scanStatus, counts: severityCounts, total: z.number().int() }))
      .describe('Each image of a manifest list; empty for a single-architecture image'),
  }),
  annotations: readOnly,
  handler: async (args, ctx) => {
    const { repo, manifest, summary, images } = await scan(ctx, args);
    return {
      repository: repo,
      tag: args.tag ?? null,
      manifest_digest: manifest,
      ...summary,
      architectures: images.map((i) => ({ platform: i.platform, digest: i.digest, status: i.summary.status, counts: i.summary.counts, total: i.summary.total })),
    };
  },
  summarize: (r) =>
    r.status === 'scanned'
      ? [
          `${r.total} vulnerabilities (${r.counts.Critical} critical, ${r.counts.High} high, ${r.counts.Medium} medium; fixable: ${r.fixable.Critical} critical, ${r.fixable.High} high) in ${r.manifest_digest}`,
          ...r.cves.map((c) => `${c.severity} ${c.id} ${c.package} ${c.version}${c.fixed_by ? ` (fixed by ${c.fixed_by})` : ''}`),
          ...(r.trimmed ? [r.trimmed] : []),
        ].join('\n')
      : `scan ${r.status} for ${r.manifest_digest}`,
});

/** A manifest list's verdict: the worst of its images', with the reasons of those that did not pass. */
function listPolicy(images: Array<{ platform: string; verdict: ReturnType<typeof evaluatePolicy>['verdict']; reasons: string[] }>, failOn: 'critical' | 'high') {
  const verdict = worstVerdict(images.map((i) => i.verdict));
  if (verdict === 'pass') return { verdict, reasons: [`no ${failOn === 'high' ? 'critical or high' : 'critical'} vulnerabilities in any of the ${images.length} images (${images.map((i) => i.platform).join(', ')})`] };
  return { verdict, reasons: images.filter((i) => i.verdict !== 'pass').flatMap((i) => i.reasons.map((r) => `${i.platform}: ${r}`)) };
}

export const quayCheckPolicy = defineTool({
  name: 'quay_check_policy',
  family: 'quay',
  title: 'Check image vulnerability policy',
  description:
    'Release policy on the image scan: pass, block (findings at or above fail_on), pending (scan queued) or unknown (scan failed). Only a finished clean scan passes; multi-arch takes the worst.',
  input: z.object({ ...target, fail_on: z.enum(['critical', 'high']).default('critical').describe('Lowest severity that blocks') }),
  output: z.object({
    repository: z.string(),
    tag: z.string().nullable(),
    manifest_digest: z.string(),
    verdict: z.enum(['pass', 'block', 'pending', 'unknown']),
    pass: z.boolean(),
    reasons: z.array(z.string()),
    fail_on: z.enum(['critical', 'high']),
    scan_status: scanStatus,
    counts: severityCounts,
    fixable: severityCounts,
    architectures: z
      .array(z.object({ platform: z.string(), digest: z.string(), verdict: z.enum(['pass', 'block', 'pending', 'unknown']), scan_status: scanStatus, reasons: z.array(z.string()) }))
      .describe('The verdict on each image of a manifest list; empty for a single-architecture image'),
  }),
  annotations: readOnly,
  handler: async (args, ctx) => {
    const { repo, manifest, summary, images } = await scan(ctx, args);
    const perImage = images.map((i) => ({ platform: i.platform, digest: i.digest, scan_status: i.summary.status, ...evaluatePolicy(i.summary, args.fail_on) }));
    const policy = images.length ? listPolicy(perImage, args.fail_on) : evaluatePolicy(summary, args.fail_on);
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
      architectures: perImage,
    };
  },
  summarize: (r) => `${r.verdict}: ${r.reasons.join('; ')}`,
});

export const quayTools = [quayGetTag, quayCheckImageExists, quayListTags, quayGetVulnerabilities, quayCheckPolicy] as const;
