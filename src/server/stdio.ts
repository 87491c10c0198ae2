import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { McpSession } from './mcp.js';
import type { Runtime } from './runtime.js';

/** Serve one client over stdin/stdout until it disconnects or the process is told to stop. */
export async function serveStdio(runtime: Runtime): Promise<{ close(): Promise<void> }> {
  const session = new McpSession(runtime);
  const transport = new StdioServerTransport();
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await session.close();
    await runtime.close();
  };
  transport.onclose = () => void close();
  await session.server.connect(transport);
  runtime.logger.info('release-mcp serving on stdio', { persona: session.persona, read_only: session.readOnly });
  return { close };
}
