import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

/** A request as an emulator route sees it. */
export interface EmulatedRequest {
  method: string;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  /** Parsed JSON when the body is JSON, the raw text otherwise, undefined when empty. */
  body: unknown;
  rawBody: string;
}

export interface EmulatedResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type RouteHandler = (req: EmulatedRequest) => EmulatedResponse | Promise<EmulatedResponse>;

/** A fault for the next `times` matching requests: an error status, a delay, or a dropped connection. */
export interface Fault {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  delayMs?: number;
  /** Destroy the socket without answering. */
  drop?: boolean;
  times?: number;
  /** Only requests whose `METHOD path` matches. */
  match?: RegExp;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: string;
  headers: IncomingMessage['headers'];
  body: unknown;
  status: number;
}

export interface StartOptions {
  tls?: { key: string; cert: string };
}

interface Route {
  method: string;
  pattern: RegExp;
  keys: string[];
  handler: RouteHandler;
}

/** `/api/v4/projects/:id/merge_requests` -> a regex with named segments (`:id` matches one segment). */
function compile(path: string): { pattern: RegExp; keys: string[] } {
  const keys: string[] = [];
  const source = path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:(\w+)(\\\*)?/g, (_m, key: string, star?: string) => {
    keys.push(key);
    return star ? '(.+)' : '([^/]+)';
  });
  return { pattern: new RegExp(`^${source}/?$`), keys };
}

/**
 * The shared core of the service emulators: routing, JSON bodies, a request log, and fault
 * injection. Each emulator adds the real service's paths, status codes and error bodies.
 */
export class EmulatorServer {
  readonly requests: RecordedRequest[] = [];
  private readonly routes: Route[] = [];
  private readonly faults: Fault[] = [];
  private readonly sockets = new Set<Socket>();
  private server: Server | undefined;
  private baseUrl = '';

  constructor(private readonly name: string) {}

  get url(): string {
    if (!this.baseUrl) throw new Error(`${this.name} emulator is not started`);
    return this.baseUrl;
  }

  route(method: string, path: string, handler: RouteHandler): this {
    this.routes.push({ method: method.toUpperCase(), ...compile(path), handler });
    return this;
  }

  /** Inject a fault for the next N matching requests (default 1). */
  inject(fault: Fault): this {
    this.faults.push({ times: 1, ...fault });
    return this;
  }

  /** Injected faults not yet taken by a request (a delayed request takes its fault when it arrives). */
  get pendingFaults(): number {
    return this.faults.length;
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  /** Requests whose `METHOD path` matches. */
  requestsMatching(match: RegExp): RecordedRequest[] {
    return this.requests.filter((r) => match.test(`${r.method} ${r.path}`));
  }

  /** Listen on 127.0.0.1; with `tls` (PEM key and certificate) over HTTPS, as a service behind a private CA is. */
  async start(options: StartOptions = {}): Promise<string> {
    const handler = (req: IncomingMessage, res: ServerResponse) => void this.handle(req, res);
    this.server = options.tls ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert }, handler) : createServer(handler);
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.baseUrl = `${options.tls ? 'https' : 'http'}://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.baseUrl;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = undefined;
  }

  private takeFault(method: string, path: string): Fault | undefined {
    const index = this.faults.findIndex((f) => !f.match || f.match.test(`${method} ${path}`));
    if (index < 0) return undefined;
    const fault = this.faults[index]!;
    fault.times = (fault.times ?? 1) - 1;
    if (fault.times <= 0) this.faults.splice(index, 1);
    return fault;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const method = (req.method ?? 'GET').toUpperCase();
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const rawBody = Buffer.concat(chunks).toString('utf8');
    let body: unknown = rawBody || undefined;
    if (rawBody && /json/i.test(req.headers['content-type'] ?? '')) {
      try {
        body = JSON.parse(rawBody);
      } catch {
        body = rawBody;
      }
    }
    const record = (status: number) => this.requests.push({ method, path: url.pathname, query: url.search, headers: req.headers, body, status });

    const fault = this.takeFault(method, url.pathname);
    if (fault?.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
    if (fault?.drop) {
      record(0);
      req.socket.destroy();
      return;
    }
    if (fault?.status) {
      record(fault.status);
      return this.send(res, { status: fault.status, body: fault.body ?? { message: `injected ${fault.status}` }, ...(fault.headers ? { headers: fault.headers } : {}) });
    }

    for (const route of this.routes) {
      if (route.method !== method) continue;
      const match = route.pattern.exec(url.pathname);
      if (!match) continue;
      const params = Object.fromEntries(route.keys.map((key, i) => [key, decodeURIComponent(match[i + 1]!)]));
      try {
        const response = await route.handler({ method, path: url.pathname, params, query: url.searchParams, headers: req.headers, body, rawBody });
        record(response.status);
        return this.send(res, response);
      } catch (error) {
        record(500);
        return this.send(res, { status: 500, body: { message: `${this.name} emulator error: ${(error as Error).message}` } });
      }
    }
    record(404);
    this.send(res, { status: 404, body: { message: '404 Not Found' } });
  }

  private send(res: ServerResponse, response: EmulatedResponse): void {
    const isText = typeof response.body === 'string';
    const payload = response.body === undefined ? '' : isText ? (response.body as string) : JSON.stringify(response.body);
    res.writeHead(response.status, {
      ...(response.body === undefined ? {} : { 'content-type': isText ? 'text/plain' : 'application/json' }),
      ...response.headers,
    });
    res.end(payload);
  }
}

/** What every service emulator offers besides its own state: start, stop, url, faults and the request log. */
export abstract class ServiceEmulator {
  readonly server: EmulatorServer;

  constructor(name: string) {
    this.server = new EmulatorServer(name);
  }

  get url(): string {
    return this.server.url;
  }

  start(options: StartOptions = {}): Promise<string> {
    return this.server.start(options);
  }

  stop(): Promise<void> {
    return this.server.stop();
  }

  /** Inject a fault for the next N matching requests. */
  inject(fault: Fault): this {
    this.server.inject(fault);
    return this;
  }

  /** Between tests: no pending faults, an empty request log (the service's state stays). */
  reset(): void {
    this.server.clearFaults();
    this.server.requests.length = 0;
  }
}
