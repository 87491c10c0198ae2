import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeObject } from '../../src/integrations/kube.js';
import type { KubeCondition } from '../../src/integrations/konflux-status.js';
import { ServiceEmulator, type EmulatedRequest, type EmulatedResponse } from './base.js';

const GROUP = 'appstudio.redhat.com';
const VERSION = 'v1alpha1';
const KINDS: Record<string, string> = { applications: 'Application', components: 'Component', snapshots: 'Snapshot', releases: 'Release', releaseplans: 'ReleasePlan', pipelineruns: 'PipelineRun' };
/** API group and version of each resource: the Konflux CRDs, and Tekton's PipelineRuns (tekton.dev/v1). */
const GROUP_VERSION: Record<string, string> = { pipelineruns: 'tekton.dev/v1' };
const groupVersionOf = (plural: string) => GROUP_VERSION[plural] ?? `${GROUP}/${VERSION}`;
const REQUIRED_SPEC: Record<string, string[]> = { releases: ['snapshot', 'releasePlan'], snapshots: ['application'], components: ['application'], releaseplans: ['application'] };

/** A Kubernetes `Status` failure body, as the API server returns it. */
export function kubeStatus(code: number, reason: string, message: string, details?: Record<string, unknown>): EmulatedResponse {
  return { status: code, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code } };
}

type Requirement = (labels: Record<string, string>) => boolean;

/** Equality-based label selectors: `k=v`, `k==v`, `k!=v`, `k`, `!k`, comma-separated (ANDed). */
export function parseLabelSelector(selector: string): Requirement[] | string {
  const requirements: Requirement[] = [];
  for (const raw of selector.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^(!)?([\w./-]+)\s*(?:(!=|==|=)\s*([\w.-]*))?$/.exec(raw);
    if (!m) return `unable to parse requirement: ${raw}`;
    const [, not, key, op, value] = m;
    if (not && op) return `unable to parse requirement: ${raw}`;
    if (not) requirements.push((l) => !(key! in l));
    else if (!op) requirements.push((l) => key! in l);
    else if (op === '!=') requirements.push((l) => l[key!] !== value);
    else requirements.push((l) => l[key!] === value);
  }
  return requirements;
}

const SUFFIX_CHARS = 'bcdfghjklmnpqrstvwxz2456789';
const randomSuffix = () => Array.from({ length: 5 }, () => SUFFIX_CHARS[Math.floor(Math.random() * SUFFIX_CHARS.length)]).join('');

/**
 * Kubernetes API server subset for the appstudio.redhat.com/v1alpha1 resources and tekton.dev/v1
 * pipelineruns: namespaced list (labelSelector; limit with a `metadata.continue` token, 400 for a
 * malformed token and 410 for one from an older resourceVersion), get, create (generateName), and
 * Status bodies for 401/403/404/409/422.
 */
export class KubeEmulator extends ServiceEmulator {
  readonly tokens = new Set<string>(['kube-test-token']);
  /** Namespaces the token may not touch (403). */
  readonly forbiddenNamespaces = new Set<string>();
  private readonly objects = new Map<string, KubeObject>();
  /** Continue tokens from a resourceVersion below this are expired (410), as after an etcd compaction. */
  compactedBelow = 0;
  /** Each list page served: which resource, whether it followed a continue token, how many items. */
  readonly listPages: Array<{ plural: string; continued: boolean; count: number }> = [];
  private resourceVersion = 1000;
  private clock = Date.parse('2026-01-01T00:00:00Z');

  constructor() {
    super('kube');
    const base = `/apis/:group/:version/namespaces/:ns/:plural`;
    this.server.route('GET', base, (req) => this.guard(req, 'list', () => this.list(req)));
    this.server.route('POST', base, (req) => this.guard(req, 'create', () => this.create(req)));
    this.server.route('GET', `${base}/:name`, (req) => this.guard(req, 'get', () => this.get(req)));
  }

