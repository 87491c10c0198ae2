import { exitCodeFor, printError, UsageError } from './cli/common.js';
import { serveCommand } from './cli/serve.js';
import { toolsCommand } from './cli/tools.js';
import { VERSION } from './version.js';

const HELP = `release-mcp ${VERSION}: an MCP server for release engineering

Usage:
  release-mcp serve [--http] [--host H] [--port P] [--persona NAME] [--read-only] [--config F] [--memory F]
  release-mcp tools list [--persona NAME] [--read-only] [--json]
  release-mcp release prepare --from ENV --to ENV | promote ID|--latest | rollback ID | list | get ID   [--tenant SLUG]
  release-mcp skill list | describe NAME | lint [NAME|FILE] | plan NAME | run NAME [--input k=v ...] | runs [RUN_ID] | resume RUN_ID [--approve]
  release-mcp --version

Run "release-mcp <command> --help" for the options of a command.
`;

type Command = (argv: string[]) => Promise<number | 'running'>;

const COMMANDS: Record<string, Command> = {
  serve: serveCommand,
  tools: toolsCommand,
  // The skill commands load only for this command: `serve` starts without them.
  skill: async (argv) => (await import('./cli/skill.js')).skillCommand(argv),
  // The release service (migration planner, SQL parser, PostgreSQL client) loads only for this command.
  release: async (argv) => (await import('./cli/release.js')).releaseCommand(argv),
};

async function main(argv: string[]): Promise<number | 'running'> {
  const [name, ...rest] = argv;
  if (name === undefined) return serveCommand([]);
  if (name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) throw new UsageError(`unknown command "${name}"\n${HELP}`);
  return command(rest);
}

// `release-mcp tools list | head` closes the pipe early: that is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 'running') process.exitCode = code;
  },
  (error: unknown) => {
    printError(error);
    process.exitCode = exitCodeFor(error);
  },
);
