import { ToolError } from '../errors.js';
import { redactSecrets } from '../masking.js';
import { knowledgeFiles, knowledgeText } from './knowledge-files.js';
import { PAGE_SIZE, RECENT_LIMIT, RESOURCE_KIND_NAMES, RESOURCE_KINDS, type ResourceKind } from './kinds.js';
import { auditTrail, recentReleases, recentRuns, releaseRecord, runRecord } from './records.js';
import { firstSentence, skillLibrary, skillText } from './skill-files.js';
import { RESOURCE_SCHEME, resourceUris } from './uris.js';
import { resourceNotFound, type ContentDeps } from './deps.js';

/** A resources/list entry (the MCP Resource shape, without MCP types). */
export interface ResourceEntry {
  uri: string;
  name: string;
  title: string;
  description?: string;
  mimeType: string;
}

export interface ResourceTemplateEntry {
  uriTemplate: string;
  name: string;
  title: string;
  description: string;
  mimeType: string;
}

export interface ResourceText {
  uri: string;
  mimeType: string;
  text: string;
}

/** Templates of the kinds this session sees. */
export function listResourceTemplates(deps: Pick<ContentDeps, 'kinds'>): ResourceTemplateEntry[] {
  return RESOURCE_KIND_NAMES.flatMap((kind) => {
    const { template, title, description, mimeType } = RESOURCE_KINDS[kind];
    return template && deps.kinds.has(kind) ? [{ uriTemplate: template, name: kind, title, description, mimeType }] : [];
  });
}

/**
 * The concrete resources of the session's kinds: every skill and knowledge file, the tenant's
 * newest runs and releases (older ones are read by URI), the audit trail. Paged by an opaque cursor.
 */
export async function listResources(deps: ContentDeps, cursor: string | undefined): Promise<{ resources: ResourceEntry[]; nextCursor?: string }> {
  const offset = cursor === undefined ? 0 : decodeCursor(cursor);
  const all = await allEntries(deps);
  const page = all.slice(offset, offset + PAGE_SIZE);
  const next = offset + PAGE_SIZE;
  return { resources: page, ...(next < all.length ? { nextCursor: encodeCursor(next) } : {}) };
}

async function allEntries(deps: ContentDeps): Promise<ResourceEntry[]> {
  const entries: ResourceEntry[] = [];
  const mime = (kind: ResourceKind) => RESOURCE_KINDS[kind].mimeType;
  if (deps.kinds.has('skills')) {
    for (const { skill } of skillLibrary(deps.config).values()) {
      entries.push({ uri: resourceUris.skill(skill.name), name: skill.name, title: `Skill ${skill.name}`, description: firstSentence(skill.description), mimeType: mime('skills') });
    }
  }
  if (deps.kinds.has('runs')) {
    for (const run of await recentRuns(deps, RECENT_LIMIT)) {
      entries.push({ uri: resourceUris.run(run.run_id), name: run.run_id, title: `Run of ${run.skill}`, description: `${run.skill} ${run.status}${run.dry_run ? ' (dry run)' : ''}, started ${run.started_at}`, mimeType: mime('runs') });
    }
  }
  if (deps.kinds.has('releases')) {
    for (const release of await recentReleases(deps, RECENT_LIMIT)) {
      entries.push({ uri: resourceUris.release(release.id), name: release.id, title: `Release ${release.id}`, description: `${release.from_env} -> ${release.to_env}: ${release.status}`, mimeType: mime('releases') });
    }
  }
  if (deps.kinds.has('audit')) {
    entries.push({ uri: resourceUris.audit(), name: 'audit', title: RESOURCE_KINDS.audit.title, description: RESOURCE_KINDS.audit.description, mimeType: mime('audit') });
  }
  if (deps.kinds.has('knowledge')) {
    for (const { path } of knowledgeFiles(deps.config)) {
      entries.push({ uri: resourceUris.knowledge(path), name: path, title: `Knowledge ${path}`, mimeType: mime('knowledge') });
    }
  }
  return entries;
}

/** `release-mcp://<kind>/<rest>` split and decoded; undefined for anything else. */
export function parseResourceUri(uri: string): { kind: ResourceKind; key: string } | undefined {
  const match = new RegExp(`^${RESOURCE_SCHEME}://([a-z]+)(?:/(.+))?$`).exec(uri);
  if (!match || !(RESOURCE_KIND_NAMES as string[]).includes(match[1]!)) return undefined;
  const kind = match[1] as ResourceKind;
  if (kind === 'audit') return match[2] === undefined ? { kind, key: '' } : undefined;
  if (match[2] === undefined) return undefined;
  let segments: string[];
  try {
    segments = match[2].split('/').map(decodeURIComponent);
  } catch {
    return undefined;
  }
  // A segment that decodes to a separator or a step out is no name of ours.
  if (segments.some((s) => s === '' || s === '.' || s === '..' || s.includes('/') || s.includes('\\'))) return undefined;
  if (kind !== 'knowledge' && segments.length !== 1) return undefined;
  return { kind, key: segments.join('/') };
}

/**
 * One resource of the session's tenant and kinds. An unknown URI, a kind the session does not
 * see and another tenant's record are the same not-found error, naming the URI only.
 */
export async function readResource(deps: ContentDeps, uri: string): Promise<ResourceText> {
  const parsed = parseResourceUri(uri);
  if (!parsed || !deps.kinds.has(parsed.kind)) throw resourceNotFound(uri);
  const text = await readText(deps, parsed.kind, parsed.key);
  if (text === undefined) throw resourceNotFound(uri);
  return { uri, mimeType: RESOURCE_KINDS[parsed.kind].mimeType, text: redactSecrets(text, deps.secretValues) };
}

async function readText(deps: ContentDeps, kind: ResourceKind, key: string): Promise<string | undefined> {
  const json = (value: unknown) => (value === undefined ? undefined : JSON.stringify(value, null, 2));
  switch (kind) {
    case 'skills':
      return skillText(deps.config, key);
    case 'runs':
      return json(await runRecord(deps, key));
    case 'releases':
      return json(await releaseRecord(deps, key));
    case 'audit':
      return json(await auditTrail(deps));
    case 'knowledge':
      return knowledgeText(deps.config, key);
  }
}

function encodeCursor(offset: number): string {
  return Buffer.from(JSON.stringify({ offset })).toString('base64url');
}

function decodeCursor(cursor: string): number {
  try {
    const { offset } = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { offset: unknown };
    if (typeof offset === 'number' && Number.isInteger(offset) && offset >= 0) return offset;
  } catch {
    // reported below
  }
  throw new ToolError('invalid_input', 'cursor: expected the nextCursor of an earlier resources/list answer');
}
