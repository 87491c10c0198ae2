import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlackEmulator } from '../emulators/slack.js';
import { tempDir } from '../helpers/harness.js';
import { writeAnnounceSkill } from './fixtures.js';

/**
 * A real `release-mcp skill run` process killed with SIGKILL in the middle of a Slack post:
 * the run shows as interrupted, a resume does not repeat what was done nor send the post blindly
 * again, and abandon ends a run for good.
 */
const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const LEASE_MS = 800;
const slack = new SlackEmulator();
let dir: { path: string; cleanup(): void };
let config: string;
let memory: string;

beforeAll(async () => {
  await slack.start();
  dir = tempDir('release-mcp-crash-');
  config = writeAnnounceSkill(dir.path, LEASE_MS);
  memory = join(dir.path, 'memory.db');
});
afterAll(async () => {
  await slack.stop();
  dir.cleanup();
});

const env = () => ({ ...process.env, NO_COLOR: '1', SLACK_WEBHOOK_URL: slack.webhookUrl });

function cli(...args: string[]) {
  const result = spawnSync('node', [CLI, 'skill', ...args, '--config', config, '--memory', memory], { encoding: 'utf8', env: env() });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Poll the memory file (as another reader would) until the check holds. */
async function waitFor<T>(what: string, check: (db: Database.Database) => T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const db = new Database(memory, { readonly: true, fileMustExist: true });
      try {
        const value = check(db);
        if (value !== undefined) return value;
      } finally {
        db.close();
      }
    } catch {
      // The file or its tables do not exist yet.
    }
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Start a run and SIGKILL it while its Slack post is in flight; returns the run id. */
async function killedDuringPost(tag: string): Promise<string> {
  slack.server.inject({ delayMs: 1500, match: /POST \/services\// });
  const child: ChildProcess = spawn('node', [CLI, 'skill', 'run', 'announce', '--input', `tag=${tag}`, '--config', config, '--memory', memory], { env: env(), stdio: 'ignore' });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  try {
    const runId = await waitFor(`the post of ${tag} to start`, (db) => {
      const row = db.prepare("SELECT c.run_id FROM run_step_calls c JOIN skill_runs r ON r.id = c.run_id WHERE c.name = 'post' AND c.done_at IS NULL AND r.inputs LIKE ?").get(`%"${tag}"%`) as { run_id: string } | undefined;
      return row?.run_id;
    });
    // Killed once Slack has the request (it took the delay), before the answer comes back.
    const deadline = Date.now() + 10_000;
    while (slack.server.pendingFaults > 0 && Date.now() < deadline) await sleep(20);
    return runId;
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
}

function sessionLog(): string[] {
  const db = new Database(memory, { readonly: true });
  try {
    return (db.prepare('SELECT action FROM session_log ORDER BY id').all() as Array<{ action: string }>).map((r) => r.action);
  } finally {
    db.close();
  }
}

describe('a skill run whose process was killed', () => {
  it('shows as interrupted, resumes without repeating done steps, asks before re-sending a change, and can be abandoned', async () => {
    const first = await killedDuringPost('a');
    const second = await killedDuringPost('b');

    await sleep(LEASE_MS + 300);
    const listed = cli('runs', '--json');
    expect(listed.code).toBe(0);
    const runs = JSON.parse(listed.stdout).runs as Array<{ run_id: string; status: string }>;
    expect(runs.find((r) => r.run_id === first)?.status).toBe('interrupted');
    expect(runs.find((r) => r.run_id === second)?.status).toBe('interrupted');

    // The delayed posts land after their senders died: the change happened.
    await sleep(1500);
    expect(slack.payloads.map((p) => p.payload.text)).toEqual(['release a', 'release b']);

    // notify_team is not idempotent: the resume stops and says what may have happened.
    const asked = cli('resume', first, '--json');
    expect(asked.code).toBe(3);
    const paused = JSON.parse(asked.stdout) as { status: string; steps: Array<{ name: string; status: string; note?: string }> };
    expect(paused.status).toBe('awaiting_approval');
    expect(paused.steps.map((s) => `${s.name}:${s.status}`)).toEqual(['before:succeeded', 'post:awaiting_approval']);
    expect(paused.steps[1]!.note).toMatch(/step post \(notify_team\) was started at .* the change may or may not have happened/);
    expect(slack.payloads).toHaveLength(2);

    // The operator saw the post in Slack: skip it, and the run ends without a second post or a second "before".
    const done = cli('resume', first, '--skip', '--json');
    expect(done.code).toBe(0);
    expect(JSON.parse(done.stdout)).toMatchObject({ run_id: first, status: 'succeeded' });
    expect(slack.payloads).toHaveLength(2);
    expect(sessionLog().filter((a) => a.endsWith(' a'))).toEqual(['before a', 'after a']);

    const abandoned = cli('abandon', second, '--reason', 'released by hand');
    expect(abandoned.code).toBe(0);
    expect(abandoned.stdout).toContain(`run ${second} (announce) abandoned`);
    const shown = JSON.parse(cli('runs', second, '--json').stdout) as { run: { summary: { status: string; error: string } } };
    expect(shown.run.summary).toMatchObject({ status: 'abandoned', error: 'abandoned: released by hand (was interrupted)' });
    const again = cli('resume', second);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/is abandoned; only a failed, cancelled, declined, paused or interrupted run can be resumed/);
    expect(sessionLog().filter((a) => a.endsWith(' b'))).toEqual(['before b']);
  }, 60_000);
});
