import { readFileSync } from 'node:fs';
import { ToolError } from '../errors.js';
import { redactValue } from '../masking.js';
import { localPrincipal } from '../server/auth.js';
import { ReleaseActions, releaseSummary, releaseView, validate } from '../server/release-actions.js';
import { listQuerySchema, prepareRequestSchema, releaseIdSchema } from '../server/rest-schemas.js';
import type { Runtime } from '../server/runtime.js';
import { EXIT, parseFlags, RUNTIME_FLAGS, runtimeFromFlags, UsageError } from './common.js';

export const RELEASE_HELP = `Usage: release-mcp release <command> [options]

Staged releases from the command line: the same operations, schemas and answers as the REST
API (POST /api/releases/prepare|promote|rollback, GET /api/releases/[ID]), run in this process.

Commands:
  prepare --from ENV --to ENV [--bundle-data FILE|-] [--commit SHA] [--hotfix] [--allow-data-loss]
                              plan and dry-run, store the release as prepared
  promote (RELEASE_ID | --latest [--to ENV])
                              apply it to its target (--latest: the newest prepared release)
  rollback RELEASE_ID         undo a promoted (or failed) release
  list [--status S] [--environment ENV] [--limit N]
  get RELEASE_ID              the manifest

Options:
  --tenant SLUG        the tenant to act for (default: config releases.default_tenant)
  --bundle-data FILE   JSON of the API's bundle_data: {commit_sha, images, database: {changes: [...]}, feature_flags}
  --release ID         the release, instead of the positional argument
  --config FILE, --memory FILE   as for serve

Prints {"success": true, "data": ...} (or {"success": false, "error": ...}) as JSON.
Exit codes: 0 ok, 1 refused or failed, 2 bad usage or invalid input.
`;

const FLAGS = {
  ...RUNTIME_FLAGS,
  tenant: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  'bundle-data': { type: 'string' },
  commit: { type: 'string' },
  hotfix: { type: 'boolean' },
  'allow-data-loss': { type: 'boolean' },
  release: { type: 'string' },
  latest: { type: 'boolean' },
  status: { type: 'string' },
  environment: { type: 'string' },
  limit: { type: 'string' },
} as const;

type Values = ReturnType<typeof parseFlags<typeof FLAGS>>['values'];

const COMMANDS = ['prepare', 'promote', 'rollback', 'list', 'get'] as const;
type Command = (typeof COMMANDS)[number];

/** Which flags each command takes: anything else is a usage error, not silently ignored. */
const ALLOWED: Record<Command, ReadonlyArray<keyof Values>> = {
  prepare: ['from', 'to', 'bundle-data', 'commit', 'hotfix', 'allow-data-loss'],
  promote: ['release', 'latest', 'to'],
  rollback: ['release'],
  list: ['status', 'environment', 'limit'],
  get: ['release'],
};
const COMMON: ReadonlyArray<keyof Values> = ['config', 'memory', 'help', 'tenant'];

function readBundleData(source: string): unknown {
  let text: string;
  try {
    text = readFileSync(source === '-' ? 0 : source, 'utf8');
  } catch (error) {
    throw new UsageError(`--bundle-data: cannot read ${source} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--bundle-data: ${source} is not valid JSON (${(error as Error).message})`);
  }
}

function releaseIdOf(values: Values, positionals: string[], command: Command): string {
  const given = values.release ?? positionals[0];
  if (values.release && positionals.length) throw new UsageError(`${command}: give the release id once (positional or --release)`);
  if (!given) throw new UsageError(`${command}: which release? release-mcp release ${command} RELEASE_ID`);
  return validate(releaseIdSchema, given, 'release id');
}

function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

async function runCommand(runtime: Runtime, command: Command, values: Values, positionals: string[]): Promise<unknown> {
  const actions = new ReleaseActions(runtime);
  const actor = { ...localPrincipal(runtime.config), ...(values.tenant ? { tenant: values.tenant } : {}) };
  switch (command) {
    case 'prepare': {
      if (positionals.length) throw new UsageError(`prepare takes no arguments (got ${positionals.join(' ')})`);
      const bundleData = values['bundle-data'] !== undefined ? readBundleData(values['bundle-data']) : undefined;
      const body = validate(
        prepareRequestSchema,
        {
          from_env: values.from,
          to_env: values.to,
          ...(bundleData !== undefined || values.commit ? { bundle_data: { ...(bundleData as object | undefined), ...(values.commit ? { commit_sha: values.commit } : {}) } } : {}),
          ...(values.hotfix ? { hotfix: true } : {}),
          ...(values['allow-data-loss'] ? { allow_data_loss: true } : {}),
        },
        'prepare options (from_env is --from, to_env is --to, bundle_data is --bundle-data)',
      );
      return releaseView(await actions.prepare(actor, body));
    }
    case 'promote': {
      let id: string;
      if (values.latest) {
        if (values.release || positionals.length) throw new UsageError('promote: --latest or a release id, not both');
        const [newest] = await actions.list(actor, { status: 'prepared', ...(values.to ? { environment: values.to } : {}), limit: 1 });
        if (!newest) throw new ToolError('not_found', `no prepared release${values.to ? ` to ${values.to}` : ''} in tenant ${actor.tenant}`, { hint: 'release-mcp release prepare first' });
        id = newest.id;
      } else {
        if (values.to) throw new UsageError('promote: --to goes with --latest');
        id = releaseIdOf(values, positionals, command);
      }
      return releaseView(await actions.promote(actor, id));
    }
    case 'rollback': {
      const { release, reverted_migrations } = await actions.rollback(actor, releaseIdOf(values, positionals, command));
      return { ...releaseView(release), rolled_back: true, reverted_migrations };
    }
    case 'list': {
      if (positionals.length) throw new UsageError(`list takes no arguments (got ${positionals.join(' ')})`);
      const query = validate(listQuerySchema, { ...(values.status ? { status: values.status } : {}), ...(values.environment ? { environment: values.environment } : {}), ...(values.limit ? { limit: values.limit } : {}) }, 'list options');
      const rows = (await actions.list(actor, query)).map(releaseSummary);
      return { releases: rows, count: rows.length };
    }
    case 'get':
      return releaseView(await actions.get(actor, releaseIdOf(values, positionals, command)));
  }
}

export async function releaseCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, FLAGS);
  const [name, ...rest] = positionals;
  if (values.help || name === undefined) {
    process.stdout.write(RELEASE_HELP);
    return values.help ? EXIT.ok : EXIT.badInput;
  }
  if (!(COMMANDS as readonly string[]).includes(name)) throw new UsageError(`unknown release command "${name}"; one of: ${COMMANDS.join(', ')}`);
  const command = name as Command;
  const stray = (Object.keys(values) as Array<keyof Values>).filter((k) => values[k] !== undefined && !COMMON.includes(k) && !ALLOWED[command].includes(k));
  if (stray.length) throw new UsageError(`${command} does not take ${stray.map((k) => `--${k}`).join(', ')}`);
  const runtime = await runtimeFromFlags(values);
  try {
    const data = await runCommand(runtime, command, values, rest);
    print({ success: true, data: redactValue(data, runtime.secretValues) });
    return EXIT.ok;
  } catch (error) {
    if (!(error instanceof ToolError)) throw error;
    print(redactValue({ success: false, error: error.toJSON() }, runtime.secretValues));
    process.stderr.write(`release-mcp: ${redactValue(error.message, runtime.secretValues)}\n`);
    return error.code === 'invalid_input' ? EXIT.badInput : EXIT.failed;
  } finally {
    await runtime.close();
  }
}
