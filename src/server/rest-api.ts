/**
 * The REST API of seed 003 under /api: POST /api/releases/prepare|promote|rollback,
 * GET /api/releases/ and GET /api/releases/{id}, GET /api/openapi.json. Bearer token ->
 * principal; X-Tenant-Slug must name the token's tenant. Answers `{success: true, data}` or
 * `{success: false, error: {code, message}}` with the matching HTTP status.
 */
import { Hono, type MiddlewareHandler } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ERROR_CODES, ToolError, type ErrorCode } from '../errors.js';
import { redactValue } from '../masking.js';
import { recordEvent } from '../releases/index.js';
import { bearerAuth, HttpProblem, type BearerAuth, type HttpContext, type HttpEnv } from './http-middleware.js';
import { openApiDocument } from './openapi.js';
import { ReleaseActions, releaseSummary, releaseView, validate } from './release-actions.js';
import { listQuerySchema, prepareRequestSchema, releaseIdSchema, releaseRefRequestSchema } from './rest-schemas.js';
import type { Runtime } from './runtime.js';

export const REST_PREFIX = '/api';
export const TENANT_HEADER = 'x-tenant-slug';

/** HTTP status of each error code of the service. */
const STATUS: Record<ErrorCode, ContentfulStatusCode> = {
  invalid_input: 400,
  auth: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  precondition: 409,
  cancelled: 409,
  rate_limited: 429,
  config: 500,
  internal: 500,
  network: 502,
  upstream: 502,
  timeout: 504,
};

const statusUrl = (id: string) => `${REST_PREFIX}/releases/${id}`;

/** `{success: false, error}` for any failure; anything but a known refusal is a bare 500 (details go to the log only). */
export function restError(runtime: Runtime, c: HttpContext, error: unknown): Response {
  if (error instanceof HttpProblem) {
    return c.json({ success: false, error: { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) } }, error.status as ContentfulStatusCode, error.headers);
  }
  if (error instanceof ToolError && (ERROR_CODES as readonly string[]).includes(error.code) && error.code !== 'internal') {
    const body = redactValue({ success: false, error: error.toJSON() }, runtime.secretValues);
    const headers: Record<string, string> = error.retryAfter !== undefined ? { 'retry-after': String(error.retryAfter) } : {};
    return c.json(body, STATUS[error.code], headers);
  }
  runtime.logger.error('REST request failed', { path: c.req.path, message: (error as Error).message });
  return c.json({ success: false, error: { code: 'internal', message: 'internal server error' } }, 500);
}

/**
 * X-Tenant-Slug is required on every release call (seed 003 sends it with each) and must name
 * the token's tenant: a mistyped slug is refused rather than acted on in another tenant's name.
 * A mismatch is audited as `access.refused`.
 */
function tenantSlug(runtime: Runtime): MiddlewareHandler<HttpEnv> {
  return async (c, next) => {
    const principal = c.get('principal');
    const slug = c.req.header(TENANT_HEADER)?.trim();
    if (!slug) throw new HttpProblem(400, `X-Tenant-Slug header is required: the tenant of your token`, {}, 'invalid_input');
    if (slug !== principal.tenant) {
      try {
        await recordEvent(runtime.memory, { event: 'access.refused', actor: principal, details: { path: c.req.path, reason: 'X-Tenant-Slug names another tenant', tenant: slug.slice(0, 100) } });
      } catch (error) {
        runtime.logger.warn('cannot record a refused request', { message: (error as Error).message });
      }
      throw new HttpProblem(403, `X-Tenant-Slug "${slug.slice(0, 100)}" is not the tenant of your token`, {}, 'forbidden');
    }
    await next();
  };
}

export interface RestOptions {
  auth: BearerAuth;
  /** Reads the JSON body (413 over the size limit, 400 not JSON), once the caller is known. */
  readBody: MiddlewareHandler<HttpEnv>;
  /** How long promote waits for the promotion before answering 202. */
  promoteWaitMs: number;
}

