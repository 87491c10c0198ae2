import { serveStdio as serveBothEras, StdioServerTransport } from '@modelcontextprotocol/server/stdio';
import { McpSession } from './mcp.js';
import type { Runtime } from './runtime.js';

/** Input this long quiet after the handshake, and the memory opens... */
const HANDSHAKE_QUIET_MS = 10;
/** ...or this long after the handshake, whatever the client sends. */
const HANDSHAKE_MAX_WAIT_MS = 500;

export interface StdioOptions {
  /** The memory could not open (see below): the server has stopped serving; this hears why (default: logged). */
  onMemoryFailure?: (error: unknown) => void;
}

/**
 * Serve one client over stdin/stdout until it disconnects or the process is told to stop. The
 * SDK's entry answers both protocol eras: a 2025 client's initialize pins a legacy session, a
 * 2026-07-28 client's first request (or server/discover probe) a modern one. Either way one
 * McpSession serves the connection, so its persona lasts as long as the connection.
 *
 * A runtime whose memory opens when asked (RuntimeOptions.openMemoryWhenAsked) opens it just
 * after the handshake (a 2025 client's `initialized`, a 2026-07-28 client's first request), once
 * the requests the client sends with it are answered, so that its tool list does not wait for the
 * memory. A call that needs the memory opens it at once. If it cannot open, the server stops
 * serving and `onMemoryFailure` hears why.
 */
export async function serveStdio(runtime: Runtime, options: StdioOptions = {}): Promise<{ close(): Promise<void> }> {
  const wire = new StdioServerTransport();
  let closed = false;
  let opening: Promise<void> | undefined;
  const openMemory = () => {
    stopWatching();
    opening ??= runtime.ready().catch(async (error: unknown) => {
      await close();
      if (options.onMemoryFailure) options.onMemoryFailure(error);
      else runtime.logger.error('the memory could not open: the server stopped serving', { message: (error as Error).message });
    });
  };
  // After the handshake a client sends its first requests (tools/list, prompts/list...) in a
  // burst: the memory opens once input has been quiet for a moment, or when a call needs it.
  let quiet: NodeJS.Timeout | undefined;
  let deadline: NodeJS.Timeout | undefined;
  const stopWatching = () => {
    clearTimeout(quiet);
    clearTimeout(deadline);
    process.stdin.off('data', restartQuiet);
  };
  function restartQuiet(): void {
    clearTimeout(quiet);
    quiet = setTimeout(openMemory, HANDSHAKE_QUIET_MS);
  }
  const openMemorySoon = () => {
    if (opening || deadline) return;
    deadline = setTimeout(openMemory, HANDSHAKE_MAX_WAIT_MS);
    process.stdin.on('data', restartQuiet);
    restartQuiet();
  };
  const entry = serveBothEras(
    ({ era }) => {
      const { server } = new McpSession(runtime, { era });
      if (era === 'modern') openMemorySoon();
      else server.oninitialized = openMemorySoon;
      return server;
    },
    { transport: wire, onerror: (error) => runtime.logger.warn('stdio protocol error', { message: error.message }) },
  );
  const close = async () => {
    if (closed) return;
    closed = true;
    stopWatching();
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
