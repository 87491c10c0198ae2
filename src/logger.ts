import { redactSecrets } from './masking.js';

/** Logs go to stderr: in stdio mode stdout belongs to the protocol. Secrets are masked on the way out. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export { redactSecrets, redactValue } from './masking.js';

export function createLogger(options: { level?: LogLevel; secrets?: readonly string[]; write?: (line: string) => void } = {}): Logger {
  const threshold = LEVELS[options.level ?? 'info'];
  const secrets = options.secrets ?? [];
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const log = (level: LogLevel) => (message: string, fields?: Record<string, unknown>) => {
    if (LEVELS[level] < threshold) return;
    const suffix = fields && Object.keys(fields).length ? ` ${JSON.stringify(fields)}` : '';
    write(redactSecrets(`${new Date().toISOString()} ${level} ${message}${suffix}`, secrets));
  };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
