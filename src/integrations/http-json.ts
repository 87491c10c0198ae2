import { ToolError } from '../errors.js';
import { requestFailureToToolError, statusToToolError } from './http-errors.js';

export interface JsonRequest {
  service: string;
  /** What is asked, for messages. */
  what: string;
  token?: string | undefined;
  timeoutMs: number;
  /** The caller's cancel signal (ctx.signal). */
  signal?: AbortSignal;
  authHint: string;
  networkHint?: string;
  /** fetch with the configured CA trust (default: Node's). */
  fetch?: typeof fetch;
}

/** The message a JSON error body carries (Quay: detail/error_message; Prometheus: error; others: message). */
export function bodyMessage(body: unknown): string | undefined {
  if (!body || typeof body !== 'object') return typeof body === 'string' && body.trim() ? body.trim().slice(0, 300) : undefined;
  const b = body as Record<string, unknown>;
  for (const key of ['error_message', 'detail', 'message', 'error']) {
    if (typeof b[key] === 'string' && (b[key] as string).trim()) return (b[key] as string).slice(0, 300);
  }
  return undefined;
}

/** GET a JSON document with a timeout and the caller's cancel; every failure becomes a ToolError. */
export async function getJson<T>(url: string, request: JsonRequest): Promise<T> {
  const timeout = AbortSignal.timeout(request.timeoutMs);
  const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (request.token) headers.authorization = `Bearer ${request.token}`;
  let response: Response;
  let text: string;
  try {
    response = await (request.fetch ?? fetch)(url, { headers, signal });
    text = await response.text();
  } catch (error) {
    throw requestFailureToToolError(error, {
      service: request.service,
      what: request.what,
      timeoutMs: request.timeoutMs,
      cancelled: request.signal?.aborted ?? false,
      timedOut: timeout.aborted,
      ...(request.networkHint ? { networkHint: request.networkHint } : {}),
    });
  }
  let body: unknown = undefined;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  if (!response.ok) {
    const message = bodyMessage(body);
    throw statusToToolError(response.status, {
      service: request.service,
      what: request.what,
      authHint: request.authHint,
      ...(message ? { body: message } : {}),
      retryAfter: response.headers.get('retry-after'),
    });
  }
  if (body === undefined || typeof body === 'string') {
    throw new ToolError('upstream', `${request.service} answered ${request.what} with something that is not JSON`, { details: { status: response.status } });
  }
  return body as T;
}