  /** A kubeconfig file (in a temp dir) pointing at this emulator with a bearer token. */
  kubeconfigFor(token: string, namespace = 'aap-aa-tenant'): string {
    const dir = mkdtempSync(join(tmpdir(), 'kubeconfig-'));
    const path = join(dir, 'config');
    writeFileSync(
      path,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        '- name: emulator',
        '  cluster:',
        `    server: ${this.url}`,
        '    insecure-skip-tls-verify: true',
        'users:',
        '- name: tester',
        '  user:',
        `    token: ${token}`,
        'contexts:',
        '- name: emulator',
        '  context:',
        '    cluster: emulator',
        '    user: tester',
        `    namespace: ${namespace}`,
        'current-context: emulator',
        '',
      ].join('\n'),
    );
    return path;
  }

  /** Store an object as if created earlier (creationTimestamp may be given to order them). */
  seed(plural: string, obj: { metadata: Partial<KubeObject['metadata']> & { name: string }; spec?: Record<string, unknown>; status?: Record<string, unknown> }, namespace = 'aap-aa-tenant'): KubeObject {
    const ns = obj.metadata.namespace ?? namespace;
    const stored = this.stamp(plural, { ...obj, metadata: { ...obj.metadata, namespace: ns } } as KubeObject);
    this.objects.set(this.key(plural, ns, stored.metadata.name), stored);
    return stored;
  }

  find(plural: string, namespace: string, name: string): KubeObject | undefined {
    return this.objects.get(this.key(plural, namespace, name));
  }

  all(plural: string, namespace: string): KubeObject[] {
    return [...this.objects.values()].filter((o) => o.kind === KINDS[plural] && o.metadata.namespace === namespace);
  }

  /** Set (or replace) a condition on a Release's status, as the release controller does. */
  setReleaseCondition(namespace: string, name: string, condition: Omit<KubeCondition, 'lastTransitionTime'>, status: Record<string, unknown> = {}): KubeObject {
    const release = this.find('releases', namespace, name);
    if (!release) throw new Error(`no release ${namespace}/${name}`);
    const conditions = ((release.status?.conditions as KubeCondition[] | undefined) ?? []).filter((c) => c.type !== condition.type);
    conditions.push({ ...condition, lastTransitionTime: new Date().toISOString() });
    release.status = { ...release.status, ...status, conditions };
    release.metadata.resourceVersion = String(++this.resourceVersion);
    return release;
  }

  private key(plural: string, ns: string, name: string): string {
    return `${plural}/${ns}/${name}`;
  }

  private stamp(plural: string, obj: KubeObject): KubeObject {
    this.clock += 60_000;
    return {
      ...obj,
      apiVersion: groupVersionOf(plural),
      kind: KINDS[plural]!,
      metadata: {
        creationTimestamp: new Date(this.clock).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        ...obj.metadata,
        uid: randomUUID(),
        resourceVersion: String(++this.resourceVersion),
      },
    };
  }

  private guard(req: EmulatedRequest, verb: string, next: () => EmulatedResponse): EmulatedResponse {
    const auth = req.headers.authorization;
    const token = auth?.startsWith('Bearer ') ? auth.slice(7) : undefined;
    if (!token || !this.tokens.has(token)) return kubeStatus(401, 'Unauthorized', 'Unauthorized');
    const { ns, plural, group, version } = req.params as { ns: string; plural: string; group: string; version: string };
    if (!KINDS[plural] || groupVersionOf(plural) !== `${group}/${version}`) return kubeStatus(404, 'NotFound', 'the server could not find the requested resource', {});
    if (this.forbiddenNamespaces.has(ns)) {
      return kubeStatus(403, 'Forbidden', `${plural}.${GROUP} is forbidden: User "tester" cannot ${verb} resource "${plural}" in API group "${GROUP}" in the namespace "${ns}"`, {
        group: GROUP,
        kind: plural,
      });
    }
    return next();
  }

  private list(req: EmulatedRequest): EmulatedResponse {
    const { ns, plural } = req.params as { ns: string; plural: string };
    const selector = req.query.get('labelSelector');
    const requirements = selector ? parseLabelSelector(selector) : [];
    if (typeof requirements === 'string') return kubeStatus(400, 'BadRequest', requirements);
    const items = this.all(plural, ns)
      .filter((o) => requirements.every((r) => r(o.metadata.labels ?? {})))
      .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
    // Paging: the continue token carries the list's resourceVersion and where the next page starts.
    let start = 0;
    const token = req.query.get('continue');
    if (token) {
      let parsed: { rv?: unknown; start?: unknown };
      try {
        parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { rv?: unknown; start?: unknown };
      } catch {
        return kubeStatus(400, 'BadRequest', 'continue key is not valid: illegal base64 data');
      }
      if (typeof parsed.start !== 'number' || typeof parsed.rv !== 'number') return kubeStatus(400, 'BadRequest', 'continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
      if (parsed.rv < this.compactedBelow) {
        return kubeStatus(410, 'Expired', 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.');
      }
      start = parsed.start;
    }
    const limit = Number(req.query.get('limit') ?? 0);
    const page = limit > 0 ? items.slice(start, start + limit) : items.slice(start);
    const next = limit > 0 && start + limit < items.length ? Buffer.from(JSON.stringify({ rv: this.resourceVersion, start: start + limit })).toString('base64url') : undefined;
    this.listPages.push({ plural, continued: Boolean(token), count: page.length });
    return {
      status: 200,
      body: {
        apiVersion: groupVersionOf(plural),
        kind: `${KINDS[plural]}List`,
        metadata: { resourceVersion: String(this.resourceVersion), ...(next ? { continue: next, remainingItemCount: items.length - start - limit } : {}) },
        items: page,
      },
    };
  }

  private get(req: EmulatedRequest): EmulatedResponse {
    const { ns, plural, name } = req.params as { ns: string; plural: string; name: string };
    const obj = this.find(plural, ns, name);
    if (!obj) return kubeStatus(404, 'NotFound', `${plural}.${GROUP} "${name}" not found`, { name, group: GROUP, kind: plural });
    return { status: 200, body: obj };
  }

  private create(req: EmulatedRequest): EmulatedResponse {
    const { ns, plural } = req.params as { ns: string; plural: string };
    const body = req.body as KubeObject | undefined;
    if (!body || typeof body !== 'object' || !body.metadata) return kubeStatus(400, 'BadRequest', 'the body of the request was in an unknown format');
    if (body.metadata.namespace && body.metadata.namespace !== ns) {
      return kubeStatus(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
    }
    const kind = KINDS[plural]!;
    const name = body.metadata.name || (body.metadata.generateName ? `${body.metadata.generateName}${randomSuffix()}` : '');
    const missing = [...(name ? [] : ['metadata.name']), ...(REQUIRED_SPEC[plural] ?? []).filter((f) => !body.spec?.[f]).map((f) => `spec.${f}`)];
    if (missing.length) {
      return kubeStatus(422, 'Invalid', `${kind}.${GROUP} "${name}" is invalid: ${missing.map((f) => `${f}: Required value`).join(', ')}`, {
        name,
        group: GROUP,
        kind,
        causes: missing.map((field) => ({ reason: 'FieldValueRequired', message: 'Required value', field })),
      });
    }
    if (this.find(plural, ns, name)) return kubeStatus(409, 'AlreadyExists', `${plural}.${GROUP} "${name}" already exists`, { name, group: GROUP, kind: plural });
    const { creationTimestamp: _c, uid: _u, resourceVersion: _r, ...metadata } = body.metadata;
    const stored = this.stamp(plural, { ...body, metadata: { ...metadata, name, namespace: ns }, status: {} });
    stored.metadata.creationTimestamp = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    this.objects.set(this.key(plural, ns, name), stored);
    return { status: 201, body: stored };
  }
}