export interface RestApi {
  app: Hono<HttpEnv>;
  /** Wait for every promotion under way to end (at close). */
  settle(): Promise<void>;
}

export function restApi(runtime: Runtime, options: RestOptions): RestApi {
  const actions = new ReleaseActions(runtime);
  /** Promotions under way (waited for, or answered 202), by tenant and release id. */
  const running = new Map<string, Promise<unknown>>();
  const keyOf = (tenant: string, id: string) => `${tenant}\n${id}`;
  const ok = (c: HttpContext, data: unknown, status: ContentfulStatusCode = 200, headers: Record<string, string> = {}) =>
    c.json({ success: true, data: redactValue(data, runtime.secretValues) }, status, headers);

  const app = new Hono<HttpEnv>();
  app.get('/openapi.json', (c) => c.json(openApiDocument()));

  // Full paths on one app: GET /api/releases/ (seed 003, trailing slash) and /api/releases both list.
  app.use('/releases/*', bearerAuth(options.auth, `${REST_PREFIX}/releases`), tenantSlug(runtime), options.readBody);

  app.post('/releases/prepare', async (c) => {
    const body = validate(prepareRequestSchema, c.get('body'), 'request body');
    const release = await actions.prepare(c.get('principal'), body);
    return ok(c, releaseView(release), 201, { location: statusUrl(release.id) });
  });

  app.post('/releases/promote', async (c) => {
    const principal = c.get('principal');
    const { release_id: id } = validate(releaseRefRequestSchema, c.get('body'), 'request body');
    const key = keyOf(principal.tenant, id);
    if (running.has(key)) throw new ToolError('conflict', `a promotion of ${id} is already running`, { hint: `GET ${statusUrl(id)} shows how it ends` });
    // Tracked from the start: a second promote or a rollback of it is refused while it runs.
    const outcome = actions.promote(principal, id).then(
      (release) => ({ release }),
      (error: unknown) => ({ error }),
    );
    running.set(
      key,
      outcome.finally(() => running.delete(key)),
    );
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), options.promoteWaitMs)));
    const settled = await Promise.race([outcome, waited]);
    clearTimeout(timer);
    if (settled) {
      if ('error' in settled) throw settled.error;
      return ok(c, releaseView(settled.release));
    }
    // Still running (its promotion skill takes long): it goes on here, the client polls the status URL.
    void outcome.then((result) => {
      if ('error' in result) runtime.logger.warn('promotion answered 202 failed', { release_id: id, message: (result.error as Error).message });
      else runtime.logger.info('promotion answered 202 ended', { release_id: id, status: result.release.status });
    });
    return ok(c, { release_id: id, status: 'promoting', status_url: statusUrl(id) }, 202, { location: statusUrl(id) });
  });

  app.post('/releases/rollback', async (c) => {
    const principal = c.get('principal');
    const { release_id: id } = validate(releaseRefRequestSchema, c.get('body'), 'request body');
    if (running.has(keyOf(principal.tenant, id))) throw new ToolError('conflict', `a promotion of ${id} is still running`, { hint: `wait for it: GET ${statusUrl(id)}` });
    const { release, reverted_migrations } = await actions.rollback(principal, id);
    return ok(c, { ...releaseView(release), rolled_back: true, reverted_migrations });
  });

  const list = async (c: HttpContext) => {
    const query = validate(listQuerySchema, c.req.query(), 'query');
    const rows = (await actions.list(c.get('principal'), query)).map(releaseSummary);
    return ok(c, { releases: rows, count: rows.length });
  };
  app.get('/releases/', list);
  app.get('/releases', list);

  app.get('/releases/:id', async (c) => {
    const principal = c.get('principal');
    const id = validate(releaseIdSchema, c.req.param('id'), 'release id in the path');
    const release = await actions.get(principal, id);
    return ok(c, releaseView(release, running.has(keyOf(principal.tenant, id))));
  });

  return {
    app,
    settle: async () => {
      await Promise.allSettled([...running.values()]);
    },
  };
}
