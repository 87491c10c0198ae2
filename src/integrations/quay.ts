import type { Config } from '../config.js';
import { ToolError } from '../errors.js';
import { getJson } from './http-json.js';

/** A tag as Quay API v1 lists it; `end_ts` set (and past) means the tag is dead. */
export interface QuayTag {
  name: string;
  manifest_digest: string;
  is_manifest_list?: boolean;
  size?: number | null;
  last_modified?: string;
  start_ts?: number;
  end_ts?: number;
  expiration?: string;
  reversion?: boolean;
}

export interface QuayTagPage {
  tags: QuayTag[];
  page: number;
  has_additional: boolean;
}

/** GET /api/v1/repository/{repo}/manifest/{digest}: manifest_data is the manifest itself, as a JSON string. */
export interface QuayManifest {
  digest: string;
  is_manifest_list: boolean;
  manifest_data: string;
  config_media_type?: string | null;
  layers?: unknown[] | null;
}

/** One image of a manifest list (multi-arch): its digest and platform. */
export interface ManifestListEntry {
  digest: string;
  platform: string;
}

/** The images a manifest list (OCI index or Docker manifest list) names, with os/architecture[/variant]. */
export function manifestListEntries(manifest: QuayManifest): ManifestListEntry[] {
  let data: unknown;
  try {
    data = JSON.parse(manifest.manifest_data);
  } catch {
    throw new ToolError('upstream', `Quay answered manifest ${manifest.digest} with manifest_data that is not JSON`);
  }
  const entries = (data as { manifests?: unknown }).manifests;
  if (!Array.isArray(entries)) throw new ToolError('upstream', `manifest ${manifest.digest} is a manifest list without a manifests array`);
  return entries
    .filter((e): e is { digest: string; platform?: { os?: string; architecture?: string; variant?: string } } => !!e && typeof (e as { digest?: unknown }).digest === 'string')
    .map((e) => ({
      digest: e.digest,
      platform: [e.platform?.os ?? 'unknown', e.platform?.architecture ?? 'unknown', ...(e.platform?.variant ? [e.platform.variant] : [])].join('/'),
    }))
    // Attestations and signatures ride in an index as "unknown/unknown" entries; they are not images to scan.
    .filter((e) => e.platform !== 'unknown/unknown');
}

export interface QuayVulnerability {
  Name: string;
  Severity?: string;
  FixedBy?: string;
  Link?: string;
  Description?: string;
  NamespaceName?: string;
}

export interface QuayFeature {
  Name: string;
  Version?: string;
  Vulnerabilities?: QuayVulnerability[];
}

export interface QuaySecurityReport {
  status: string;
  data?: { Layer?: { Features?: QuayFeature[] } } | null;
}

const REPO_PATH = /^[a-z0-9][a-z0-9._-]*(\/[a-z0-9][a-z0-9._-]*)+$/;
export const DIGEST_PATTERN = /^sha256:[a-f0-9]{64}$/;
export const TAG_PATTERN = /^[\w][\w.-]{0,127}$/;

