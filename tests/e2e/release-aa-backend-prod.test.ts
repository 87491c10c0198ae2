import Database from 'better-sqlite3';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { git } from '../helpers/git-fixture.js';
import { connectServer, createReleaseEnv, DEPLOY_FILE, GITLAB_FORK, GITLAB_PROJECT, type ReleaseEnv, type ServerClient } from '../helpers/release-env.js';
import { runOf as run, stepOf as step, textOf as text } from '../helpers/harness.js';

// Each test runs the whole skill (sometimes twice) against real git and five emulators: up to
// 20 s on a busy two-core machine, so 30 s is too tight a ceiling.
vi.setConfig({ testTimeout: 90_000 });

const SKILL = 'release_aa_backend_prod';
let env: ReleaseEnv;
let mcp: ServerClient;

const originBranches = () => git(env.appInterface.origin, 'branch', '--list', 'aa-release-*').trim();
const localBranches = () => git(env.appInterface.work, 'branch', '--list', 'aa-release-*').trim();
/** `-old` / `+new` lines of a diff between two app-interface refs, without the headers. */
function changedLines(from: string, to: string): string[] {
  return git(env.appInterface.work, 'diff', '--unified=0', from, to, '--', DEPLOY_FILE)
    .split('\n')
    .filter((l) => /^[-+]/.test(l) && !/^(---|\+\+\+) /.test(l));
}

beforeAll(async () => {
  env = await createReleaseEnv({ prefix: 'e2e-aa-prod-' });
  mcp = await connectServer(env);
});

afterAll(async () => {
  await mcp?.close();
  await env?.close();
});

/**
 * Someone closed the MRs and resolved the stories of the releases so far: the commit is no longer
 * being released, so the next run starts a release of its own (new story, branch and MR).
 */
function abandonEarlierReleases(): void {
  for (const mr of env.gitlab.mergeRequests) if (mr.state === 'opened') mr.state = 'closed';
  for (const issue of env.jira.issues) {
    issue.fields.status = { name: 'Done' };
    issue.fields.resolution = { id: '10001', name: "Won't Do" };
  }
}

/** Nothing outside memory changed: no Jira issue, no MR, no release branch anywhere, master checked out. */
function expectNothingChanged(): void {
  expect(env.jira.issues).toHaveLength(0);
  expect(env.gitlab.mergeRequests).toHaveLength(0);
  expect(originBranches()).toBe('');
  expect(localBranches()).toBe('');
  expect(git(env.appInterface.work, 'rev-parse', '--abbrev-ref', 'HEAD').trim()).toBe('master');
}

