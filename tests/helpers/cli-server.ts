import { spawn, type ChildProcess } from 'node:child_process';

export interface CliHttpServer {
  url: string;
  /** Everything the server wrote to stderr so far (its log). */
  stderr(): string;
  stop(): Promise<void>;
}

/** `node dist/cli.js serve --http --port 0 ...` as its own process; resolves with the URL it prints. */
export function startCliHttpServer(cli: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 30_000): Promise<CliHttpServer> {
  const child: ChildProcess = spawn(process.execPath, [cli, 'serve', '--http', '--port', '0', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`the HTTP server printed no URL within ${timeoutMs} ms; its log:\n${log}`));
    }, timeoutMs);
    child.stderr!.on('data', (chunk: Buffer) => {
      log += chunk.toString('utf8');
      const url = /release-mcp listening on (\S+)/.exec(log)?.[1];
      if (url) {
        clearTimeout(timer);
        resolve({ url, stderr: () => log, stop });
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the HTTP server exited (${code ?? signal}) before listening; its log:\n${log}`));
    });
  });
}