/** `namespace/repo[/more]` as given, or a short name from config `quay.repositories`. */
export function resolveQuayRepository(config: Config, input: string): string {
  const value = input.trim().replace(/^quay\.io\//, '');
  if (value.includes('/')) {
    if (!REPO_PATH.test(value)) {
      throw new ToolError('invalid_input', `"${input}" is not a Quay repository path (namespace/repo, lowercase)`, {
        hint: 'give namespace/repo, e.g. redhat-user-workloads/tenant/app/component, or a short name from config quay.repositories',
      });
    }
    return value;
  }
  const mapped = config.quay.repositories[value];
  if (mapped) return mapped;
  const known = Object.keys(config.quay.repositories);
  throw new ToolError('invalid_input', `unknown Quay repository short name "${input}"`, {
    hint: known.length ? `use namespace/repo or one of: ${known.join(', ')}` : 'use namespace/repo, or add short names under quay.repositories in config',
    details: { known },
  });
}

/** A tag is alive when it has no end, or its end (a scheduled expiry) is still ahead. */
export function isActiveTag(tag: QuayTag, nowSeconds = Date.now() / 1000): boolean {
  return tag.end_ts === undefined || tag.end_ts === null || tag.end_ts > nowSeconds;
}

export interface QuayClientOptions {
  url: string;
  token?: string | undefined;
  timeoutMs: number;
  /** fetch with the configured CA trust. */
  fetch?: typeof fetch;
}

/** Quay API v1 over fetch: bearer token when one is set (public repositories need none). */
export class QuayClient {
  constructor(private readonly options: QuayClientOptions) {}

  static fromConfig(config: Config, token: string | undefined, trustedFetch?: typeof fetch): QuayClient {
    return new QuayClient({ url: config.quay.url, token, timeoutMs: config.quay.timeout_ms, ...(trustedFetch ? { fetch: trustedFetch } : {}) });
  }

  // Quay API v1 takes OAuth access tokens (an application's token, or a user's); robot credentials are for the registry only.
  private get authHint(): string {
    return this.options.token
      ? 'QUAY_TOKEN was refused: it may have expired; create a new OAuth access token (an OAuth application in the Quay organization, scope repo:read) and set QUAY_TOKEN'
      : 'this repository is private: set QUAY_TOKEN to a Quay OAuth access token with repo:read';
  }

  /**
   * Quay answers 403 (with a token) or 401 (without) for a repository the caller cannot see, and a
   * repository that does not exist is one of those: the tag look-up proves the image is not visible.
   */
  private unseenRepository(error: unknown, repository: string): unknown {
    if (!(error instanceof ToolError)) return error;
    const status = (error.details as { status?: number } | undefined)?.status;
    if (status === 403 || (status === 401 && !this.options.token)) {
      return new ToolError('not_found', `no repository ${repository} visible to ${this.options.token ? 'QUAY_TOKEN' : 'anonymous requests'} (Quay answered ${status})`, {
        cause: error,
        hint: this.options.token
          ? 'check the repository path (namespace/repo); if it exists, the token needs read access to it (Quay answers 403 for both)'
          : 'check the repository path; if the repository is private, set QUAY_TOKEN to an OAuth access token with repo:read',
        details: { status, repository },
      });
    }
    return error;
  }

  private url(path: string, query: Record<string, string | number | boolean | undefined> = {}): string {
    const base = this.options.url.replace(/\/+$/, '');
    const url = new URL(`${base}/api/v1/repository/${path}`);
    for (const [key, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(key, String(value));
    return url.toString();
  }

  listTags(
    repository: string,
    query: { specificTag?: string; onlyActiveTags?: boolean; page?: number; limit?: number; filterTagName?: string },
    signal?: AbortSignal,
  ): Promise<QuayTagPage> {
    const url = this.url(`${repository}/tag/`, {
      specificTag: query.specificTag,
      onlyActiveTags: query.onlyActiveTags,
      page: query.page,
      limit: query.limit,
      filter_tag_name: query.filterTagName,
    });
    const what = query.specificTag ? `tag ${query.specificTag} of ${repository}` : `tags of ${repository}`;
    return this.get<QuayTagPage>(url, `repository ${repository} (${what})`, signal).catch((error: unknown) => {
      throw this.unseenRepository(error, repository);
    });
  }

  manifest(repository: string, digest: string, signal?: AbortSignal): Promise<QuayManifest> {
    return this.get<QuayManifest>(this.url(`${repository}/manifest/${digest}`), `manifest ${digest} in ${repository}`, signal);
  }

  security(repository: string, digest: string, signal?: AbortSignal): Promise<QuaySecurityReport> {
    return this.get<QuaySecurityReport>(this.url(`${repository}/manifest/${digest}/security`, { vulnerabilities: true }), `manifest ${digest} in ${repository}`, signal);
  }

  private get<T>(url: string, what: string, signal: AbortSignal | undefined): Promise<T> {
    return getJson<T>(url, { service: 'Quay', what, token: this.options.token, timeoutMs: this.options.timeoutMs, authHint: this.authHint, ...this.transport(signal) });
  }

  private transport(signal: AbortSignal | undefined): { signal?: AbortSignal; fetch?: typeof fetch } {
    return { ...(signal ? { signal } : {}), ...(this.options.fetch ? { fetch: this.options.fetch } : {}) };
  }
}
