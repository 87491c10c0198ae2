import type { Agent as HttpsAgent } from 'node:https';
import type { Config, Secrets } from '../config.js';
import { ToolError } from '../errors.js';
import { callWithin, requestFailureToToolError, statusToToolError, tokenHint } from './http-errors.js';

export interface JiraSettings {
  url: string;
  flavor: 'cloud' | 'server';
  token: string;
  email?: string;
  timeoutMs: number;
}

const SERVICE = 'Jira';

/** Jira settings from config and secrets; Cloud needs JIRA_EMAIL + JIRA_TOKEN, Server/DC a JIRA_TOKEN personal access token. */
export function jiraSettings(config: Config, secrets: Secrets): JiraSettings {
  const { jira } = config;
  if (!jira.url) throw new ToolError('config', 'Jira is not configured: jira.url is missing', { hint: 'add "jira": { "url": "https://issues.example.com", "flavor": "server" } to config.json' });
  if (!secrets.JIRA_TOKEN) {
    throw new ToolError('config', 'JIRA_TOKEN is not set', {
      hint: jira.flavor === 'cloud' ? 'export JIRA_TOKEN with an Atlassian API token and JIRA_EMAIL with its account email' : 'export JIRA_TOKEN with a Jira personal access token',
    });
  }
  if (jira.flavor === 'cloud' && !secrets.JIRA_EMAIL) {
    throw new ToolError('config', 'JIRA_EMAIL is not set (Jira Cloud signs in with email + API token)', { hint: 'export JIRA_EMAIL with the Atlassian account email, or set jira.flavor to "server" for a personal access token' });
  }
  return {
    url: jira.url.replace(/\/+$/, ''),
    flavor: jira.flavor,
    token: secrets.JIRA_TOKEN,
    ...(secrets.JIRA_EMAIL ? { email: secrets.JIRA_EMAIL } : {}),
    timeoutMs: jira.timeout_ms,
  };
}

/** Jira error bodies: {"errorMessages": [...], "errors": {"field": "message"}}. */
export function jiraErrorText(body: unknown): string {
  if (typeof body === 'string') return body.trim().slice(0, 300);
  if (!body || typeof body !== 'object') return '';
  const { errorMessages, errors, message } = body as { errorMessages?: unknown; errors?: unknown; message?: unknown };
  const parts: string[] = [];
  if (Array.isArray(errorMessages)) parts.push(...errorMessages.map(String));
  if (errors && typeof errors === 'object') parts.push(...Object.entries(errors).map(([field, problem]) => `${field}: ${String(problem)}`));
  if (!parts.length && typeof message === 'string') parts.push(message);
  return parts.join('; ');
}

interface JiraLibraryError {
  status?: number;
  response?: { data?: unknown };
  cause?: { response?: { headers?: Record<string, unknown> } };
}

/** jira.js throws HttpException (status, response.data, cause = AxiosError) or a bare AxiosError when no answer came. */
export function jiraToolError(error: unknown, what: string, timeoutMs: number): ToolError {
  if (error instanceof ToolError) return error;
  const e = error as JiraLibraryError;
  if (typeof e?.status === 'number' && e.response && typeof e.response === 'object' && 'data' in e.response) {
    const headers = e.cause?.response?.headers ?? {};
    const retryAfter = headers['retry-after'];
    return statusToToolError(e.status, {
      service: SERVICE,
      what,
      body: jiraErrorText(e.response.data),
      retryAfter: typeof retryAfter === 'string' || typeof retryAfter === 'number' ? retryAfter : null,
      authHint: tokenHint('JIRA_TOKEN', SERVICE),
    }, error);
  }
  return requestFailureToToolError(error, { service: SERVICE, timeoutMs: timeoutMs });
}

export interface JiraIssue {
  id: string;
  key: string;
  self?: string;
  fields: Record<string, unknown>;
}

export interface SearchPage {
  issues: JiraIssue[];
  total?: number;
  /** Where the next page starts: startAt (server) or nextPageToken (cloud); undefined on the last page. */
  next?: string;
}

/** A field on a transition's screen (GET transitions?expand=transitions.fields). */
export interface TransitionField {
  required?: boolean;
  hasDefaultValue?: boolean;
  name?: string;
  allowedValues?: Array<{ id?: string; name?: string; value?: string }>;
}

export interface Transition {
  id: string;
  name: string;
  to?: { name?: string };
  fields?: Record<string, TransitionField>;
}

/** The Jira calls release-mcp makes, over jira.js Version2Client, with one error and retry policy. */
export class JiraClient {
  constructor(
    // The library's types are large; calls below are typed by their results.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    private readonly api: any,
    readonly settings: JiraSettings,
  ) {}

  browseUrl(key: string): string {
    return `${this.settings.url}/browse/${key}`;
  }

