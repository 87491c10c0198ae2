import { resolve } from 'node:path';
import { ToolError } from '../errors.js';
import { redactValue } from '../logger.js';
import { LocalSession } from '../server/context.js';
import type { Runtime } from '../server/runtime.js';
import type { Progress, RunResult, SkillService } from '../tools/index.js';
import { EXIT, parseFlags, RUNTIME_FLAGS, runtimeFromFlags, UsageError } from './common.js';

export const SKILL_HELP = `Usage: release-mcp skill <command> [options]

Commands:
  list                          the skills (builtin and config skills_dirs)
  describe NAME                 inputs, steps and tools of a skill
  lint [NAME|FILE]              check skills against the schema and the tools (all when none given)
  plan NAME [--input k=v ...]   dry run: read-only steps run, the others show their arguments
  plan --file PATH [--input k=v ...]
                                lint, then plan, a skill file that is not in a skills folder
  run NAME [--input k=v ...]    run a skill of the skills folders
  runs [RUN_ID]                 recent runs, or one run in full
  resume RUN_ID [--approve]     continue a failed, paused or interrupted run from its stopping step
                                (--rerun or --skip: a change its dead process had started)
  abandon RUN_ID [--reason T]   end a stopped or interrupted run for good

Options:
  --input k=v          an input value (repeatable); typed by the skill's declared input type
  --inputs-json JSON   input values as a JSON object
  --file PATH          with plan: the skill file to try (a real run needs the file in a skills folder)
  --approve            with resume: approve the confirm step the run waits on
  --rerun, --skip      with resume: run again, or skip, a change that was started when the
                       run's process died (it may have happened: check first)
  --reason TEXT        with abandon: why, kept on the run
  --json               print the structured result as JSON
  --progress           a line per finished step on stderr even when it is not a terminal
  --persona NAME, --read-only, --config FILE, --memory FILE   as for serve

Exit codes: 0 succeeded (or planned), 1 failed, declined or cancelled, 2 bad input, 3 awaiting approval.
`;

const FLAGS = {
  ...RUNTIME_FLAGS,
  input: { type: 'string', multiple: true },
  'inputs-json': { type: 'string' },
  file: { type: 'string' },
  approve: { type: 'boolean' },
  rerun: { type: 'boolean' },
  skip: { type: 'boolean' },
  reason: { type: 'string' },
  json: { type: 'boolean' },
  progress: { type: 'boolean' },
} as const;

const RUN_FILE_REFUSED = `skill run --file: a skill file outside the skills folders is only planned (skill plan --file PATH).
To run it, put it in a folder of config skills_dirs: it is then linted with the others, listed, and its runs resume by name.`;

/** Codes of failures the user fixes by changing what they typed: exit 2. */
const BAD_INPUT = new Set(['invalid_input', 'not_found', 'config', 'precondition', 'conflict']);

export function parseInputs(pairs: readonly string[] = [], json?: string): Record<string, unknown> {
  let inputs: Record<string, unknown> = {};
  if (json !== undefined) {
    try {
      inputs = JSON.parse(json) as Record<string, unknown>;
    } catch (error) {
      throw new UsageError(`--inputs-json: not valid JSON (${(error as Error).message})`);
    }
    if (!inputs || typeof inputs !== 'object' || Array.isArray(inputs)) throw new UsageError('--inputs-json: expected a JSON object');
  }
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--input: expected name=value, got "${pair}"`);
    inputs[pair.slice(0, eq).trim()] = pair.slice(eq + 1);
  }
  return inputs;
}

export function exitCodeOf(status: RunResult['status']): number {
  if (status === 'succeeded' || status === 'planned') return EXIT.ok;
  if (status === 'awaiting_approval') return EXIT.awaitingApproval;
  return EXIT.failed;
}

function print(value: unknown, json: boolean | undefined, text: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${text()}\n`);
}

/** One live line per finished step on a terminal, with a spinner while the next one runs. */
function liveProgress(forced = false): { progress: (update: Progress) => Promise<void>; stop(): void } {
  const out = process.stderr;
  if (!out.isTTY) {
    if (!forced) return { progress: async () => {}, stop() {} };
    return { progress: async (update) => void out.write(`  ${update.progress}/${update.total ?? '?'} ${update.message ?? ''}\n`), stop() {} };
  }
  const frames = '⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏';
  let frame = 0;
  let label = 'starting';
  const draw = () => out.write(`\r\x1b[K${frames[frame++ % frames.length]} ${label}`);
  const timer = setInterval(draw, 100);
  return {
    progress: async (update) => {
      out.write(`\r\x1b[K  ${update.progress}/${update.total ?? '?'} ${update.message ?? ''}\n`);
      label = `step ${update.progress + 1}/${update.total ?? '?'}`;
    },
    stop: () => {
      clearInterval(timer);
      out.write('\r\x1b[K');
    },
  };
}

