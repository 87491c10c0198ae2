import { createHash } from 'node:crypto';
import type { QuaySecurityReport, QuayTag } from '../../src/integrations/quay.js';
import { ServiceEmulator, type EmulatedRequest, type EmulatedResponse } from './base.js';

interface Repository {
  tags: QuayTag[];
  security: Map<string, QuaySecurityReport>;
  /** Every manifest pushed, by digest (images, and the manifest lists that name them). */
  manifests: Map<string, { is_manifest_list: boolean; manifest_data: string }>;
}

const IMAGE_MEDIA_TYPE = 'application/vnd.oci.image.manifest.v1+json';
const INDEX_MEDIA_TYPE = 'application/vnd.oci.image.index.v1+json';

/** Quay's error body (api/v1), e.g. for 404: `{detail, error_message, error_type, title, type, status}`. */
export function quayError(status: number, type: string, message: string): EmulatedResponse {
  return {
    status,
    body: { detail: message, error_message: message, error_type: type, title: type, type: `https://quay.io/api/v1/error/${type}`, status },
  };
}

let digestCounter = 0;
/** A digest that depends on the whole seed (tags of one long repository path must not share one). */
export function fakeDigest(seed = `${Date.now()}-${++digestCounter}`): string {
  return `sha256:${createHash('sha256').update(seed).digest('hex')}`;
}

/**
 * Quay API v1 subset: tag listing (specificTag, onlyActiveTags, filter_tag_name, limit, page),
 * manifests (images and manifest lists) and manifest security, with a bearer token check. As on
 * quay.io, a repository the caller cannot see (including one that does not exist) answers 403
 * with a token and 401 without; a manifest list's own security is `unsupported`. State lives in memory.
 */
export class QuayEmulator extends ServiceEmulator {
  private readonly repos = new Map<string, Repository>();
  /** Tokens Quay accepts; requests without one are refused when `requireToken` (a private repo). */
  readonly tokens = new Set<string>(['quay-test-token']);
  requireToken = true;
  /** Repositories the token may not read (403). */
  readonly forbidden = new Set<string>();
  private clock = 1_700_000_000;

  constructor() {
    super('quay');
    this.server.route('GET', '/api/v1/repository/:repo*/tag', (req) => this.guard(req, () => this.listTags(req)));
    this.server.route('GET', '/api/v1/repository/:repo*/manifest/:digest/security', (req) => this.guard(req, () => this.security(req)));
    this.server.route('GET', '/api/v1/repository/:repo*/manifest/:digest', (req) => this.guard(req, () => this.manifest(req)));
  }

  addRepository(path: string): this {
    if (!this.repos.has(path)) this.repos.set(path, { tags: [], security: new Map(), manifests: new Map() });
    return this;
  }

  /**
   * Push a multi-arch image: one image manifest per platform ("linux/amd64", "linux/arm64/v8"),
   * and a manifest list naming them, tagged `name`. Returns the list's digest and each image's.
   */
  pushManifestList(repo: string, name: string, platforms: string[]): { digest: string; images: Record<string, string> } {
    this.addRepository(repo);
    const r = this.repos.get(repo)!;
    const images: Record<string, string> = {};
    const manifests = platforms.map((platform) => {
      const digest = fakeDigest(`${repo}:${name}:${platform}:${this.clock}`);
      images[platform] = digest;
      r.manifests.set(digest, { is_manifest_list: false, manifest_data: JSON.stringify({ schemaVersion: 2, mediaType: IMAGE_MEDIA_TYPE, layers: [] }) });
      const [os, architecture, variant] = platform.split('/');
      return { mediaType: IMAGE_MEDIA_TYPE, digest, size: 1234, platform: { os, architecture, ...(variant ? { variant } : {}) } };
    });
    const data = JSON.stringify({ schemaVersion: 2, mediaType: INDEX_MEDIA_TYPE, manifests });
    const digest = this.pushTag(repo, name, { digest: fakeDigest(data), isManifestList: true });
    r.manifests.set(digest, { is_manifest_list: true, manifest_data: data });
    return { digest, images };
  }