describe('release_aa_backend_prod stops before any change', () => {
  it('when the image is missing in Quay, naming the step, the reason and the fix learned earlier', async () => {
    const learned = await mcp.call('learn_tool_fix', {
      tool_name: 'quay_get_tag',
      error_pattern: 'no image tagged',
      root_cause: 'The Konflux build of the commit had not finished',
      fix_description: 'Wait for the Konflux build (konflux_list_components shows last_built_commit), then run again',
    });
    expect(learned.isError).toBeFalsy();
    const result = await mcp.runSkill(SKILL, { commit_sha: env.commits.missingImage, release_date: '2026-02-01' });
    expect(result.isError).toBe(true);
    expect(run(result).status).toBe('failed');
    const failed = step(result, 'check_image');
    expect(failed.status).toBe('failed');
    expect(failed.error?.code).toBe('not_found');
    expect(failed.matches?.map((m) => m.fix)).toContain('Wait for the Konflux build (konflux_list_components shows last_built_commit), then run again');
    expect(text(result)).toContain('### Failed: check_image');
    expect(text(result)).toContain('Wait for the Konflux build');
    expect(run(result).steps.some((s) => s.name === 'create_jira_story')).toBe(false);
    // The team hears which step failed and the known fix.
    const message = JSON.stringify(env.slack.payloads.at(-1)?.payload);
    expect(message).toContain('check_image');
    expect(message).toContain('Wait for the Konflux build');
    expectNothingChanged();
  });

  it('when the SHA is not a commit of the backend repository', async () => {
    const unknown = 'abcdef0123456789abcdef0123456789abcdef01';
    const result = await mcp.runSkill(SKILL, { commit_sha: unknown, release_date: '2026-02-01' });
    expect(result.isError).toBe(true);
    expect(run(result).status).toBe('failed');
    expect(step(result, 'commit_exists')).toMatchObject({ status: 'failed', error: { code: 'precondition' } });
    expect(step(result, 'commit_exists').error?.message).toContain(`commit ${unknown} is not in the backend repository`);
    expect(run(result).steps.some((s) => s.name === 'check_image')).toBe(false);
    expectNothingChanged();
  });

  it('when the app-interface checkout has uncommitted changes, with the fix learned earlier', async () => {
    await mcp.call('learn_tool_fix', { tool_name: SKILL, error_pattern: 'app-interface checkout is not clean', root_cause: 'Leftovers of a manual edit', fix_description: 'git stash in the app-interface checkout, then run again' });
    const stray = join(env.appInterface.work, 'notes.txt');
    writeFileSync(stray, 'scratch\n');
    try {
      const result = await mcp.runSkill(SKILL, { commit_sha: env.commits.release, release_date: '2026-02-01' });
      expect(result.isError).toBe(true);
      const failed = step(result, 'app_interface_clean');
      expect(failed).toMatchObject({ status: 'failed', error: { code: 'precondition' } });
      expect(failed.error?.message).toContain('notes.txt');
      expect(failed.matches?.map((m) => m.fix)).toContain('git stash in the app-interface checkout, then run again');
      expectNothingChanged();
    } finally {
      rmSync(stray);
    }
  });

  it('when the commit is already in production upstream, with that message and a failed status', async () => {
    env.mergeToUpstream(env.commits.previous);
    const result = await mcp.runSkill(SKILL, { commit_sha: env.commits.previous, release_date: '2026-02-01' });
    expect(result.isError).toBe(true);
    expect(run(result).status).toBe('failed');
    expect(run(result).outputs).toEqual({});
    const stopped = step(result, 'not_already_in_production');
    expect(stopped.status).toBe('failed');
    expect(stopped.error?.message).toBe(`commit ${env.commits.previous} is already in production (tower-analytics-prod on upstream/master): nothing to release`);
    expectNothingChanged();
  });
});

