import { existsSync } from 'node:fs';
import { delimiter } from 'node:path';
import type { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import type { Config, Secrets } from '../config.js';
import { ToolError } from '../errors.js';
import { requestFailureToToolError, statusToToolError } from './http-errors.js';

export const KONFLUX_GROUP = 'appstudio.redhat.com';
export const KONFLUX_VERSION = 'v1alpha1';
export type KonfluxPlural = 'applications' | 'components' | 'snapshots' | 'releases' | 'releaseplans';

/** Build PipelineRuns are Tekton's (tekton.dev/v1), in the same tenant namespace. */
export const TEKTON_GROUP = 'tekton.dev';
export const TEKTON_VERSION = 'v1';

interface ListSource {
  group: string;
  version: string;
  plural: string;
}

export interface ListOptions {
  labelSelector?: string;
  signal?: AbortSignal;
}

export interface KubeMetadata {
  name: string;
  namespace?: string;
  generateName?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  creationTimestamp?: string;
  uid?: string;
  resourceVersion?: string;
}

/** A custom resource as the API returns it. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: KubeMetadata;
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

/** A resource to create: the API fills the name from generateName. */
export type NewKubeObject = Omit<KubeObject, 'metadata'> & { metadata: Partial<KubeMetadata> };

const IN_CLUSTER_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/** Where the kubeconfig comes from: config `konflux.kubeconfig`, else KUBECONFIG (a path list), else in-cluster. */
export function kubeconfigSource(config: Config, secrets: Secrets, inClusterTokenPath = IN_CLUSTER_TOKEN): { kind: 'file'; path: string; setting: string } | { kind: 'cluster' } {
  if (config.konflux.kubeconfig) return { kind: 'file', path: config.konflux.kubeconfig, setting: 'config konflux.kubeconfig' };
  if (secrets.KUBECONFIG) {
    const paths = secrets.KUBECONFIG.split(delimiter).filter(Boolean);
    const path = paths.find((p) => existsSync(p)) ?? paths[0]!;
    return { kind: 'file', path, setting: 'KUBECONFIG' };
  }
  if (existsSync(inClusterTokenPath)) return { kind: 'cluster' };
  throw new ToolError('config', 'no Kubernetes credentials for Konflux: no kubeconfig is configured and this is not a pod', {
    hint: 'set KUBECONFIG to your kubeconfig path (or config konflux.kubeconfig), then log in to the Konflux cluster',
  });
}

async function loadKubeConfig(config: Config, secrets: Secrets, ca: readonly string[] | undefined): Promise<{ kc: KubeConfig; api: CustomObjectsApi }> {
  const k8s = await import('@kubernetes/client-node');
  const source = kubeconfigSource(config, secrets);
  const kc = new k8s.KubeConfig();
  if (source.kind === 'file') {
    if (!existsSync(source.path)) throw new ToolError('config', `the kubeconfig named by ${source.setting} does not exist: ${source.path}`, { hint: config.konflux.login_hint });
    try {
      kc.loadFromFile(source.path);
    } catch (error) {
      throw new ToolError('config', `cannot read the kubeconfig ${source.path}: ${(error as Error).message}`, { cause: error });
    }
  } else {
    kc.loadFromCluster();
  }
  if (config.konflux.context) {
    if (!kc.getContextObject(config.konflux.context)) {
      throw new ToolError('config', `kubeconfig has no context "${config.konflux.context}" (config konflux.context)`, {
        details: { contexts: kc.getContexts().map((c) => c.name) },
      });
    }
    kc.setCurrentContext(config.konflux.context);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new ToolError('config', 'the kubeconfig has no current context or cluster', { hint: config.konflux.login_hint });
  // The cluster's own CA (certificate-authority) wins; without one, the configured trust (tls.ca_file) applies.
  if (ca && !cluster.caData && !cluster.caFile && !cluster.skipTLSVerify) {
    const caData = Buffer.from(ca.join('\n')).toString('base64');
    kc.clusters = kc.clusters.map((c) => (c === cluster ? { ...c, caData } : c));
  }
  return { kc, api: kc.makeApiClient(k8s.CustomObjectsApi) };
}

/** Parse a Kubernetes Status body (as text or object) from an ApiException. */
export function parseStatusBody(body: unknown): { message?: string; reason?: string } {
  let value = body;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      const text = value as string;
      return text.trim() ? { message: text.trim().slice(0, 300) } : {};
    }
  }
  if (!value || typeof value !== 'object') return {};
  const v = value as { message?: unknown; reason?: unknown };
  return { ...(typeof v.message === 'string' ? { message: v.message } : {}), ...(typeof v.reason === 'string' ? { reason: v.reason } : {}) };
}

/** Konflux custom resources through @kubernetes/client-node's CustomObjectsApi. */
export class KonfluxClient {
  constructor(
    private readonly api: CustomObjectsApi,
    private readonly config: Config,
    readonly server: string,
  ) {}

  static async connect(config: Config, secrets: Secrets, ca?: readonly string[]): Promise<KonfluxClient> {
    const { kc, api } = await loadKubeConfig(config, secrets, ca);
    return new KonfluxClient(api, config, kc.getCurrentCluster()!.server);
  }

  list(plural: KonfluxPlural, namespace: string, options: ListOptions = {}): Promise<KubeObject[]> {
    return this.listAll({ group: KONFLUX_GROUP, version: KONFLUX_VERSION, plural }, namespace, options);
  }

  /** Tekton PipelineRuns (tekton.dev/v1), e.g. the build runs of a component. */
  listPipelineRuns(namespace: string, options: ListOptions = {}): Promise<KubeObject[]> {
    return this.listAll({ group: TEKTON_GROUP, version: TEKTON_VERSION, plural: 'pipelineruns' }, namespace, options);
  }

