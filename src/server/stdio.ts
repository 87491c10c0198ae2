import { serveStdio as serveBothEras, StdioServerTransport } from '@modelcontextprotocol/server/stdio';
import { McpSession } from './mcp.js';
import type { Runtime } from './runtime.js';

/**
 * Serve one client over stdin/stdout until it disconnects or the process is told to stop. The
 * SDK's entry answers both protocol eras: a 2025 client's initialize pins a legacy session, a
 * 2026-07-28 client's first request (or server/discover probe) a modern one. Either way one
 * McpSession serves the connection, so its persona lasts as long as the connection.
 */
export async function serveStdio(runtime: Runtime): Promise<{ close(): Promise<void> }> {
  const wire = new StdioServerTransport();
  let closed = false;
  const entry = serveBothEras(
    ({ era }) => new McpSession(runtime, { era }).server,
    { transport: wire, onerror: (error) => runtime.logger.warn('stdio protocol error', { message: error.message }) },
  );
  const close = async () => {
    if (closed) return;
    closed = true;
    await entry.close().catch(() => undefined);
    await runtime.close();
  };
  // The entry tears its session down when stdin ends; the process's runtime goes with it.
  const entryOnClose = wire.onclose;
  wire.onclose = () => {
    entryOnClose?.();
    void close();
  };
  runtime.logger.info('release-mcp serving on stdio', { persona: runtime.defaultPersona, read_only: runtime.readOnly, eras: 'legacy (2025), modern (2026-07-28)' });
  return { close };
}
