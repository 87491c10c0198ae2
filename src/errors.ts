/** The error codes a tool can fail with; the registry reports them as `isError` results. */
export const ERROR_CODES = [
  'invalid_input',
  'not_found',
  'auth',
  'forbidden',
  'conflict',
  'rate_limited',
  'network',
  'timeout',
  'upstream',
  'config',
  'precondition',
  'cancelled',
  'internal',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** Codes worth retrying: the same call may succeed a moment later. */
export const TRANSIENT_CODES: ReadonlySet<ErrorCode> = new Set(['network', 'timeout', 'rate_limited', 'upstream']);

/**
 * Whether the same call may succeed a moment later. A certificate that cannot be verified is a
 * `network` failure, but no retry fixes it: it needs tls.ca_file or a new certificate.
 */
export function isTransient(error: Pick<ToolErrorJSON, 'code' | 'details'>): boolean {
  return TRANSIENT_CODES.has(error.code) && !isCertificateFailure(error);
}

/** A server certificate that could not be verified (integrations/http-errors.ts marks it so). */
export function isCertificateFailure(error: Pick<ToolErrorJSON, 'details'>): boolean {
  return error.details?.certificate === true;
}

export interface ToolErrorOptions {
  hint?: string;
  details?: Record<string, unknown>;
  cause?: unknown;
  /** Seconds the caller should wait before retrying (from Retry-After). */
  retryAfter?: number;
}

/** The one failure type of tools and the logic beneath them. */
export class ToolError extends Error {
  override readonly name = 'ToolError';
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown> | undefined;
  readonly retryAfter: number | undefined;

  constructor(code: ErrorCode, message: string, options: ToolErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options.hint;
    this.details = options.details;
    this.retryAfter = options.retryAfter;
  }

  toJSON(): ToolErrorJSON {
    return {
      code: this.code,
      message: this.message,
      ...(this.hint ? { hint: this.hint } : {}),
      ...(this.details ? { details: this.details } : {}),
      ...(this.retryAfter !== undefined ? { retry_after: this.retryAfter } : {}),
    };
  }
}

export interface ToolErrorJSON {
  code: ErrorCode;
  message: string;
  hint?: string;
  details?: Record<string, unknown>;
  retry_after?: number;
}

export function isToolError(value: unknown): value is ToolError {
  return value instanceof ToolError;
}

/** Anything thrown becomes a ToolError; unknown throwables are `internal`, never success. */
export function toToolError(value: unknown): ToolError {
  if (isToolError(value)) return value;
  if (value instanceof Error && value.name === 'AbortError') {
    return new ToolError('cancelled', 'the call was cancelled', { cause: value });
  }
  const message = value instanceof Error ? value.message : String(value);
  return new ToolError('internal', message || 'unexpected error', { cause: value });
}
