import { readFileSync } from 'node:fs';
import { Agent as HttpsAgent } from 'node:https';
import { rootCertificates } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { ToolError } from '../errors.js';

/**
 * The certificate authorities every HTTPS client trusts. Without `tls.ca_file` these are Node's
 * own (its bundled roots plus NODE_EXTRA_CA_CERTS, read by Node at start), and the clients keep
 * their defaults. With it, the clients get an explicit list: an explicit list replaces Node's,
 * so it repeats the bundled roots and NODE_EXTRA_CA_CERTS before adding the file's CAs.
 */
export interface HttpsTrust {
  /** Every CA certificate (PEM) to trust; undefined: Node's defaults. */
  ca: string[] | undefined;
  /** fetch that trusts `ca` (Quay, Prometheus, GitLab, Slack, health checks). */
  fetch: typeof fetch;
  /** A node:https agent that trusts `ca` (Jira through axios); undefined: Node's global agent. */
  httpsAgent: HttpsAgent | undefined;
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The PEM certificates of a file; a file without any, or with one that does not parse, is a config error naming `setting`. */
export function readCaCertificates(path: string, setting: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ToolError('config', `cannot read the CA file of ${setting} (${path}): ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, {
      cause: error,
      hint: `set ${setting} to a readable PEM file of the CA certificate(s)`,
    });
  }
  const pems = text.match(PEM_BLOCK) ?? [];
  if (!pems.length) throw new ToolError('config', `${setting} (${path}) holds no PEM certificate`, { hint: `${setting} must be a PEM file with -----BEGIN CERTIFICATE----- blocks` });
  pems.forEach((pem, i) => {
    try {
      new X509Certificate(pem);
    } catch (error) {
      throw new ToolError('config', `certificate ${i + 1} in ${setting} (${path}) does not parse: ${(error as Error).message}`, { cause: error, hint: `fix or remove it from ${setting}` });
    }
  });
  return pems;
}

/** NODE_EXTRA_CA_CERTS as Node reads it: a file it cannot read is skipped (Node only warns). */
function extraCaCertificates(path: string | undefined): string[] {
  if (!path) return [];
  try {
    return readFileSync(path, 'utf8').match(PEM_BLOCK) ?? [];
  } catch {
    return [];
  }
}

type FetchAgentClass = new (options: { connect: { ca: string[] } }) => object;

/**
 * Node's fetch runs on its own copy of undici and takes a per-request `dispatcher`, but Node 20
 * does not export undici's Agent. The global dispatcher that fetch installs on first use is one,
 * so its class is taken from there: same version as fetch, no extra dependency.
 */
function fetchAgentClass(): FetchAgentClass {
  new Request('http://localhost/'); // loads Node's fetch, which installs its global dispatcher
  const dispatcher = (globalThis as Record<symbol, unknown>)[Symbol.for('undici.globalDispatcher.1')] as { constructor?: unknown; dispatch?: unknown } | undefined;
  const agent = dispatcher?.constructor;
  if (typeof agent !== 'function' || agent.name !== 'Agent' || typeof dispatcher?.dispatch !== 'function') {
    throw new ToolError('config', 'tls.ca_file cannot be applied: the fetch of this Node.js has no connection agent to give it to', {
      hint: 'unset tls.ca_file and start the server with NODE_EXTRA_CA_CERTS=<the CA file> instead',
    });
  }
  return agent as FetchAgentClass;
}

/** Build the trust once per process from config tls.ca_file and NODE_EXTRA_CA_CERTS. */
export function loadHttpsTrust(caFile: string | null | undefined, nodeExtraCaCerts: string | undefined): HttpsTrust {
  if (!caFile) return { ca: undefined, fetch: globalThis.fetch, httpsAgent: undefined };
  const ca = [...rootCertificates, ...extraCaCertificates(nodeExtraCaCerts), ...readCaCertificates(caFile, 'tls.ca_file')];
  const Agent = fetchAgentClass();
  const dispatcher = new Agent({ connect: { ca } });
  const trustedFetch: typeof fetch = (input, init) => globalThis.fetch(input, { ...init, dispatcher } as RequestInit);
  return { ca, fetch: trustedFetch, httpsAgent: new HttpsAgent({ ca }) };
}
