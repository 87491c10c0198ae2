// `npm run demo`: the release skills end to end in about a minute, on this machine only.
// Builds temporary git repositories (backend, app-interface with bare upstream and origin),
// starts the GitLab, Jira, Slack, Quay, Konflux and Prometheus emulators, then runs the real CLI
// (`release-mcp skill plan|run|resume`) against them and shows where the results are.
// `--keep` leaves everything running until Ctrl-C, to look around; otherwise it cleans up.
import { spawn } from 'node:child_process';
import { CLI, createReleaseEnv, type ReleaseEnv } from '../tests/helpers/release-env.js';

interface CliRun {
  code: number;
  result: { run_id: string; status: string; report: string; outputs: Record<string, unknown> } | undefined;
}

const keep = process.argv.includes('--keep');
const bold = (text: string) => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[0m` : text);
const say = (text = '') => process.stdout.write(`${text}\n`);
const heading = (text: string) => say(`\n${bold(`━━ ${text}`)}\n`);

/** Run the CLI with live step lines on stderr; the structured result comes back as JSON on stdout. */
function cli(env: ReleaseEnv, args: string[]): Promise<CliRun> {
  say(bold(`$ release-mcp ${args.join(' ')}`));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args, '--config', env.configPath, '--json', '--progress'], { env: env.processEnv(), stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => {
      let result: CliRun['result'];
      try {
        result = JSON.parse(stdout) as CliRun['result'];
      } catch {
        say(stdout);
      }
      if (result) say(`\n${result.report}`);
      resolve({ code: code ?? 1, result });
    });
  });
}

function expect(run: CliRun, status: string, what: string): void {
  if (run.result?.status !== status) throw new Error(`${what}: expected ${status}, got ${run.result?.status ?? `exit code ${run.code}`}`);
}

async function main(): Promise<void> {
  const started = Date.now();
  heading('Setting up: temporary repositories and service emulators');
  const env = await createReleaseEnv({ prefix: 'release-mcp-demo-' });
  const stopController = env.startReleaseController();
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    stopController();
    await env.close();
  };
  process.on('SIGINT', () => void cleanup().then(() => process.exit(130)));

  try {
    const sha = env.commits.release;
    say(`backend repository      ${env.backend.work} (release commit ${sha})`);
    say(`app-interface checkout  ${env.appInterface.work} (remotes: upstream ${env.appInterface.upstream}, origin ${env.appInterface.origin})`);
    say(`GitLab ${env.gitlab.url}  Jira ${env.jira.url}  Quay ${env.quay.url}`);
    say(`Konflux (Kubernetes API) ${env.kube.url}  Prometheus ${env.prometheus.url}  Slack ${env.slack.webhookUrl}`);
    say(`config                  ${env.configPath}`);

    heading('1. Plan the app-interface release (read-only steps run, changes are only shown)');
    const aaInputs = ['--input', `commit_sha=${sha}`, '--input', 'include_billing=true'];
    expect(await cli(env, ['skill', 'plan', 'release_aa_backend_prod', ...aaInputs]), 'planned', 'plan of release_aa_backend_prod');

    heading('2. Run it: Jira story, release branch, commit, push, merge request, notification');
    const aa = await cli(env, ['skill', 'run', 'release_aa_backend_prod', ...aaInputs]);
    expect(aa, 'succeeded', 'release_aa_backend_prod');

    heading('3. Plan the Konflux release');
    const konfluxInputs = ['--input', `commit_sha=${sha}`, '--input', 'wait=true'];
    expect(await cli(env, ['skill', 'plan', 'release_to_prod', ...konfluxInputs]), 'planned', 'plan of release_to_prod');

    heading('4. Run it: it stops at the approval step (a terminal has no MCP elicitation)');
    const paused = await cli(env, ['skill', 'run', 'release_to_prod', ...konfluxInputs]);
    expect(paused, 'awaiting_approval', 'release_to_prod');

    heading('5. Approve: the run resumes, creates the Release and waits for it');
    const konflux = await cli(env, ['skill', 'resume', paused.result!.run_id, '--approve']);
    expect(konflux, 'succeeded', 'release_to_prod after approval');

    heading('Where the results are');
    const mr = env.gitlab.mergeRequests[0];
    const story = env.jira.issues[0];
    say(`Merge request  ${String(aa.result!.outputs.mr_url)}  "${mr?.title}"`);
    say(`Branch         ${String(aa.result!.outputs.branch)} on origin ${env.appInterface.origin}`);
    say(`Jira story     ${String(aa.result!.outputs.jira_key)} ${String(aa.result!.outputs.jira_url)} (${story?.comments.length ?? 0} comment: the MR link)`);
    say(`Konflux        Release ${String(konflux.result!.outputs.release)} of snapshot ${String(konflux.result!.outputs.snapshot)}: ${String(konflux.result!.outputs.status)}`);
    say(`Slack          ${env.slack.payloads.length} message(s): ${env.slack.payloads.map((p) => String(p.payload.text)).join(' | ')}`);
    say(`Memory         ${env.memoryPath} (run records: release-mcp skill runs --config ${env.configPath})`);
    say(`\nDone in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
    if (keep) {
      say('\n--keep: the emulators and files stay until you press Ctrl-C.');
      await new Promise(() => undefined);
    }
  } finally {
    await cleanup();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`demo failed: ${(error as Error).message}\n`);
  process.exit(1);
});