  /**
   * Every item, page by page (`limit`, then `metadata.continue`), up to konflux.list_max_pages
   * pages. A list cut short is refused rather than returned: duplicate checks rely on it.
   */
  private async listAll(source: ListSource, namespace: string, options: ListOptions): Promise<KubeObject[]> {
    const { list_page_size: pageSize, list_max_pages: maxPages } = this.config.konflux;
    const what = `${source.plural} in namespace ${namespace}`;
    const items: KubeObject[] = [];
    let token: string | undefined;
    for (let page = 1; ; page++) {
      const result = (await this.request(page === 1 ? what : `${what} (page ${page})`, options.signal, (opts) =>
        this.api.listNamespacedCustomObject(
          { ...source, namespace, limit: pageSize, ...(options.labelSelector ? { labelSelector: options.labelSelector } : {}), ...(token ? { _continue: token } : {}) },
          opts,
        ),
      )) as { items?: KubeObject[]; metadata?: { continue?: string } };
      items.push(...(result.items ?? []).filter((o) => o && o.metadata));
      token = result.metadata?.continue || undefined;
      if (!token) return items;
      if (page >= maxPages) {
        throw new ToolError('precondition', `more than ${maxPages} pages of ${pageSize} ${source.plural} in namespace ${namespace}: the list was not read to the end`, {
          hint: 'raise konflux.list_max_pages (or konflux.list_page_size) in config',
          details: { pages: page, page_size: pageSize, read: items.length },
        });
      }
    }
  }

  async get(plural: KonfluxPlural, namespace: string, name: string, signal?: AbortSignal): Promise<KubeObject> {
    return (await this.request(`${singular(plural)} "${name}" in namespace ${namespace}`, signal, (opts) =>
      this.api.getNamespacedCustomObject({ group: KONFLUX_GROUP, version: KONFLUX_VERSION, namespace, plural, name }, opts),
    )) as KubeObject;
  }

  async create(plural: KonfluxPlural, namespace: string, body: NewKubeObject, signal?: AbortSignal): Promise<KubeObject> {
    return (await this.request(`${singular(plural)} ${body.metadata.name || `${body.metadata.generateName ?? ''}*`} in namespace ${namespace}`, signal, (opts) =>
      this.api.createNamespacedCustomObject({ group: KONFLUX_GROUP, version: KONFLUX_VERSION, namespace, plural, body }, opts),
    )) as KubeObject;
  }

  /** One API call with the configured timeout and the caller's cancel; failures become ToolErrors. */
  private async request<T>(what: string, signal: AbortSignal | undefined, call: (options: object) => Promise<T>): Promise<T> {
    const timeoutMs = this.config.konflux.timeout_ms;
    const timeout = AbortSignal.timeout(timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    // client-node 1.x runs Observable-style middleware; its stub only needs toPromise().
    const middleware = {
      pre: (context: { setSignal(s: AbortSignal): void }) => {
        context.setSignal(combined);
        return { toPromise: () => Promise.resolve(context) };
      },
      post: (context: unknown) => ({ toPromise: () => Promise.resolve(context) }),
    };
    try {
      return await call({ middleware: [middleware], middlewareMergeStrategy: 'append' });
    } catch (error) {
      throw this.toToolError(error, what, { timeoutMs, cancelled: signal?.aborted ?? false, timedOut: timeout.aborted });
    }
  }

  private toToolError(error: unknown, what: string, state: { timeoutMs: number; cancelled: boolean; timedOut: boolean }): ToolError {
    if (error instanceof ToolError) return error;
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'number' && code >= 300) {
      const status = parseStatusBody((error as { body?: unknown }).body);
      const retryAfter = (error as { headers?: Record<string, string> }).headers?.['retry-after'];
      return statusToToolError(code, {
        service: 'Konflux',
        what,
        authHint: this.config.konflux.login_hint,
        ...(status.message ? { body: status.message } : {}),
        ...(retryAfter ? { retryAfter } : {}),
        details: { cluster: this.server, ...(status.reason ? { reason: status.reason } : {}) },
      });
    }
    return requestFailureToToolError(error, {
      service: 'Konflux',
      what,
      ...state,
      networkHint: `cannot reach the cluster at ${this.server}: check the VPN and the kubeconfig, then ${this.config.konflux.login_hint}`,
      caHint: `the cluster's CA is the kubeconfig's certificate-authority(-data) when it names one, else tls.ca_file in config (or NODE_EXTRA_CA_CERTS): point it at the CA of ${this.server}`,
    });
  }
}

function singular(plural: KonfluxPlural): string {
  return plural === 'releaseplans' ? 'releasePlan' : plural.slice(0, -1);
}

/**
 * A cached connection that is rebuilt after an auth failure, so logging in again (which rewrites
 * the kubeconfig) takes effect without restarting the server.
 */
export class KonfluxConnector {
  private pending: Promise<KonfluxClient> | undefined;

  constructor(
    private readonly config: Config,
    private readonly secrets: Secrets,
    /** CA certificates to trust when the kubeconfig names none (tls.ca_file). */
    private readonly ca?: readonly string[],
  ) {}

  async use<T>(fn: (client: KonfluxClient) => Promise<T>): Promise<T> {
    if (!this.pending) {
      this.pending = KonfluxClient.connect(this.config, this.secrets, this.ca);
      this.pending.catch(() => (this.pending = undefined));
    }
    const client = await this.pending;
    try {
      return await fn(client);
    } catch (error) {
      if (error instanceof ToolError && error.code === 'auth') this.pending = undefined;
      throw error;
    }
  }
}
