import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '../src/logger.js';
import { JiraEmulator } from './emulators/jira.js';
import { connect, errorOf, testRuntime, type ConnectedClient } from './helpers/harness.js';

const PAT = 'jira-pat-very-secret-0001';
const CLOUD_TOKEN = 'atlassian-api-token-secret-0002';
const EMAIL = 'releaser@example.com';

function capturingLogger(lines: string[]): Logger {
  const log = (level: string) => (message: string, fields?: Record<string, unknown>) => lines.push(`${level} ${message} ${fields ? JSON.stringify(fields) : ''}`);
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

const ok = (result: CallToolResult) => {
  expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
  return result.structuredContent as Record<string, unknown>;
};

describe('jira tools against a Jira Server/DC emulator (bearer personal access token)', () => {
  const emulator = new JiraEmulator({ flavor: 'server', token: PAT });
  const logLines: string[] = [];
  const results: CallToolResult[] = [];
  let mcp: ConnectedClient;
  const call = async (name: string, args: Record<string, unknown>) => {
    const result = await mcp.call(name, args);
    results.push(result);
    return result;
  };

  beforeAll(async () => {
    await emulator.start();
    emulator.addProject('AAP');
    const runtime = testRuntime({
      config: { jira: { url: emulator.url, flavor: 'server', project: 'AAP', default_issue_type: 'Story', timeout_ms: 1500 } },
      env: { JIRA_TOKEN: PAT },
      logger: capturingLogger(logLines),
    });
    mcp = await connect(runtime);
  });

  afterAll(async () => {
    await mcp?.close();
    await emulator.stop();
  });

  beforeEach(() => {
    emulator.reset();
  });

  it('creates an issue with defaults from config and the description converted to wiki markup', async () => {
    const result = ok(
      await call('jira_create_issue', {
        summary: '2026-01-05 Analytics HCC Service Release',
        description: '## Release\n\n- commit **abc1234**\n- see [the MR](https://gitlab.example.com/mr/1)\n\n```\nmake deploy\n```',
        labels: ['release', 'production'],
        components: ['backend'],
        fix_version: '2026.01',
        assignee: 'alice',
      }),
    );
    expect(result.key).toBe('AAP-1');
    expect(result.url).toBe(`${emulator.url}/browse/AAP-1`);
    const issue = emulator.issue('AAP-1')!;
    expect(issue.fields.issuetype.name).toBe('Story');
    expect(issue.fields.labels).toEqual(['release', 'production']);
    expect(issue.fields.fixVersions).toEqual([{ name: '2026.01' }]);
    expect(issue.fields.assignee?.name).toBe('alice');
    expect(issue.fields.description).toBe('h2. Release\n\n* commit *abc1234*\n* see [the MR|https://gitlab.example.com/mr/1]\n\n{code}\nmake deploy\n{code}');
    expect(emulator.server.requests[0]!.headers.authorization).toBe(`Bearer ${PAT}`);
  });

  it('reports Jira field errors of a 400 as invalid_input', async () => {
    const error = errorOf(await call('jira_create_issue', { project: 'NOPE', issue_type: 'Saga', summary: 'x' }));
    expect(error.code).toBe('invalid_input');
    expect(error.message).toContain('project: valid project is required');
    expect(error.message).toContain('issuetype: valid issue type is required');
  });

  it('adds a comment and shows it with the issue', async () => {
    const added = ok(await call('jira_add_comment', { issue_key: 'AAP-1', comment: 'MR merged: **done**' }));
    expect(added).toMatchObject({ issue_key: 'AAP-1' });
    expect(emulator.issue('AAP-1')!.comments.map((c) => c.body)).toEqual(['MR merged: *done*']);
    const issue = ok(await call('jira_get_issue', { issue_key: 'AAP-1' }));
    expect(issue).toMatchObject({ key: 'AAP-1', summary: '2026-01-05 Analytics HCC Service Release', status: 'To Do', labels: ['release', 'production'], comment_total: 1, fix_versions: ['2026.01'] });
    expect(issue.comments).toEqual([expect.objectContaining({ body: 'MR merged: *done*', author: 'Release Bot' })]);
  });

  it('validates issue keys before calling Jira', async () => {
    const error = errorOf(await call('jira_add_comment', { issue_key: 'aap-1', comment: 'x' }));
    expect(error.code).toBe('invalid_input');
    expect(emulator.server.requests).toHaveLength(0);
  });

  it('answers not_found for an issue that does not exist', async () => {
    const error = errorOf(await call('jira_get_issue', { issue_key: 'AAP-999' }));
    expect(error.code).toBe('not_found');
    expect(error.message).toContain('Issue does not exist');
  });

  it('transitions by name or id, only from the current status, and lists the valid transitions when none matches', async () => {
    const moved = ok(await call('jira_transition_issue', { issue_key: 'AAP-1', transition: 'start progress' }));
    expect(moved).toMatchObject({ transition: { id: '21', name: 'Start Progress' }, status: 'In Progress', resolution: null });
    const notFromHere = errorOf(await call('jira_transition_issue', { issue_key: 'AAP-1', transition: 'Start Progress' }));
    expect(notFromHere.code).toBe('invalid_input');
    expect(notFromHere.message).toContain('Stop Progress (11), Done (31)');
  });

  it('requires the resolution the workflow asks for, before changing anything, and sets it with fields or resolution', async () => {
    const posts = () => emulator.server.requestsMatching(/^POST .*\/transitions$/);
    const missing = errorOf(await call('jira_transition_issue', { issue_key: 'AAP-1', transition: '31' }));
    expect(missing.code).toBe('invalid_input');
    expect(missing.message).toContain('fields.resolution');
    expect(missing.hint).toContain("Done, Won't Do, Duplicate");
    expect(posts()).toHaveLength(0);
    expect(emulator.issue('AAP-1')!.fields.status.name).toBe('In Progress');
    // Jira itself refuses an unknown resolution and a field that is not on the screen, naming the field
    const unknown = errorOf(await call('jira_transition_issue', { issue_key: 'AAP-1', transition: 'Done', resolution: 'Fixed' }));
    expect(unknown).toMatchObject({ code: 'invalid_input' });
    expect(unknown.message).toContain("resolution: Could not find valid 'id' or 'name'");
    const offScreen = errorOf(await call('jira_transition_issue', { issue_key: 'AAP-1', transition: 'Done', fields: { resolution: { name: 'Done' }, priority: { name: 'High' } } }));
    expect(offScreen.message).toContain("priority: Field 'priority' cannot be set");
    expect(emulator.issue('AAP-1')!.fields.status.name).toBe('In Progress');
    const done = ok(await call('jira_transition_issue', { issue_key: 'AAP-1', transition: 'Done', fields: { resolution: { name: "Won't Do" } } }));
    expect(done).toMatchObject({ status: 'Done', resolution: "Won't Do" });
    expect(posts().at(-1)!.body).toEqual({ transition: { id: '31' }, fields: { resolution: { name: "Won't Do" } } });
    const reopened = ok(await call('jira_transition_issue', { issue_key: 'AAP-1', transition: 'reopen' }));
    expect(reopened).toMatchObject({ status: 'To Do', resolution: null });
    const viaShorthand = ok(await call('jira_transition_issue', { issue_key: 'AAP-1', transition: 'Done', resolution: 'Done' }));
    expect(viaShorthand).toMatchObject({ status: 'Done', resolution: 'Done' });
    const error = errorOf(await call('jira_transition_issue', { issue_key: 'AAP-1', transition: 'Ship it' }));
    expect(error.message).toContain('valid: Reopen (41)');
    expect(errorOf(await call('jira_transition_issue', { issue_key: 'AAP-1', transition: 'Reopen', resolution: 'Done', fields: { resolution: { name: 'Done' } } })).code).toBe('invalid_input');
  });

  it('the emulated workflow refuses a transition that is not valid from the current status, as Jira does', async () => {
    const response = await fetch(`${emulator.url}/rest/api/2/issue/AAP-1/transitions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${PAT}`, 'content-type': 'application/json' },
      body: JSON.stringify({ transition: { id: '21' } }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ errorMessages: ["Transition id '21' is not valid for this issue."], errors: {} });
  });

  it('finds an existing release story by label and summary (newest first)', async () => {
    emulator.addIssue('AAP', { summary: '2026-01-06 Analytics HCC Service Release', labels: ['release', 'production'] });
    emulator.addIssue('AAP', { summary: 'Unrelated bug', labels: ['bug'] });
    const result = ok(await call('jira_search', { jql: 'project = AAP AND labels = release AND summary ~ "Analytics HCC Service Release" ORDER BY created DESC', limit: 10 }));
    expect(result).toMatchObject({ count: 2, total: 2, next_cursor: null });
    const issues = result.issues as Array<Record<string, unknown>>;
    expect(issues.map((i) => i.key)).toEqual(['AAP-2', 'AAP-1']);
    expect(issues[0]).toMatchObject({ summary: '2026-01-06 Analytics HCC Service Release', status: 'To Do', labels: ['release', 'production'], url: `${emulator.url}/browse/AAP-2` });
    expect(typeof issues[0]!.created).toBe('string');
  });

  it('finds an unresolved issue by text in its description or comments, as text ~ and resolution IS EMPTY do', async () => {
    const sha = '0123456789abcdef0123456789abcdef01234567';
    const open = emulator.addIssue('TXT', { summary: '2026-11-30 Analytics HCC Service Release', description: `* Commit: ${sha}` });
    emulator.addIssue('TXT', { summary: '2026-10-01 Analytics HCC Service Release', description: `* Commit: ${sha}`, status: 'Done' });
    emulator.addIssue('TXT', { summary: 'Other release', description: '* Commit: ffffffffffffffffffffffffffffffffffffffff' });
    const keys = async (jql: string) => (ok(await call('jira_search', { jql })).issues as Array<{ key: string }>).map((i) => i.key);
    expect(await keys(`project = TXT AND text ~ "${sha}" AND resolution IS EMPTY`)).toEqual([open.key]);
    expect(await keys(`project = TXT AND text ~ "${sha}" AND resolution = Unresolved`)).toEqual([open.key]);
    expect(await keys(`project = TXT AND description ~ "${sha.slice(0, 7)}" AND resolution IS NOT EMPTY`)).toEqual(['TXT-2']);
    const commented = ok(await call('jira_add_comment', { issue_key: 'TXT-3', comment: `Superseded by ${sha}` }));
    expect(commented.issue_key).toBe('TXT-3');
    expect(await keys(`project = TXT AND text ~ "${sha}" AND resolution IS EMPTY ORDER BY key ASC`)).toEqual([open.key, 'TXT-3']);
    expect(errorOf(await call('jira_search', { jql: 'project = TXT AND resolution IS Done' })).code).toBe('invalid_input');
  });

  it('follows result pages up to the limit and continues from next_cursor', async () => {
    emulator.maxPageSize = 10;
    for (let i = 0; i < 25; i++) emulator.addIssue('BULK', { summary: `bulk ${i}`, labels: ['bulk'] });
    const first = ok(await call('jira_search', { jql: 'project = BULK ORDER BY created ASC', limit: 15, fields: ['description'] }));
    expect(first).toMatchObject({ count: 15, total: 25, next_cursor: '15' });
    expect((first.issues as Array<{ summary: string; fields: object }>)[14]).toMatchObject({ summary: 'bulk 14', fields: { description: null } });
    expect(emulator.server.requestsMatching(/POST \/rest\/api\/2\/search$/)).toHaveLength(2);
    const rest = ok(await call('jira_search', { jql: 'project = BULK ORDER BY created ASC', limit: 100, cursor: first.next_cursor }));
    expect(rest).toMatchObject({ count: 10, next_cursor: null });
    expect((rest.issues as Array<{ summary: string }>)[0]!.summary).toBe('bulk 15');
    emulator.maxPageSize = 50;
  });

  it('reports JQL errors as invalid_input', async () => {
    const error = errorOf(await call('jira_search', { jql: 'nosuchfield = 1' }));
    expect(error.code).toBe('invalid_input');
    expect(error.message).toContain('nosuchfield');
  });

  it('maps 401, 403, 409, 500 and honours Retry-After on 429', async () => {
    emulator.server.inject({ status: 401, body: { errorMessages: ['You are not authenticated.'], errors: {} } });
    const auth = errorOf(await call('jira_get_issue', { issue_key: 'AAP-1' }));
    expect(auth.code).toBe('auth');
    expect(auth.hint).toContain('JIRA_TOKEN');
    emulator.server.inject({ status: 403, body: { errorMessages: ['You do not have permission'], errors: {} } });
    expect(errorOf(await call('jira_get_issue', { issue_key: 'AAP-1' })).code).toBe('forbidden');
    emulator.server.inject({ status: 409, body: { errorMessages: ['Conflict'], errors: {} } });
    expect(errorOf(await call('jira_add_comment', { issue_key: 'AAP-1', comment: 'x' })).code).toBe('conflict');
    emulator.server.inject({ status: 500, body: { errorMessages: ['Internal server error'], errors: {} } });
    expect(errorOf(await call('jira_get_issue', { issue_key: 'AAP-1' })).code).toBe('upstream');

    emulator.server.requests.length = 0;
    emulator.server.inject({ status: 429, body: { errorMessages: ['Rate limit exceeded'], errors: {} }, headers: { 'retry-after': '1' } });
    const started = Date.now();
    ok(await call('jira_get_issue', { issue_key: 'AAP-1' }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(emulator.server.requests.map((r) => r.status)).toEqual([429, 200]);

    emulator.server.inject({ status: 429, body: { errorMessages: ['Rate limit exceeded'], errors: {} }, headers: { 'retry-after': '1' }, times: 5 });
    const limited = errorOf(await call('jira_get_issue', { issue_key: 'AAP-1' })) as { code: string; retry_after?: number };
    expect(limited).toMatchObject({ code: 'rate_limited', retry_after: 1 });
  }, 15_000);

  it('maps a slow answer to timeout and a dropped connection to network', async () => {
    emulator.server.inject({ delayMs: 2500 });
    const slow = errorOf(await call('jira_get_issue', { issue_key: 'AAP-1' }));
    expect(slow.code).toBe('timeout');
    emulator.server.inject({ drop: true });
    expect(errorOf(await call('jira_get_issue', { issue_key: 'AAP-1' })).code).toBe('network');
  });

  it('rejects a wrong personal access token with 401', async () => {
    const other = await connect(testRuntime({ config: { jira: { url: emulator.url, flavor: 'server' } }, env: { JIRA_TOKEN: 'jira-pat-wrong-9999' } }));
    try {
      const result = await other.call('jira_get_issue', { issue_key: 'AAP-1' });
      expect(errorOf(result).code).toBe('auth');
      expect(JSON.stringify(result)).not.toContain('jira-pat-wrong-9999');
    } finally {
      await other.close();
    }
  });

  it('never puts the token in a result or a log line', () => {
    expect(results.length).toBeGreaterThan(10);
    for (const result of results) expect(JSON.stringify(result)).not.toContain(PAT);
    for (const line of logLines) expect(line).not.toContain(PAT);
  });
});

describe('jira tools against a Jira Cloud emulator (email + API token)', () => {
  const emulator = new JiraEmulator({ flavor: 'cloud', email: EMAIL, token: CLOUD_TOKEN });
  let mcp: ConnectedClient;

  beforeAll(async () => {
    await emulator.start();
    emulator.addProject('AAP');
    mcp = await connect(testRuntime({ config: { jira: { url: emulator.url, flavor: 'cloud' } }, env: { JIRA_TOKEN: CLOUD_TOKEN, JIRA_EMAIL: EMAIL } }));
  });

  afterAll(async () => {
    await mcp?.close();
    await emulator.stop();
  });

  it('signs in with basic auth and pages search results with nextPageToken', async () => {
    emulator.maxPageSize = 4;
    for (let i = 0; i < 9; i++) emulator.addIssue('AAP', { summary: `story ${i}`, labels: ['release'] });
    const first = ok(await mcp.call('jira_search', { jql: 'project = AAP AND labels = release ORDER BY created ASC', limit: 6 }));
    expect(first).toMatchObject({ count: 6, total: null });
    expect(typeof first.next_cursor).toBe('string');
    const rest = ok(await mcp.call('jira_search', { jql: 'project = AAP AND labels = release ORDER BY created ASC', limit: 50, cursor: first.next_cursor }));
    expect((rest.issues as Array<{ summary: string }>).map((i) => i.summary)).toEqual(['story 6', 'story 7', 'story 8']);
    expect(rest.next_cursor).toBeNull();
    expect(emulator.server.requestsMatching(/POST \/rest\/api\/2\/search\/jql$/).length).toBeGreaterThanOrEqual(3);
    expect(emulator.server.requests[0]!.headers.authorization).toBe(`Basic ${Buffer.from(`${EMAIL}:${CLOUD_TOKEN}`).toString('base64')}`);
  });

  it('creates an issue and assigns by account id', async () => {
    const created = ok(await mcp.call('jira_create_issue', { summary: 'Cloud story', assignee: '5b10ac8d82e05b22cc7d4ef5' }));
    expect(emulator.issue(created.key as string)!.fields.assignee?.name).toBe('5b10ac8d82e05b22cc7d4ef5');
  });

  it('asks for JIRA_EMAIL on Cloud and for jira.url when missing', async () => {
    const noEmail = await connect(testRuntime({ config: { jira: { url: emulator.url, flavor: 'cloud' } }, env: { JIRA_TOKEN: CLOUD_TOKEN } }));
    const noUrl = await connect(testRuntime({ env: { JIRA_TOKEN: CLOUD_TOKEN, JIRA_EMAIL: EMAIL } }));
    try {
      const a = errorOf(await noEmail.call('jira_get_issue', { issue_key: 'AAP-1' }));
      expect(a.code).toBe('config');
      expect(a.message).toContain('JIRA_EMAIL');
      const b = errorOf(await noUrl.call('jira_get_issue', { issue_key: 'AAP-1' }));
      expect(b.code).toBe('config');
      expect(b.message).toContain('jira.url');
    } finally {
      await noEmail.close();
      await noUrl.close();
    }
  });

  it('rejects a wrong API token with auth and no token in the result', async () => {
    const other = await connect(testRuntime({ config: { jira: { url: emulator.url, flavor: 'cloud' } }, env: { JIRA_TOKEN: 'wrong-cloud-token-77', JIRA_EMAIL: EMAIL } }));
    try {
      const result = await other.call('jira_get_issue', { issue_key: 'AAP-1' });
      expect(errorOf(result).code).toBe('auth');
      expect(JSON.stringify(result)).not.toContain('wrong-cloud-token-77');
    } finally {
      await other.close();
    }
  });
});
