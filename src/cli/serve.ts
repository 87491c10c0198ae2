import { exitCodeFor, parseFlags, printError, RUNTIME_FLAGS, runtimeFromFlags, UsageError } from './common.js';

export const SERVE_HELP = `Usage: release-mcp serve [options]

Serve MCP over stdio (default) or Streamable HTTP at /mcp.

Options:
  --http               serve HTTP instead of stdio
  --host HOST          HTTP bind address (default: config http.host, 127.0.0.1)
  --port PORT          HTTP port (default: config http.port, 3000; 0 picks a free one)
  --http-token TOKEN   admin bearer token for HTTP (or RELEASE_MCP_HTTP_TOKEN); required off loopback
                       unless config http.tokens names tokens with roles and tenants
  --persona NAME       persona at start (or RELEASE_MCP_PERSONA, config default_persona)
  --read-only          hide and refuse every tool that is not read-only
  --config FILE        config file (or RELEASE_MCP_CONFIG, ./config.json, ~/.config/release-mcp/config.json)
  --memory FILE        memory database (default: config memory.path, ~/.local/share/release-mcp/memory.db)
  -h, --help           show this help
`;

export async function serveCommand(argv: string[]): Promise<number | 'running'> {
  const { values, positionals } = parseFlags(argv, {
    ...RUNTIME_FLAGS,
    http: { type: 'boolean' },
    host: { type: 'string' },
    port: { type: 'string' },
    'http-token': { type: 'string' },
  });
  if (values.help) {
    process.stdout.write(SERVE_HELP);
    return 0;
  }
  if (positionals.length) throw new UsageError(`serve takes no arguments (got ${positionals.join(' ')})`);
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) throw new UsageError(`--port: expected an integer 0-65535, got "${values.port}"`);

  // Over stdio the memory opens once the client's handshake is answered (serveStdio); over HTTP
  // before the server listens.
  const runtime = await runtimeFromFlags(values, values.http ? {} : { openMemoryWhenAsked: true });
  let handle: { close(): Promise<void> };
  try {
    if (values.http) {
      const token = values['http-token'] ?? runtime.secrets.RELEASE_MCP_HTTP_TOKEN;
      // A token given on the command line is masked like one from the environment (logs, results, memory share this list).
      if (values['http-token']) runtime.secretValues.push(values['http-token']);
      const { http } = runtime.config;
      // Loaded only for --http: stdio, what MCP clients start, never pays for the HTTP stack.
      const { serveHttp } = await import('../server/http.js');
      const served = await serveHttp(runtime, {
        host: values.host ?? http.host,
        port: port ?? http.port,
        ...(token ? { token } : {}),
        allowedHosts: http.allowed_hosts,
        allowedOrigins: http.allowed_origins,
      });
      process.stderr.write(`release-mcp listening on ${served.url}\n`);
      handle = served;
    } else {
      const { serveStdio } = await import('../server/stdio.js');
      handle = await serveStdio(runtime, {
        // As when it fails before serving: the message, exit 2.
        onMemoryFailure: (error) => {
          printError(error);
          process.exit(exitCodeFor(error));
        },
      });
    }
  } catch (error) {
    await runtime.close();
    throw new UsageError((error as Error).message);
  }
  const stop = (signal: string) => {
    runtime.logger.info(`received ${signal}, closing sessions and memory`);
    void handle.close().finally(() => process.exit(0));
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  return 'running';
}