  /** Push a tag (an existing live tag of that name ends, as in Quay); returns its manifest digest. */
  pushTag(repo: string, name: string, options: { digest?: string; size?: number; isManifestList?: boolean } = {}): string {
    this.addRepository(repo);
    const r = this.repos.get(repo)!;
    const now = ++this.clock;
    for (const t of r.tags) if (t.name === name && t.end_ts === undefined) t.end_ts = now;
    const digest = options.digest ?? fakeDigest(`${repo}:${name}:${now}`);
    r.tags.push({
      name,
      reversion: false,
      start_ts: now,
      manifest_digest: digest,
      is_manifest_list: options.isManifestList ?? false,
      size: options.isManifestList ? null : (options.size ?? 123_456_789),
      last_modified: new Date(now * 1000).toUTCString().replace('GMT', '-0000'),
    });
    if (!r.manifests.has(digest)) r.manifests.set(digest, { is_manifest_list: false, manifest_data: JSON.stringify({ schemaVersion: 2, mediaType: IMAGE_MEDIA_TYPE, layers: [] }) });
    return digest;
  }

  /** Delete (kill) a tag: its history entry gets an end_ts, as Quay keeps it for time machine. */
  deleteTag(repo: string, name: string): void {
    const now = ++this.clock;
    for (const t of this.repos.get(repo)?.tags ?? []) if (t.name === name && t.end_ts === undefined) t.end_ts = now;
  }

  /** Set the security report of a manifest: a status, and features with vulnerabilities when scanned. */
  setSecurity(repo: string, digest: string, report: QuaySecurityReport): void {
    this.addRepository(repo);
    this.repos.get(repo)!.security.set(digest, report);
  }

  private guard(req: EmulatedRequest, next: () => EmulatedResponse): EmulatedResponse {
    const auth = req.headers.authorization;
    const token = auth?.startsWith('Bearer ') ? auth.slice(7) : undefined;
    if (token !== undefined && !this.tokens.has(token)) return quayError(401, 'invalid_token', 'Invalid bearer token format');
    if (token === undefined && this.requireToken) return quayError(401, 'invalid_token', 'Requires authentication');
    // Quay checks read permission before looking the repository up: one it cannot see, or that does
    // not exist, is refused the same way (403 with a token, 401 anonymous).
    if (this.forbidden.has(req.params.repo!) || !this.repos.has(req.params.repo!)) {
      return token === undefined ? quayError(401, 'invalid_token', 'Requires authentication') : quayError(403, 'insufficient_scope', 'Unauthorized');
    }
    return next();
  }

  private listTags(req: EmulatedRequest): EmulatedResponse {
    const repo = this.repos.get(req.params.repo!)!;
    const specific = req.query.get('specificTag');
    const onlyActive = req.query.get('onlyActiveTags') === 'true';
    const filter = req.query.get('filter_tag_name');
    const limit = Math.min(Number(req.query.get('limit') ?? 50) || 50, 100);
    const page = Math.max(Number(req.query.get('page') ?? 1) || 1, 1);
    let tags = [...repo.tags].sort((a, b) => (b.start_ts ?? 0) - (a.start_ts ?? 0));
    if (specific) tags = tags.filter((t) => t.name === specific);
    if (onlyActive) tags = tags.filter((t) => t.end_ts === undefined);
    if (filter) {
      const [op, value = ''] = filter.split(/:(.*)/s);
      if (op === 'like') tags = tags.filter((t) => t.name.includes(value));
      else if (op === 'eq') tags = tags.filter((t) => t.name === value);
      else return quayError(400, 'invalid_request', 'Unsupported filter_tag_name operation');
    }
    const slice = tags.slice((page - 1) * limit, page * limit);
    return { status: 200, body: { tags: slice, page, has_additional: tags.length > page * limit } };
  }

  private manifest(req: EmulatedRequest): EmulatedResponse {
    const repo = this.repos.get(req.params.repo!)!;
    const digest = req.params.digest!;
    const found = repo.manifests.get(digest);
    if (!found) return quayError(404, 'not_found', 'Not Found');
    return { status: 200, body: { digest, is_manifest_list: found.is_manifest_list, manifest_data: found.manifest_data, config_media_type: null, layers: found.is_manifest_list ? null : [] } };
  }

  private security(req: EmulatedRequest): EmulatedResponse {
    const repo = this.repos.get(req.params.repo!)!;
    const digest = req.params.digest!;
    const found = repo.manifests.get(digest);
    if (!found) return quayError(404, 'not_found', 'Not Found');
    if (found.is_manifest_list) return { status: 200, body: { status: 'unsupported', data: null } };
    const report = repo.security.get(digest) ?? { status: 'queued', data: null };
    const withVulns = req.query.get('vulnerabilities') === 'true';
    if (!withVulns && report.data?.Layer?.Features) {
      const features = report.data.Layer.Features.map(({ Vulnerabilities: _v, ...f }) => f);
      return { status: 200, body: { status: report.status, data: { Layer: { ...report.data.Layer, Features: features } } } };
    }
    return { status: 200, body: report };
  }
}
