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

  private get authHint(): string {
    return this.options.token
      ? 'QUAY_TOKEN was refused: it may have expired or lack read access to this repository; create a new robot or OAuth token and set QUAY_TOKEN'
      : 'this repository is private: set QUAY_TOKEN to a Quay robot or OAuth token with read access';
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
    return getJson<QuayTagPage>(url, { service: 'Quay', what: `repository ${repository} (${what})`, token: this.options.token, timeoutMs: this.options.timeoutMs, authHint: this.authHint, ...this.transport(signal) });
  }

  security(repository: string, digest: string, signal?: AbortSignal): Promise<QuaySecurityReport> {
    const url = this.url(`${repository}/manifest/${digest}/security`, { vulnerabilities: true });
    return getJson<QuaySecurityReport>(url, {
      service: 'Quay',
      what: `manifest ${digest} in ${repository}`,
      token: this.options.token,
      timeoutMs: this.options.timeoutMs,
      authHint: this.authHint,
      ...this.transport(signal),
    });
  }

  private transport(signal: AbortSignal | undefined): { signal?: AbortSignal; fetch?: typeof fetch } {
    return { ...(signal ? { signal } : {}), ...(this.options.fetch ? { fetch: this.options.fetch } : {}) };
  }
}