describe('release_aa_backend_prod releases', () => {
  it('plans without creating anything, showing the rendered changes', async () => {
    const result = await mcp.call('skill_plan', { name: SKILL, inputs: { commit_sha: env.commits.release, release_date: '2026-02-02' } });
    expect(result.isError).toBeFalsy();
    expect(run(result).status).toBe('planned');
    expect(step(result, 'check_image').status).toBe('succeeded');
    expect(step(result, 'create_jira_story')).toMatchObject({ status: 'planned', args: { summary: '2026-02-02 Analytics HCC Service Release', labels: ['release', 'production'] } });
    expect(step(result, 'set_production_ref')).toMatchObject({ status: 'planned', args: { namespace: 'tower-analytics-prod', ref: env.commits.release, expect_current: env.commits.previous } });
    expect(step(result, 'commit_release').args).toMatchObject({ message: `chore(release): release ${env.commits.release.slice(0, 7)} to production` });
    expect(step(result, 'create_merge_request').status).toBe('planned');
    expectNothingChanged();
  });

  it('opens the MR with exactly the production and billing ref lines changed, the Jira story and comment, the message and the logs', async () => {
    const slackBefore = env.slack.payloads.length;
    const result = await mcp.runSkill(SKILL, { commit_sha: env.commits.release, release_date: '2026-02-02', include_billing: true });
    expect(result.isError, text(result)).toBeFalsy();
    const outcome = run(result);
    expect(outcome.status).toBe('succeeded');

    // Jira: one story with the labels, and a comment with the MR URL.
    expect(env.jira.issues).toHaveLength(1);
    const story = env.jira.issues[0]!;
    expect(story.fields.summary).toBe('2026-02-02 Analytics HCC Service Release');
    expect(story.fields.labels).toEqual(expect.arrayContaining(['release', 'production']));
    expect(story.fields.issuetype.name).toBe('Story');
    expect(outcome.outputs.jira_key).toBe(story.key);

    // GitLab: one MR from the release branch, titled with the key, with the changelog.
    expect(env.gitlab.mergeRequests).toHaveLength(1);
    const mr = env.gitlab.mergeRequests[0]!;
    expect(mr.title).toBe(`${story.key} - 2026-02-02 Analytics HCC Service Release`);
    expect(mr.source_branch).toBe('aa-release-2026-02-02');
    expect(mr.target_branch).toBe('master');
    // From the fork the branch was pushed to (origin) into the upstream project, created on the fork as GitLab requires.
    expect(mr.source_project_id).toBe(env.gitlab.findProject(GITLAB_FORK)!.id);
    expect(mr.project_id).toBe(env.gitlab.findProject(GITLAB_PROJECT)!.id);
    expect(env.gitlab.server.requestsMatching(/^POST .*\/merge_requests$/).map((r) => r.path)).toContain(`/api/v4/projects/${encodeURIComponent(GITLAB_FORK)}/merge_requests`);
    // The changelog runs from production (merged upstream earlier) to the release.
    expect(mr.description).toContain(`Commits ${env.commits.previous.slice(0, 7)}..${env.commits.release.slice(0, 7)}`);
    expect(mr.description).toContain('chore(deps): bump django to 5.1.4');
    expect(mr.description).not.toContain('fix(reports): empty report no longer 500s');
    expect(mr.description).toContain(story.key);
    expect(outcome.outputs.mr_url).toBe(mr.web_url);
    expect(story.comments.map((c) => c.body).join('\n')).toContain(mr.web_url);

    // origin: the branch, one commit on top of upstream/master changing exactly the two ref lines.
    expect(originBranches()).toContain('aa-release-2026-02-02');
    git(env.appInterface.work, 'fetch', '-q', 'origin');
    const prev = env.commits.previous;
    const next = env.commits.release;
    expect(changedLines('upstream/master', 'origin/aa-release-2026-02-02').sort()).toEqual([`+    ref: ${next} # released 2026-01-10`, `+  - ref: "${next}"`, `-    ref: ${prev} # released 2026-01-10`, `-  - ref: "${env.commits.production}"`].sort());
    const message = git(env.appInterface.work, 'log', '-1', '--format=%B', 'origin/aa-release-2026-02-02').trim();
    expect(message).toBe(`chore(release): release ${next.slice(0, 7)} to production and billing\n\n${story.key}`);

    // Slack and memory.
    expect(env.slack.payloads.length).toBe(slackBefore + 1);
    expect(JSON.stringify(env.slack.payloads.at(-1)!.payload)).toContain(mr.web_url);
    const runs = await mcp.call('skill_runs', { run_id: outcome.run_id });
    expect(JSON.stringify(runs.structuredContent)).toContain('"status":"succeeded"');
    // Key-value lists are the developer persona's: a release engineer loads it to look.
    await mcp.call('persona_load', { persona: 'developer' });
    const history = await mcp.call('memory_read', { key: 'state/releases', list: 'aa_backend_prod' });
    await mcp.call('persona_load', { persona: 'release' });
    expect(JSON.stringify(history.structuredContent)).toContain(mr.web_url);
    const db = new Database(env.memoryPath, { readonly: true });
    try {
      const log = db.prepare('SELECT action, details FROM session_log ORDER BY id DESC LIMIT 1').get() as { action: string; details: string };
      expect(log.action).toBe(`Prepared production release of AA backend ${next.slice(0, 7)}`);
      expect(log.details).toContain(story.key);
      expect(db.prepare('SELECT status FROM skill_runs WHERE id = ?').get(outcome.run_id)).toEqual({ status: 'succeeded' });
    } finally {
      db.close();
    }
  });
});