async function runWithSession(runtime: Runtime, service: SkillService, request: Parameters<SkillService['run']>[0], json: boolean | undefined, progress: boolean | undefined): Promise<number> {
  const controller = new AbortController();
  let interrupts = 0;
  const onInterrupt = () => {
    interrupts += 1;
    if (interrupts > 1) process.exit(130);
    process.stderr.write('\ncancelling: the run stops after the current step (Ctrl-C again to quit now)\n');
    controller.abort();
  };
  process.on('SIGINT', onInterrupt);
  const live = liveProgress(progress);
  try {
    const session = new LocalSession(runtime);
    // Masked as the registry masks every tool result: the run's outputs can carry what tools returned.
    const result = redactValue(await service.run(request, session.context({ signal: controller.signal, progress: live.progress })), runtime.secretValues);
    live.stop();
    print(result, json, () => result.report);
    return exitCodeOf(result.status);
  } finally {
    live.stop();
    process.off('SIGINT', onInterrupt);
  }
}

export async function skillCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, FLAGS);
  const [command, ...args] = positionals;
  if (values.help || command === undefined) {
    process.stdout.write(SKILL_HELP);
    return values.help ? EXIT.ok : EXIT.badInput;
  }
  const arity = (min: number, max: number) => {
    if (args.length < min || args.length > max) throw new UsageError(`skill ${command}: expected ${min === max ? min : `${min}-${max}`} argument(s), got ${args.length}\n${SKILL_HELP}`);
  };
  const runtime = await runtimeFromFlags(values);
  try {
    const service = runtime.services.skills;
    if (!service) throw new UsageError('the skill engine is not installed');
    switch (command) {
      case 'list': {
        arity(0, 0);
        const skills = await service.list();
        print({ skills }, values.json, () => skills.map((s) => `${s.name.padEnd(28)} v${s.version}  ${s.steps} steps  ${s.description.split('\n')[0]}`).join('\n') || 'no skills');
        return EXIT.ok;
      }
      case 'describe': {
        arity(1, 1);
        const d = await service.describe(args[0]!);
        print(d, values.json, () =>
          [
            `${d.name} v${d.version} (${d.file})`,
            d.description.trim(),
            '',
            'Inputs:',
            ...d.inputs.map((i) => `  ${i.name}: ${i.type}${i.required ? ' (required)' : ''}${i.default !== undefined ? ` = ${JSON.stringify(i.default)}` : ''}  ${i.description}`),
            '',
            'Steps:',
            ...d.steps.map((s, n) => `  ${n + 1}. ${s.name} [${s.kind}${s.tool ? `: ${s.tool}${s.read_only ? ', read-only' : ''}` : ''}]${s.phase === 'finally' ? ' (finally)' : ''}${s.condition ? ` if ${s.condition}` : ''}`),
          ].join('\n'),
        );
        return EXIT.ok;
      }
      case 'lint': {
        arity(0, 1);
        const report = await service.lint(args[0], { anyFile: true });
        print(report, values.json, () =>
          report.ok ? `${report.skills.length} skill(s) pass lint: ${report.skills.join(', ')}` : report.findings.map((f) => `${f.file}${f.path ? ` ${f.path}` : ''}: ${f.message}`).join('\n'),
        );
        return report.ok ? EXIT.ok : EXIT.failed;
      }
      case 'plan':
      case 'run': {
        if (values.file !== undefined) {
          if (command === 'run') throw new UsageError(RUN_FILE_REFUSED);
          arity(0, 0);
        } else arity(1, 1);
        const inputs = parseInputs(values.input, values['inputs-json']);
        return await runWithSession(runtime, service, { name: args[0], file: values.file === undefined ? undefined : resolve(values.file), inputs, dry_run: command === 'plan' }, values.json, values.progress);
      }
      case 'resume': {
        arity(1, 1);
        if (values.rerun && values.skip) throw new UsageError('resume: --rerun and --skip exclude each other');
        const interrupted = values.rerun ? 'rerun' : values.skip ? 'skip' : undefined;
        return await runWithSession(runtime, service, { resume: args[0]!, approve: values.approve ?? false, interrupted }, values.json, values.progress);
      }
      case 'abandon': {
        arity(1, 1);
        const run = await service.abandon(args[0]!, runtime.config.releases.default_tenant, values.reason);
        print(run, values.json, () => `run ${run.run_id} (${run.skill}) ${run.status}: it can no longer be resumed`);
        return EXIT.ok;
      }
      case 'runs': {
        arity(0, 1);
        // The command line is the local user: the default tenant's runs.
        const result = await service.runs({ run_id: args[0] }, runtime.config.releases.default_tenant);
        print(result, values.json, () =>
          result.run
            ? [`run ${result.run.summary.run_id}: ${result.run.summary.skill} ${result.run.summary.status}`, ...result.run.steps.map((s) => `  [${s.round}] ${s.name}: ${s.status}${s.error ? ` (${s.error.code}: ${s.error.message})` : ''}`)].join('\n')
            : result.runs.map((r) => `${r.run_id}  ${r.skill.padEnd(24)} ${r.status.padEnd(18)} ${r.started_at}`).join('\n') || 'no runs',
        );
        return EXIT.ok;
      }
      default:
        throw new UsageError(`unknown skill command "${command}"\n${SKILL_HELP}`);
    }
  } catch (error) {
    if (error instanceof ToolError && BAD_INPUT.has(error.code)) {
      process.stderr.write(`release-mcp: ${error.message}${error.hint ? `\nHint: ${error.hint}` : ''}\n`);
      return EXIT.badInput;
    }
    throw error;
  } finally {
    await runtime.close();
  }
}
