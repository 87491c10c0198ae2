/**
 * GET /api/openapi.json: an OpenAPI 3.1 document generated from the REST API's zod schemas
 * (z.toJSONSchema over one registry, so shared parts are $refs to components.schemas).
 */
import { z } from 'zod';
import { VERSION } from '../version.js';
import {
  envelope,
  errorBodySchema,
  listQuerySchema,
  prepareRequestSchema,
  promotionAcceptedSchema,
  releaseIdSchema,
  releaseListSchema,
  releaseRefRequestSchema,
  releaseSummarySchema,
  releaseViewSchema,
  rollbackViewSchema,
} from './rest-schemas.js';

/** Request bodies: described as a client may send them (defaults optional). */
export const OPENAPI_REQUEST_SCHEMAS = {
  PrepareRequest: prepareRequestSchema,
  ReleaseRefRequest: releaseRefRequestSchema,
} as const;

/** Response bodies: described as the server sends them (every field present). */
export const OPENAPI_RESPONSE_SCHEMAS = {
  ReleaseView: releaseViewSchema,
  ReleaseSummary: releaseSummarySchema,
  ReleaseList: releaseListSchema,
  RollbackView: rollbackViewSchema,
  PromotionAccepted: promotionAcceptedSchema,
  PrepareResponse: envelope(releaseViewSchema),
  PromoteResponse: envelope(releaseViewSchema),
  PromoteAcceptedResponse: envelope(promotionAcceptedSchema),
  RollbackResponse: envelope(rollbackViewSchema),
  ListResponse: envelope(releaseListSchema),
  GetResponse: envelope(releaseViewSchema),
  Error: errorBodySchema,
} as const;

export type OpenApiSchemaName = keyof typeof OPENAPI_REQUEST_SCHEMAS | keyof typeof OPENAPI_RESPONSE_SCHEMAS;

type JsonSchema = Record<string, unknown>;

/** One registry per direction, so shared parts become $refs to components.schemas. */
function componentSchemas(named: Record<string, z.ZodType>, io: 'input' | 'output'): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(named)) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, { io, uri: (id) => `#/components/schemas/${id}` });
  const out: Record<string, JsonSchema> = {};
  for (const [id, schema] of Object.entries(schemas)) {
    const { $schema: _dialect, $id: _id, ...rest } = schema as JsonSchema;
    out[id] = rest;
  }
  return out;
}

const ref = (name: OpenApiSchemaName) => ({ $ref: `#/components/schemas/${name}` });
const json = (name: OpenApiSchemaName) => ({ content: { 'application/json': { schema: ref(name) } } });

const ERRORS = {
  '400': 'Invalid request: the message names each field',
  '401': 'Missing or invalid bearer token',
  '403': 'Role may not do this, or X-Tenant-Slug names another tenant',
  '404': 'No such release in your tenant',
  '409': 'Refused by the release state (transition, schema drift, dry run, data loss, a running promotion)',
  '413': 'Request body too large',
  '429': 'Too many failed authentications from this address (Retry-After)',
  '500': 'Server-side failure (configuration named in the message, or internal)',
} as const;

function errors(...codes: Array<keyof typeof ERRORS>) {
  return Object.fromEntries(codes.map((code) => [code, { description: ERRORS[code], ...json('Error') }]));
}

const tenantHeader = {
  name: 'X-Tenant-Slug',
  in: 'header',
  required: true,
  description: "The tenant of the bearer token; another tenant's slug is refused with 403 (and audited)",
  schema: { type: 'string' },
};

/** Query parameters from the list schema's properties. */
function queryParameters(): JsonSchema[] {
  const schema = z.toJSONSchema(listQuerySchema, { io: 'input' }) as { properties: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(schema.properties).map(([name, s]) => ({ name, in: 'query', required: schema.required?.includes(name) ?? false, schema: s, ...(s.description ? { description: s.description } : {}) }));
}

let cached: JsonSchema | undefined;

export function openApiDocument(): JsonSchema {
  cached ??= {
    openapi: '3.1.0',
    info: { title: 'release-mcp REST API', version: VERSION, description: 'Staged releases (seed 003): prepare, promote, roll back, list and read releases of your tenant.' },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    security: [{ bearer: [] }],
    paths: {
      '/api/releases/prepare': {
        post: {
          operationId: 'prepareRelease',
          summary: 'Check the path, plan and dry-run the migrations, store the manifest as prepared (admin)',
          parameters: [tenantHeader],
          requestBody: { required: true, ...json('PrepareRequest') },
          responses: { '201': { description: 'Prepared', ...json('PrepareResponse') }, ...errors('400', '401', '403', '409', '413', '429', '500') },
        },
      },
      '/api/releases/promote': {
        post: {
          operationId: 'promoteRelease',
          summary: 'Back up the target, apply migrations and flags, run the promotion skill, mark promoted (admin)',
          parameters: [tenantHeader],
          requestBody: { required: true, ...json('ReleaseRefRequest') },
          responses: {
            '200': { description: 'Promoted: the final state', ...json('PromoteResponse') },
            '202': {
              description: 'Still running after http.promote_wait_ms: poll the Location',
              headers: { Location: { description: '/api/releases/{release_id}', schema: { type: 'string' } } },
              ...json('PromoteAcceptedResponse'),
            },
            ...errors('400', '401', '403', '404', '409', '413', '429', '500'),
          },
        },
      },
      '/api/releases/rollback': {
        post: {
          operationId: 'rollbackRelease',
          summary: 'Run the rollback SQL, restore the flags, mark rolled_back (admin)',
          parameters: [tenantHeader],
          requestBody: { required: true, ...json('ReleaseRefRequest') },
          responses: { '200': { description: 'Rolled back', ...json('RollbackResponse') }, ...errors('400', '401', '403', '404', '409', '413', '429', '500') },
        },
      },
      '/api/releases/': {
        get: {
          operationId: 'listReleases',
          summary: "Your tenant's releases, newest first",
          parameters: [tenantHeader, ...queryParameters()],
          responses: { '200': { description: 'Releases', ...json('ListResponse') }, ...errors('400', '401', '403', '429', '500') },
        },
      },
      '/api/releases/{release_id}': {
        get: {
          operationId: 'getRelease',
          summary: 'The manifest of a release',
          parameters: [tenantHeader, { name: 'release_id', in: 'path', required: true, schema: z.toJSONSchema(releaseIdSchema, { io: 'input' }) }].map(stripDialect),
          responses: { '200': { description: 'Manifest', ...json('GetResponse') }, ...errors('400', '401', '403', '404', '429', '500') },
        },
      },
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'A token of http.tokens (or --http-token); it names the role and tenant' } },
      schemas: { ...componentSchemas(OPENAPI_REQUEST_SCHEMAS, 'input'), ...componentSchemas(OPENAPI_RESPONSE_SCHEMAS, 'output') },
    },
  };
  return cached;
}

function stripDialect<T extends { schema?: unknown }>(parameter: T): T {
  if (!parameter.schema || typeof parameter.schema !== 'object') return parameter;
  const { $schema: _dialect, ...schema } = parameter.schema as JsonSchema;
  return { ...parameter, schema };
}