  private call<T>(what: string, run: () => Promise<unknown>): Promise<T> {
    return callWithin(this.settings.timeoutMs, run as () => Promise<T>, (error) => jiraToolError(error, what, this.settings.timeoutMs));
  }

  createIssue(fields: Record<string, unknown>): Promise<{ id: string; key: string; self: string }> {
    return this.call('create issue', () => this.api.issues.createIssue({ fields }));
  }

  getIssue(key: string, fields: string[]): Promise<JiraIssue> {
    return this.call(`issue ${key}`, () => this.api.issues.getIssue({ issueIdOrKey: key, fields }));
  }

  addComment(key: string, body: string): Promise<{ id: string; self?: string; created?: string }> {
    return this.call(`comment on ${key}`, () => this.api.issueComments.addComment({ issueIdOrKey: key, comment: body }));
  }

  /** The transitions valid from the issue's current status, with the fields of each one's screen. */
  async transitions(key: string): Promise<Transition[]> {
    const result = await this.call<{ transitions?: Transition[] }>(`transitions of ${key}`, () => this.api.issues.getTransitions({ issueIdOrKey: key, expand: 'transitions.fields' }));
    return result.transitions ?? [];
  }

  doTransition(key: string, transitionId: string, fields: Record<string, unknown> = {}): Promise<void> {
    return this.call(`transition ${key}`, () =>
      this.api.issues.doTransition({ issueIdOrKey: key, transition: { id: transitionId }, ...(Object.keys(fields).length ? { fields } : {}) }),
    );
  }

  /** One page of a JQL search: startAt paging on Server/DC (/search), token paging on Cloud (/search/jql). */
  async searchPage(jql: string, fields: string[], pageSize: number, cursor: string | undefined): Promise<SearchPage> {
    if (this.settings.flavor === 'cloud') {
      const page = await this.call<{ issues?: JiraIssue[]; nextPageToken?: string; isLast?: boolean }>('search', () =>
        this.api.issueSearch.searchForIssuesUsingJqlEnhancedSearchPost({ jql, fields, maxResults: pageSize, ...(cursor ? { nextPageToken: cursor } : {}) }),
      );
      return { issues: page.issues ?? [], ...(page.nextPageToken && page.isLast !== true ? { next: page.nextPageToken } : {}) };
    }
    const startAt = cursor ? Number(cursor) : 0;
    if (!Number.isInteger(startAt) || startAt < 0) throw new ToolError('invalid_input', `cursor "${cursor}" is not a result offset`, { hint: 'pass the next_cursor of an earlier jira_search result' });
    const page = await this.call<{ issues?: JiraIssue[]; total?: number; startAt?: number; maxResults?: number }>('search', () =>
      this.api.issueSearch.searchForIssuesUsingJqlPost({ jql, fields, startAt, maxResults: pageSize }),
    );
    const issues = page.issues ?? [];
    const end = (page.startAt ?? startAt) + issues.length;
    const more = issues.length > 0 && (page.total === undefined ? issues.length >= pageSize : end < page.total);
    return { issues, ...(page.total !== undefined ? { total: page.total } : {}), ...(more ? { next: String(end) } : {}) };
  }

  /** Up to `limit` issues, following pages; `next` is where a later call can continue. */
  async search(jql: string, fields: string[], limit: number, cursor?: string, pageSize = 100): Promise<SearchPage & { pages: number }> {
    const issues: JiraIssue[] = [];
    let next = cursor;
    let total: number | undefined;
    let pages = 0;
    do {
      const page = await this.searchPage(jql, fields, Math.min(pageSize, limit - issues.length), next);
      pages++;
      total = page.total ?? total;
      const room = limit - issues.length;
      issues.push(...page.issues.slice(0, room));
      next = page.next;
      if (page.issues.length > room) next = this.settings.flavor === 'server' ? String(Number(cursor ?? 0) + issues.length) : next;
    } while (next !== undefined && issues.length < limit);
    return { issues, pages, ...(total !== undefined ? { total } : {}), ...(next !== undefined ? { next } : {}) };
  }
}

/** Build the client; jira.js is imported here, on first use, not at server start. */
export async function createJiraClient(settings: JiraSettings, httpsAgent?: HttpsAgent): Promise<JiraClient> {
  const { Version2Client } = await import('jira.js');
  // jira.js hands baseRequestConfig to axios, whose https agent carries the CA trust.
  const timeout = { baseRequestConfig: { timeout: settings.timeoutMs, ...(httpsAgent ? { httpsAgent } : {}) } };
  const api =
    settings.flavor === 'cloud'
      ? new Version2Client({ host: settings.url, authentication: { basic: { email: settings.email ?? '', apiToken: settings.token } }, ...timeout })
      : // Server/DC takes a personal access token as `Authorization: Bearer <PAT>`, which is what jira.js sends for an OAuth 2.0 access token.
        new Version2Client({ host: settings.url, authentication: { oauth2: { accessToken: settings.token } }, ...timeout });
  return new JiraClient(api, settings);
}
