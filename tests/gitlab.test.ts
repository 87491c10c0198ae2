import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '../src/logger.js';
import { GitlabEmulator } from './emulators/gitlab.js';
import { git } from './helpers/git-fixture.js';
import { connect, errorOf, tempDir, testRuntime, type ConnectedClient } from './helpers/harness.js';

const TOKEN = 'glpat-very-secret-token-42';
const PROJECT = 'service/app-interface';
const FORK = 'releaser/app-interface';

/** A logger that keeps every line unredacted, to prove the code never logs a token. */
function capturingLogger(lines: string[]): Logger {
  const log = (level: string) => (message: string, fields?: Record<string, unknown>) => lines.push(`${level} ${message} ${fields ? JSON.stringify(fields) : ''}`);
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

describe('gitlab tools against the GitLab emulator', () => {
  const emulator = new GitlabEmulator();
  const logLines: string[] = [];
  const results: CallToolResult[] = [];
  const checkouts = tempDir('release-mcp-gitlab-');
  let mcp: ConnectedClient;

  /** A checkout whose push remote `origin` has this URL (nothing is fetched from it). */
  const checkout = (name: string, originUrl: string) => {
    const path = `${checkouts.path}/${name}`;
    git(checkouts.path, 'init', '-q', path);
    git(path, 'remote', 'add', 'origin', originUrl);
    return path;
  };

  const call = async (name: string, args: Record<string, unknown>) => {
    const result = await mcp.call(name, args);
    results.push(result);
    return result;
  };
  const data = (result: CallToolResult) => {
    expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
    return result.structuredContent as Record<string, unknown>;
  };

  beforeAll(async () => {
    await emulator.start();
    emulator.addToken(TOKEN, 'releaser');
    emulator.addUser('alice');
    emulator.addUser('bob');
    emulator.addProject(PROJECT, { id: 42 });
    emulator.addProject(FORK, { forked_from: PROJECT });
    emulator.addProject('someone/app-interface', { forked_from: PROJECT });
    for (const branch of ['aa-release-2026-01-05', 'hotfix-2026-01-07', 'feature-x', 'feature-y']) emulator.addRef(PROJECT, branch, 'a'.repeat(40));
    emulator.addRef(FORK, 'aa-release-2026-02-02', 'c'.repeat(40));
    emulator.addRef('someone/app-interface', 'aa-release-2026-02-02', 'd'.repeat(40));
    const repositories = {
      'fork-over-ssh': { path: checkout('fork-over-ssh', `git@${new URL(emulator.url).hostname}:${FORK}.git`) },
      'fork-configured': { path: checkout('fork-configured', '/srv/git/app-interface.git'), gitlab_fork: FORK },
      'fork-elsewhere': { path: checkout('fork-elsewhere', 'https://user:s3cret@github.com/releaser/app-interface.git') },
    };
    const runtime = testRuntime({ config: { gitlab: { url: emulator.url, timeout_ms: 1500 }, repositories }, env: { GITLAB_TOKEN: TOKEN }, logger: capturingLogger(logLines) });
    mcp = await connect(runtime, { persona: 'developer' });
  });

  afterAll(async () => {
    await mcp?.close();
    await emulator.stop();
    checkouts.cleanup();
  });

  beforeEach(() => {
    emulator.reset();
  });

  describe('gitlab_mr_create', () => {
    it('opens a merge request with the default target branch, labels, assignees and reviewers', async () => {
      const result = data(
        await call('gitlab_mr_create', {
          project: PROJECT,
          source_branch: 'aa-release-2026-01-05',
          title: 'Release AA backend abc1234',
          description: 'Promote **abc1234** to production',
          labels: ['release', 'automation-analytics'],
          assignees: ['alice'],
          reviewers: ['bob'],
          remove_source_branch: true,
        }),
      );
      expect(result).toMatchObject({ iid: 1, state: 'opened', existing: false, target_branch: 'master', source_branch: 'aa-release-2026-01-05' });
      expect(result.web_url).toBe(`${emulator.url}/${PROJECT}/-/merge_requests/1`);
      const stored = emulator.mergeRequests.find((mr) => mr.iid === 1)!;
      expect(stored.assignees.map((u) => u.username)).toEqual(['alice']);
      expect(stored.reviewers.map((u) => u.username)).toEqual(['bob']);
      expect(stored.labels).toEqual(['release', 'automation-analytics']);
      expect(stored.force_remove_source_branch).toBe(true);
      // the path travels URL-encoded, as GitLab requires
      expect(emulator.server.requestsMatching(/^POST \/api\/v4\/projects\/service%2Fapp-interface\/merge_requests$/)).toHaveLength(1);
      expect(emulator.server.requests[0]!.headers['private-token']).toBe(TOKEN);
    });

    it('returns the open MR for the same source branch instead of opening a second one', async () => {
      const again = data(await call('gitlab_mr_create', { project: PROJECT, source_branch: 'aa-release-2026-01-05', title: 'Release again' }));
      expect(again).toMatchObject({ iid: 1, existing: true, title: 'Release AA backend abc1234' });
      expect(emulator.server.requestsMatching(/^POST /)).toHaveLength(0);
      expect(emulator.mergeRequests.filter((mr) => mr.source_branch === 'aa-release-2026-01-05')).toHaveLength(1);
    });

    it('also returns the existing MR when GitLab answers 409 on create (opened by someone in between)', async () => {
      // The first look-up sees no MR (as if it was opened a moment later); the create then hits the 409.
      emulator.server.inject({ status: 200, body: [], match: /^GET .*\/merge_requests$/ });
      const result = data(await call('gitlab_mr_create', { project: '42', source_branch: 'aa-release-2026-01-05', title: 'Release race' }));
      expect(result).toMatchObject({ iid: 1, existing: true });
      expect(emulator.server.requestsMatching(/^POST /).map((r) => r.status)).toEqual([409]);
    });

    it('does not take an open MR of the same source branch into another target branch for the one asked', async () => {
      const toMain = data(await call('gitlab_mr_create', { project: PROJECT, source_branch: 'hotfix-2026-01-07', target_branch: 'main', title: 'Hotfix into main' }));
      expect(toMain).toMatchObject({ existing: false, target_branch: 'main' });
      const toMaster = data(await call('gitlab_mr_create', { project: PROJECT, source_branch: 'hotfix-2026-01-07', title: 'Hotfix into master' }));
      expect(toMaster).toMatchObject({ existing: false, target_branch: 'master', title: 'Hotfix into master' });
      expect(toMaster.iid).not.toBe(toMain.iid);
      const again = data(await call('gitlab_mr_create', { project: PROJECT, source_branch: 'hotfix-2026-01-07', target_branch: 'main', title: 'Hotfix again' }));
      expect(again).toMatchObject({ existing: true, iid: toMain.iid });
    });

    it('opens a draft by prefixing the title', async () => {
      const result = data(await call('gitlab_mr_create', { project: 42, source_branch: 'feature-x', target_branch: 'main', title: 'Try x', draft: true }));
      expect(result).toMatchObject({ draft: true, title: 'Draft: Try x', target_branch: 'main', existing: false });
    });

    it('fails not_found for an unknown assignee, before creating anything', async () => {
      const error = errorOf(await call('gitlab_mr_create', { project: PROJECT, source_branch: 'feature-y', title: 'Y', assignees: ['nobody'] }));
      expect(error.code).toBe('not_found');
      expect(error.message).toContain('nobody');
      expect(emulator.server.requestsMatching(/^POST /)).toHaveLength(0);
    });
  });

  describe('gitlab_mr_get, gitlab_mr_list, gitlab_pipeline_status', () => {
    it('shows state, merge status, pipeline and approvals of an MR, by numeric project id', async () => {
      const mr = emulator.mergeRequests.find((m) => m.iid === 1)!;
      emulator.setPipeline(PROJECT, { ref: mr.source_branch, sha: mr.sha, status: 'running' });
      mr.approved_by.push('bob');
      const result = data(await call('gitlab_mr_get', { project: 42, iid: 1 }));
      expect(result).toMatchObject({ iid: 1, state: 'opened', merge_status: 'mergeable', has_conflicts: false, pipeline: { status: 'running' } });
      expect(result.approvals).toEqual({ approved: true, required: 1, left: 0, approved_by: ['bob'] });
    });

    it('fails not_found for an MR that does not exist', async () => {
      const error = errorOf(await call('gitlab_mr_get', { project: PROJECT, iid: 999 }));
      expect(error.code).toBe('not_found');
    });

    it('lists MRs filtered by source branch, state and author', async () => {
      const all = data(await call('gitlab_mr_list', { project: PROJECT, state: 'all' }));
      expect(all.count).toBe(emulator.mergeRequests.length);
      const bySource = data(await call('gitlab_mr_list', { project: PROJECT, source_branch: 'feature-x' }));
      expect((bySource.merge_requests as Array<{ title: string }>).map((m) => m.title)).toEqual(['Draft: Try x']);
      const byAuthor = data(await call('gitlab_mr_list', { project: PROJECT, author: 'alice' }));
      expect(byAuthor.count).toBe(0);
      emulator.mergeRequests.find((m) => m.source_branch === 'feature-x')!.state = 'merged';
      const merged = data(await call('gitlab_mr_list', { project: PROJECT, state: 'merged', limit: '5' }));
      expect(merged.count).toBe(1);
    });

    it('lists MRs by text in the title or description and by target branch, as GitLab search does', async () => {
      const titles = async (args: Record<string, unknown>) => (data(await call('gitlab_mr_list', { project: PROJECT, state: 'all', ...args })).merge_requests as Array<{ title: string }>).map((m) => m.title);
      // 'abc1234' is in the title and the description of !1 only; words match case-insensitively, in any order.
      expect(await titles({ search: 'ABC1234' })).toEqual(['Release AA backend abc1234']);
      expect(await titles({ search: 'production promote' })).toEqual(['Release AA backend abc1234']);
      expect(await titles({ search: 'abc1234 nowhere' })).toEqual([]);
      expect(await titles({ search: 'abc1234', target_branch: 'main' })).toEqual([]);
      expect(await titles({ target_branch: 'main' })).toEqual(['Draft: Try x', 'Hotfix into main']);
      expect(await titles({ target_branch: 'master' })).toContain('Release AA backend abc1234');
      expect(await titles({ target_branch: 'master' })).not.toContain('Draft: Try x');
      // The filter is GitLab's, sent as query parameters, not applied on our side.
      const queries = emulator.server.requestsMatching(/^GET .*\/merge_requests$/).map((r) => new URLSearchParams(r.query));
      expect(queries.some((q) => q.get('search') === 'ABC1234')).toBe(true);
      expect(queries.some((q) => q.get('target_branch') === 'main')).toBe(true);
      const tooShort = errorOf(await call('gitlab_mr_list', { project: PROJECT, search: 'ab' }));
      expect(tooShort.code).toBe('invalid_input');
      expect(tooShort.message).toContain('search');
    });

    it('reports the latest pipeline for a ref with its failed jobs', async () => {
      emulator.setPipeline(PROJECT, { ref: 'main', sha: 'b'.repeat(40), status: 'success' });
      emulator.setPipeline(PROJECT, {
        ref: 'main',
        sha: 'c'.repeat(40),
        status: 'failed',
        jobs: [
          { name: 'lint', stage: 'test', status: 'success' },
          { name: 'unit', stage: 'test', status: 'failed', failure_reason: 'script_failure' },
        ],
      });
      const result = data(await call('gitlab_pipeline_status', { project: PROJECT, ref: 'main' }));
      expect(result.status).toBe('failed');
      expect(result.failed_jobs).toEqual([expect.objectContaining({ name: 'unit', stage: 'test', failure_reason: 'script_failure' })]);
      const bySha = data(await call('gitlab_pipeline_status', { project: PROJECT, sha: 'b'.repeat(40) }));
      expect(bySha).toMatchObject({ status: 'success', failed_jobs: [] });
      const none = data(await call('gitlab_pipeline_status', { project: PROJECT, ref: 'no-such-branch' }));
      expect(none).toMatchObject({ status: 'none', pipeline: null });
      expect(errorOf(await call('gitlab_pipeline_status', { project: PROJECT })).code).toBe('invalid_input');
    });
  });

  describe('gitlab_pipeline_trigger', () => {
    afterEach(() => {
      emulator.startedPipelineStatuses = [];
    });

    it('starts a pipeline on a ref with CI/CD variables, and each call starts another', async () => {
      emulator.addRef(PROJECT, 'release-1', 'd'.repeat(40));
      const first = data(await call('gitlab_pipeline_trigger', { project: PROJECT, ref: 'release-1', variables: { DEPLOY_ENV: 'prod', RELEASE_SHA: 'd'.repeat(40) } }));
      expect(first).toMatchObject({ project: PROJECT, status: 'created', ref: 'release-1', sha: 'd'.repeat(40), finished: false });
      expect(first.web_url).toBe(`${emulator.url}/${PROJECT}/-/pipelines/${first.id}`);
      expect(emulator.pipelineVariables.get(first.id as number)).toEqual([
        { key: 'DEPLOY_ENV', value: 'prod', variable_type: 'env_var' },
        { key: 'RELEASE_SHA', value: 'd'.repeat(40), variable_type: 'env_var' },
      ]);
      const post = emulator.server.requestsMatching(/^POST .*\/pipeline$/)[0]!;
      expect(post.path).toBe('/api/v4/projects/service%2Fapp-interface/pipeline');
      expect(post.headers['private-token'] ?? post.headers.authorization).toContain(TOKEN);
      const second = data(await call('gitlab_pipeline_trigger', { project: 42, ref: 'release-1' }));
      expect(second.id).not.toBe(first.id);
      expect(emulator.pipelineVariables.get(second.id as number)).toEqual([]);
      const latest = data(await call('gitlab_pipeline_status', { project: PROJECT, ref: 'release-1' }));
      expect((latest.pipeline as { id: number }).id).toBe(second.id);
    });

    it('waits for the pipeline to finish when asked, with progress', async () => {
      emulator.startedPipelineStatuses = ['pending', 'running', 'failed'];
      const progress: string[] = [];
      const result = await mcp.client.callTool(
        { name: 'gitlab_pipeline_trigger', arguments: { project: PROJECT, ref: 'master', wait_minutes: 1, interval_seconds: 0.05 } },
        undefined,
        { onprogress: (p) => progress.push(p.message ?? '') },
      );
      expect(result.structuredContent).toMatchObject({ status: 'failed', finished: true });
      expect(progress).toEqual([expect.stringMatching(/: pending$/), expect.stringMatching(/: running$/), expect.stringMatching(/: failed$/)]);
      emulator.startedPipelineStatuses = ['running'];
      const unfinished = data(await call('gitlab_pipeline_trigger', { project: PROJECT, ref: 'master', wait_minutes: 0.005, interval_seconds: 0.1 }));
      expect(unfinished).toMatchObject({ status: 'running', finished: false });
    });

    it('fails invalid_input for an unknown ref, with GitLab\'s message', async () => {
      const error = errorOf(await call('gitlab_pipeline_trigger', { project: PROJECT, ref: 'no-such-branch' }));
      expect(error.code).toBe('invalid_input');
      expect(error.message).toContain('Reference not found');
      expect(errorOf(await call('gitlab_pipeline_trigger', { project: PROJECT, ref: 'master', variables: { 'bad-name': 'x' } })).code).toBe('invalid_input');
    });
  });

  describe('merge requests from a fork', () => {
    const forkId = () => emulator.findProject(FORK)!.id;

    it('creates the MR on the fork with target_project_id, so it lands in the upstream project', async () => {
      const result = data(await call('gitlab_mr_create', { project: PROJECT, source_project: FORK, source_branch: 'aa-release-2026-02-02', title: 'Release from fork' }));
      expect(result).toMatchObject({ existing: false, source_project: FORK, source_branch: 'aa-release-2026-02-02', target_branch: 'master' });
      expect(result.web_url).toMatch(new RegExp(`/${PROJECT}/-/merge_requests/\\d+$`));
      const post = emulator.server.requestsMatching(/^POST .*\/merge_requests$/);
      expect(post.map((r) => r.path)).toEqual(['/api/v4/projects/releaser%2Fapp-interface/merge_requests']);
      expect(post[0]!.body).toMatchObject({ target_project_id: 42, source_branch: 'aa-release-2026-02-02' });
      const stored = emulator.mergeRequests.find((mr) => mr.title === 'Release from fork')!;
      expect(stored).toMatchObject({ project_id: 42, target_project_id: 42, source_project_id: forkId() });
    });

    it('returns that MR on a re-run, and does not take the same branch name from another fork for it', async () => {
      const again = data(await call('gitlab_mr_create', { project: PROJECT, source_project: FORK, source_branch: 'aa-release-2026-02-02', title: 'Release again' }));
      expect(again).toMatchObject({ existing: true, title: 'Release from fork' });
      const theirs = data(await call('gitlab_mr_create', { project: PROJECT, source_project: 'someone/app-interface', source_branch: 'aa-release-2026-02-02', title: 'Their release' }));
      expect(theirs).toMatchObject({ existing: false, title: 'Their release', source_project: 'someone/app-interface' });
      // and the upstream's own branch of that name (none here) is not the fork's MR either
      const upstreamOwn = await call('gitlab_mr_create', { project: PROJECT, source_branch: 'aa-release-2026-02-02', title: 'Upstream branch' });
      expect(errorOf(upstreamOwn).message).toContain('does not exist');
    });

    it('refuses a branch that is not in the source project, as GitLab does, naming where to push it', async () => {
      const error = errorOf(await call('gitlab_mr_create', { project: PROJECT, source_project: FORK, source_branch: 'never-pushed', title: 'Nothing' }));
      expect(error.code).toBe('invalid_input');
      expect(error.message).toContain('Source branch "never-pushed" does not exist');
      expect(error.hint).toContain(`push never-pushed to ${FORK}`);
      expect(emulator.mergeRequests.some((mr) => mr.title === 'Nothing')).toBe(false);
      // the same branch pushed to the upstream only: without source_project the MR would come from the upstream
      const wrongSide = errorOf(await call('gitlab_mr_create', { project: PROJECT, source_project: FORK, source_branch: 'feature-y', title: 'Wrong side' }));
      expect(wrongSide.message).toContain('does not exist');
    });

    it('reads the fork from the checkout: its push remote URL on this GitLab, or repositories.<name>.gitlab_fork', async () => {
      emulator.addRef(FORK, 'aa-release-2026-02-03', 'e'.repeat(40));
      emulator.addRef(FORK, 'aa-release-2026-02-04', 'f'.repeat(40));
      const overSsh = data(await call('gitlab_mr_create', { project: PROJECT, source_repo: 'fork-over-ssh', source_branch: 'aa-release-2026-02-03', title: 'Over ssh' }));
      expect(overSsh).toMatchObject({ existing: false, source_project: FORK });
      const configured = data(await call('gitlab_mr_create', { project: PROJECT, source_repo: 'fork-configured', source_branch: 'aa-release-2026-02-04', title: 'Configured' }));
      expect(configured).toMatchObject({ existing: false, source_project: FORK });
      expect(emulator.mergeRequests.filter((mr) => mr.source_project_id === forkId() && /Over ssh|Configured/.test(mr.title))).toHaveLength(2);
    });

    it('fails config when the push remote is not on this GitLab and no gitlab_fork is set, without the URL password', async () => {
      const result = await call('gitlab_mr_create', { project: PROJECT, source_repo: 'fork-elsewhere', source_branch: 'aa-release-2026-02-02', title: 'Elsewhere' });
      const error = errorOf(result);
      expect(error.code).toBe('config');
      expect(error.hint).toContain('repositories.fork-elsewhere.gitlab_fork');
      expect(JSON.stringify(result)).not.toContain('s3cret');
      expect(errorOf(await call('gitlab_mr_create', { project: PROJECT, source_repo: 'nope', source_branch: 'x', title: 'x' })).message).toContain('source_repo');
      expect(errorOf(await call('gitlab_mr_create', { project: PROJECT, source_repo: 'fork-configured', source_project: FORK, source_branch: 'x', title: 'x' })).code).toBe('invalid_input');
      expect(emulator.server.requestsMatching(/^POST /)).toHaveLength(0);
    });

    it('refuses a source project that is not a fork of the target (422 from GitLab)', async () => {
      emulator.addProject('other/unrelated');
      emulator.addRef('other/unrelated', 'x-branch', '1'.repeat(40));
      const error = errorOf(await call('gitlab_mr_create', { project: PROJECT, source_project: 'other/unrelated', source_branch: 'x-branch', title: 'Unrelated' }));
      expect(error.code).toBe('invalid_input');
      expect(error.message).toContain('not a fork');
    });
  });

  describe('GitLab CE/Free and short SHAs', () => {
    afterEach(() => {
      emulator.edition = 'premium';
    });

    it('gitlab_mr_get reads the CE approvals answer, which has no approvals_required/approvals_left', async () => {
      emulator.edition = 'ce';
      const mr = emulator.mergeRequests.find((m) => m.iid === 1 && m.project_id === 42)!;
      mr.approved_by.splice(0, mr.approved_by.length, 'alice');
      const result = data(await call('gitlab_mr_get', { project: PROJECT, iid: 1 }));
      expect(result.approvals).toEqual({ approved: true, required: null, left: null, approved_by: ['alice'] });
    });

    it('refuses a short SHA for a pipeline look-up instead of answering "none"', async () => {
      const result = await call('gitlab_pipeline_status', { project: PROJECT, sha: 'b'.repeat(7) });
      const error = errorOf(result);
      expect(error.code).toBe('invalid_input');
      expect(error.message).toContain('sha');
      expect(error.message).toContain('full 40-character');
      expect(emulator.server.requestsMatching(/pipelines/)).toHaveLength(0);
    });
  });

  describe('errors', () => {
    afterEach(() => emulator.server.clearFaults());

    it('maps 404, 403, 409, 500 to not_found, forbidden, conflict, upstream', async () => {
      expect(errorOf(await call('gitlab_mr_list', { project: 'no/such-project' })).code).toBe('not_found');
      emulator.server.inject({ status: 403, body: { message: '403 Forbidden' } });
      expect(errorOf(await call('gitlab_mr_list', { project: PROJECT })).code).toBe('forbidden');
      emulator.server.inject({ status: 409, body: { message: 'Branch is locked' }, match: /^GET / });
      const conflict = errorOf(await call('gitlab_mr_get', { project: PROJECT, iid: 1 }));
      expect(conflict.code).toBe('conflict');
      expect(conflict.message).toContain('Branch is locked');
      emulator.server.inject({ status: 500, body: { message: '500 Internal Server Error' } });
      expect(errorOf(await call('gitlab_mr_list', { project: PROJECT })).code).toBe('upstream');
    });

    it('maps 401 to auth with a hint naming GITLAB_TOKEN', async () => {
      emulator.server.inject({ status: 401, body: { message: '401 Unauthorized' } });
      const error = errorOf(await call('gitlab_mr_list', { project: PROJECT }));
      expect(error.code).toBe('auth');
      expect(error.hint).toContain('GITLAB_TOKEN');
    });

    it('rejects a wrong token the way GitLab does', async () => {
      const runtime = testRuntime({ config: { gitlab: { url: emulator.url } }, env: { GITLAB_TOKEN: 'glpat-wrong-token-0000' } });
      const other = await connect(runtime, { persona: 'developer' });
      try {
        const result = await other.call('gitlab_mr_list', { project: PROJECT });
        expect(errorOf(result).code).toBe('auth');
        expect(JSON.stringify(result)).not.toContain('glpat-wrong-token-0000');
      } finally {
        await other.close();
      }
    });

    it('waits Retry-After on a 429 and then succeeds', async () => {
      emulator.server.inject({ status: 429, body: { message: 'Retry later' }, headers: { 'retry-after': '1' } });
      const started = Date.now();
      const result = data(await call('gitlab_mr_list', { project: PROJECT }));
      expect(Date.now() - started).toBeGreaterThanOrEqual(950);
      expect(result.count).toBeGreaterThan(0);
      expect(emulator.server.requests.map((r) => r.status)).toEqual([429, 200]);
    });

    it('fails rate_limited with retry_after when the 429s do not stop', async () => {
      emulator.server.inject({ status: 429, body: { message: 'Retry later' }, headers: { 'retry-after': '1' }, times: 5 });
      const result = await call('gitlab_mr_list', { project: PROJECT });
      const error = errorOf(result) as { code: string; retry_after?: number };
      expect(error.code).toBe('rate_limited');
      expect(error.retry_after).toBe(1);
      // one wait of 1 s fits in the 1.5 s timeout, a second would not
      expect(emulator.server.requests.map((r) => r.status)).toEqual([429, 429]);
    }, 10_000);

    it('times out when GitLab answers slower than gitlab.timeout_ms', async () => {
      emulator.server.inject({ delayMs: 2500 });
      const error = errorOf(await call('gitlab_mr_list', { project: PROJECT }));
      expect(error.code).toBe('timeout');
      expect(error.message).toContain('1500 ms');
    });

    it('reports a dropped connection as network', async () => {
      emulator.server.inject({ drop: true });
      expect(errorOf(await call('gitlab_mr_list', { project: PROJECT })).code).toBe('network');
    });

    it('asks for gitlab.url and GITLAB_TOKEN with config errors at call time', async () => {
      const noUrl = await connect(testRuntime({ env: { GITLAB_TOKEN: TOKEN } }), { persona: 'developer' });
      const noToken = await connect(testRuntime({ config: { gitlab: { url: emulator.url } } }), { persona: 'developer' });
      try {
        const a = errorOf(await noUrl.call('gitlab_mr_list', { project: PROJECT }));
        expect(a).toMatchObject({ code: 'config' });
        expect(a.message).toContain('gitlab.url');
        const b = errorOf(await noToken.call('gitlab_mr_list', { project: PROJECT }));
        expect(b).toMatchObject({ code: 'config' });
        expect(b.message).toContain('GITLAB_TOKEN');
      } finally {
        await noUrl.close();
        await noToken.close();
      }
    });
  });

  it('never puts the token in a result or a log line', () => {
    expect(results.length).toBeGreaterThan(10);
    for (const result of results) expect(JSON.stringify(result)).not.toContain(TOKEN);
    for (const line of logLines) expect(line).not.toContain(TOKEN);
  });
});