describe('release_aa_backend_prod after a failure', () => {
  it('resumes at the MR step after GitLab answered 500 twice: one Jira issue, one MR', async () => {
    abandonEarlierReleases();
    const date = '2026-02-03';
    const summary = `${date} Analytics HCC Service Release`;
    env.gitlab.server.inject({ status: 500, body: { message: '500 Internal Server Error' }, times: 2, match: /^POST .*\/merge_requests$/ });
    const first = await mcp.runSkill(SKILL, { commit_sha: env.commits.release, release_date: date });
    expect(first.isError).toBe(true);
    expect(run(first).status).toBe('failed');
    expect(step(first, 'create_merge_request')).toMatchObject({ status: 'failed', attempts: 2, error: { code: 'upstream' } });
    expect(step(first, 'push_branch').status).toBe('succeeded');
    expect(JSON.stringify(env.slack.payloads.at(-1)!.payload)).toContain('create_merge_request');

    const resumed = await mcp.call('skill_run', { resume: run(first).run_id });
    expect(resumed.isError, text(resumed)).toBeFalsy();
    expect(run(resumed)).toMatchObject({ run_id: run(first).run_id, status: 'succeeded' });
    const stories = env.jira.issues.filter((i) => i.fields.summary === summary);
    expect(stories).toHaveLength(1);
    const mrs = env.gitlab.mergeRequests.filter((m) => m.title === `${stories[0]!.key} - ${summary}`);
    expect(mrs).toHaveLength(1);
    expect(mrs[0]!.source_branch).toBe(`aa-release-${date}`);
    expect(stories[0]!.comments.filter((c) => c.body.includes(mrs[0]!.web_url))).toHaveLength(1);

    // A fresh run of the same release finds the story, the pushed branch and the MR: nothing new, no second Slack post.
    const slackBefore = env.slack.payloads.length;
    const again = await mcp.runSkill(SKILL, { commit_sha: env.commits.release, release_date: date });
    expect(again.isError, text(again)).toBeFalsy();
    expect(env.slack.payloads.length).toBe(slackBefore);
    expect(step(again, 'notify_team').status).toBe('skipped');
    expect(run(again).outputs).toMatchObject({ jira_key: stories[0]!.key, jira_reused: true, branch: `aa-release-${date}`, branch_reused: true, mr_url: mrs[0]!.web_url, mr_existing: true });
    expect(env.jira.issues.filter((i) => i.fields.summary === summary)).toHaveLength(1);
    expect(env.gitlab.mergeRequests.filter((m) => m.title.endsWith(summary))).toHaveLength(1);
    expect(originBranches().split('\n').map((b) => b.trim()).filter((b) => b.startsWith(`aa-release-${date}`))).toEqual([`aa-release-${date}`]);
    expect(env.jira.issues.find((i) => i.key === stories[0]!.key)!.comments.filter((c) => c.body.includes(mrs[0]!.web_url))).toHaveLength(1);
  });

  it('a re-run that adds billing does not reuse the pushed branch that moves production only', async () => {
    abandonEarlierReleases();
    const date = '2026-02-04';
    const first = await mcp.runSkill(SKILL, { commit_sha: env.commits.release, release_date: date });
    expect(first.isError, text(first)).toBeFalsy();
    expect(run(first).outputs).toMatchObject({ jira_reused: false, branch_reused: false, mr_existing: false });
    const again = await mcp.runSkill(SKILL, { commit_sha: env.commits.release, release_date: date, include_billing: true });
    expect(again.isError, text(again)).toBeFalsy();
    // The story of the commit is kept; the branch and MR that move production only are not billing's.
    expect(run(again).outputs).toMatchObject({ jira_key: run(first).outputs.jira_key, jira_reused: true, branch_reused: false, mr_existing: false });
    expect(run(again).outputs.mr_url).not.toBe(run(first).outputs.mr_url);
    const branch = String(run(again).outputs.branch);
    git(env.appInterface.work, 'fetch', '-q', 'origin');
    const billing = changedLines('upstream/master', `origin/${branch}`);
    expect(billing).toContain(`+  - ref: "${env.commits.release}"`);
    const mr = env.gitlab.mergeRequests.find((m) => m.source_branch === branch)!;
    expect(mr.web_url).toBe(run(again).outputs.mr_url);

    // Both MRs stay open: each later run finds the one with its own content, nothing new.
    const mrs = env.gitlab.mergeRequests.length;
    const productionOnly = await mcp.runSkill(SKILL, { commit_sha: env.commits.release, release_date: date });
    expect(run(productionOnly).outputs).toMatchObject({ branch: run(first).outputs.branch, branch_reused: true, mr_url: run(first).outputs.mr_url, mr_existing: true });
    const withBilling = await mcp.runSkill(SKILL, { commit_sha: env.commits.release, release_date: '2026-02-05', include_billing: true });
    expect(run(withBilling).outputs).toMatchObject({ branch, branch_reused: true, mr_url: run(again).outputs.mr_url, mr_existing: true });
    expect(env.gitlab.mergeRequests.length).toBe(mrs);
  });
});

describe('release_aa_backend_prod for a commit already being released', () => {
  const summaries = () => env.jira.issues.filter((i) => !i.fields.resolution && (i.fields.description ?? '').includes(env.commits.release));
  const openMrs = () => env.gitlab.mergeRequests.filter((m) => m.state === 'opened' && (m.description ?? '').includes(env.commits.release));

  it('a fresh run on another day reuses the open MR, its branch and the story: nothing new, no second Slack post', async () => {
    abandonEarlierReleases();
    const branchesBefore = originBranches();
    const slackBefore = env.slack.payloads.length;
    const day1 = await mcp.runSkill(SKILL, { commit_sha: env.commits.release, release_date: '2026-11-30' });
    expect(day1.isError, text(day1)).toBeFalsy();
    expect(run(day1).outputs).toMatchObject({ jira_reused: false, branch: 'aa-release-2026-11-30', branch_reused: false, mr_existing: false });
    expect(env.slack.payloads.length).toBe(slackBefore + 1);
    const [issuesAfterDay1, mrsAfterDay1] = [env.jira.issues.length, env.gitlab.mergeRequests.length];

    // Day 2: not a resume, a new run with today's date.
    const day2 = await mcp.runSkill(SKILL, { commit_sha: env.commits.release, release_date: '2026-12-01' });
    expect(day2.isError, text(day2)).toBeFalsy();
    expect(run(day2).status).toBe('succeeded');
    expect(run(day2).outputs).toMatchObject({
      jira_key: run(day1).outputs.jira_key,
      jira_url: run(day1).outputs.jira_url,
      jira_reused: true,
      branch: 'aa-release-2026-11-30',
      branch_reused: true,
      mr_url: run(day1).outputs.mr_url,
      mr_iid: run(day1).outputs.mr_iid,
      mr_existing: true,
    });
    for (const name of ['create_jira_story', 'create_release_branch', 'commit_release', 'push_branch', 'notify_team']) expect(step(day2, name).status, name).toBe('skipped');

    // Exactly one story, one pushed branch, one MR and one Slack post for the commit.
    expect(summaries()).toHaveLength(1);
    expect(summaries()[0]!.fields.summary).toBe('2026-11-30 Analytics HCC Service Release');
    expect(openMrs()).toHaveLength(1);
    expect(openMrs()[0]!.web_url).toBe(run(day1).outputs.mr_url);
    expect([env.jira.issues.length, env.gitlab.mergeRequests.length]).toEqual([issuesAfterDay1, mrsAfterDay1]);
    const newBranches = originBranches().split('\n').map((b) => b.trim()).filter((b) => b && !branchesBefore.includes(b));
    expect(newBranches).toEqual(['aa-release-2026-11-30']);
    expect(localBranches()).not.toContain('aa-release-2026-12-01');
    expect(env.slack.payloads.length).toBe(slackBefore + 1);
    // The Jira comment with the MR URL is not repeated.
    expect(summaries()[0]!.comments.filter((c) => c.body.includes(String(run(day1).outputs.mr_url)))).toHaveLength(1);
  });

  it('when the MR was closed but the story is open, the story is kept and a new branch and MR are opened', async () => {
    const story = summaries()[0]!;
    for (const mr of openMrs()) mr.state = 'closed';
    const slackBefore = env.slack.payloads.length;
    const day3 = await mcp.runSkill(SKILL, { commit_sha: env.commits.release, release_date: '2026-12-02' });
    expect(day3.isError, text(day3)).toBeFalsy();
    expect(run(day3).outputs).toMatchObject({ jira_key: story.key, jira_reused: true, branch: 'aa-release-2026-12-02', branch_reused: false, mr_existing: false });
    expect(summaries()).toHaveLength(1);
    expect(openMrs()).toHaveLength(1);
    expect(openMrs()[0]!).toMatchObject({ source_branch: 'aa-release-2026-12-02', web_url: run(day3).outputs.mr_url });
    expect(env.slack.payloads.length).toBe(slackBefore + 1);
    expect(story.comments.some((c) => c.body.includes(String(run(day3).outputs.mr_url)))).toBe(true);
  });

  it('stops before any change when an open release MR of the commit comes from a branch not on the push remote', async () => {
    const mr = openMrs()[0]!;
    const story = summaries()[0]!;
    const original = mr.source_branch;
    mr.source_branch = 'aa-release-2026-12-02-elsewhere';
    // With its story resolved, a run that went on would create a new story first.
    story.fields.resolution = { id: '10000', name: 'Done' };
    try {
      const issuesBefore = env.jira.issues.length;
      const mrsBefore = env.gitlab.mergeRequests.length;
      const branchesBefore = originBranches();
      const result = await mcp.runSkill(SKILL, { commit_sha: env.commits.release, release_date: '2026-12-03' });
      expect(result.isError).toBe(true);
      const stopped = step(result, 'open_mr_branch_is_ours');
      expect(stopped).toMatchObject({ status: 'failed', error: { code: 'precondition' } });
      expect(stopped.error?.message).toContain(`commit ${env.commits.release} is already being released by ${mr.web_url} (branch aa-release-2026-12-02-elsewhere)`);
      expect(env.jira.issues.length).toBe(issuesBefore);
      expect(env.gitlab.mergeRequests.length).toBe(mrsBefore);
      expect(originBranches()).toBe(branchesBefore);
    } finally {
      mr.source_branch = original;
      story.fields.resolution = null;
    }
  });

  it('stops before any change when the story an open release MR names was resolved meanwhile', async () => {
    const mr = openMrs()[0]!;
    const story = summaries()[0]!;
    story.fields.resolution = { id: '10000', name: 'Done' };
    try {
      const issuesBefore = env.jira.issues.length;
      const mrsBefore = env.gitlab.mergeRequests.length;
      const branchesBefore = originBranches();
      const slackBefore = env.slack.payloads.length;
      const result = await mcp.runSkill(SKILL, { commit_sha: env.commits.release, release_date: '2026-12-04' });
      expect(result.isError).toBe(true);
      const stopped = step(result, 'open_mr_story_is_unresolved');
      expect(stopped).toMatchObject({ status: 'failed', error: { code: 'precondition' } });
      expect(stopped.error?.message).toContain(`is already being released by ${mr.web_url} (${story.key} - `);
      expect(stopped.error?.message).toContain('reopen the story (or close that merge request)');
      expect(env.jira.issues.length).toBe(issuesBefore);
      expect(env.gitlab.mergeRequests.length).toBe(mrsBefore);
      expect(originBranches()).toBe(branchesBefore);
      // Only the failure notice goes out, naming the step that stopped the run.
      expect(env.slack.payloads.slice(slackBefore).map((p) => JSON.stringify(p.payload))).toEqual([expect.stringContaining('open_mr_story_is_unresolved')]);
    } finally {
      story.fields.resolution = null;
    }
  });

  it('a run with billing on another day, while the open MR moves production only, opens its own branch and MR beside it', async () => {
    const story = summaries()[0]!;
    const [productionOnly] = openMrs();
    const result = await mcp.runSkill(SKILL, { commit_sha: env.commits.release, release_date: '2026-12-04', include_billing: true });
    expect(result.isError, text(result)).toBeFalsy();
    expect(run(result).outputs).toMatchObject({ jira_key: story.key, jira_reused: true, branch: 'aa-release-2026-12-04', branch_reused: false, mr_existing: false });
    expect(openMrs().map((m) => m.web_url).sort()).toEqual([productionOnly!.web_url, run(result).outputs.mr_url].sort());
    git(env.appInterface.work, 'fetch', '-q', 'origin');
    expect(changedLines('upstream/master', 'origin/aa-release-2026-12-04')).toContain(`+  - ref: "${env.commits.release}"`);
  });
});
