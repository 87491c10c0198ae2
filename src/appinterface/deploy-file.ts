import type { Document, Scalar, YAMLMap } from 'yaml';
import { yamlModule } from '../lazy-yaml.js';
import { ToolError } from '../errors.js';

/** One deploy target of a saas file: `resourceTemplates[i].targets[j]`. */
export interface DeployTarget {
  resource_template: string;
  /** `namespace.$ref`, e.g. /services/insights/tower-analytics/namespaces/tower-analytics-prod.yml */
  namespace_ref: string;
  /** The `ref` value as written (a SHA or a branch such as master); null when the target has none. */
  ref: string | null;
  /** 1-based line of the ref value; null when there is none. */
  line: number | null;
  /** Where the ref value's text sits in the file ([start, end) offsets). */
  span: [number, number] | null;
  style: Scalar['type'] | null;
  path: string;
}

export const SHA40 = /^[0-9a-f]{40}$/;

/** Parse a saas (deploy) file; a YAML error is a precondition failure naming the line. */
export function parseDeployFile(text: string, file: string): Document.Parsed {
  const doc = yamlModule().parseDocument(text, { keepSourceTokens: false, prettyErrors: true, uniqueKeys: false });
  if (doc.errors.length) {
    throw new ToolError('precondition', `${file} is not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}`, {
      details: { errors: doc.errors.map((e) => e.message.split('\n')[0]) },
    });
  }
  return doc;
}

/** Every target of every resource template, in file order. */
export function listTargets(text: string, file: string): DeployTarget[] {
  const doc = parseDeployFile(text, file);
  const templates = doc.get('resourceTemplates', true);
  if (!yamlModule().isSeq(templates)) return [];
  const targets: DeployTarget[] = [];
  templates.items.forEach((template, i) => {
    if (!yamlModule().isMap(template)) return;
    const name = String(scalarValue(template, 'name') ?? `#${i}`);
    const list = template.get('targets', true);
    if (!yamlModule().isSeq(list)) return;
    list.items.forEach((target, j) => {
      if (!yamlModule().isMap(target)) return;
      const namespace = target.get('namespace', true);
      const namespaceRef = yamlModule().isMap(namespace) ? scalarValue(namespace, '$ref') : undefined;
      if (typeof namespaceRef !== 'string') return;
      const refNode = target.get('ref', true);
      const scalar = yamlModule().isScalar(refNode) ? refNode : undefined;
      const span: [number, number] | null = scalar?.range ? [scalar.range[0], scalar.range[1]] : null;
      targets.push({
        resource_template: name,
        namespace_ref: namespaceRef,
        ref: scalar ? scalarText(scalar) : null,
        line: span ? lineOf(text, span[0]) : null,
        span,
        style: scalar?.type ?? null,
        path: `resourceTemplates[${i}].targets[${j}]`,
      });
    });
  });
  return targets;
}

function scalarValue(map: YAMLMap, key: string): unknown {
  const node = map.get(key, true);
  return yamlModule().isScalar(node) ? node.value : undefined;
}

/** The value as written: a plain SHA made only of digits must not turn into a number. */
function scalarText(node: Scalar): string {
  return node.type === 'PLAIN' && typeof node.source === 'string' ? node.source : String(node.value);
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

function lineText(text: string, line: number): string {
  return text.split('\n')[line - 1]?.replace(/\r$/, '') ?? '';
}

/** Whether a target deploys to `namespace`: its `$ref` file is `<namespace>.yml`. */
export function targetsNamespace(target: DeployTarget, namespace: string): boolean {
  const file = target.namespace_ref.split('/').pop() ?? '';
  return file === `${namespace}.yml` || file === `${namespace}.yaml`;
}

/** The one target of `namespace` (optionally in one resource template); none or several is refused. */
export function findTarget(text: string, file: string, namespace: string, resourceTemplate?: string): DeployTarget {
  const all = listTargets(text, file);
  const matches = all.filter((t) => targetsNamespace(t, namespace) && (!resourceTemplate || t.resource_template === resourceTemplate));
  if (matches.length === 0) {
    throw new ToolError('not_found', `no target in ${file} has namespace ${namespace}.yml${resourceTemplate ? ` in resource template ${resourceTemplate}` : ''}`, {
      hint: 'check the namespace name',
      details: { namespaces: [...new Set(all.map((t) => t.namespace_ref))] },
    });
  }
  if (matches.length > 1) {
    throw new ToolError('precondition', `${matches.length} targets in ${file} have namespace ${namespace}.yml; refusing to guess`, {
      hint: 'pass resource_template to choose one',
      details: { targets: matches.map((t) => ({ resource_template: t.resource_template, path: t.path, ref: t.ref })) },
    });
  }
  const [target] = matches as [DeployTarget];
  if (target.ref === null || !target.span) {
    throw new ToolError('not_found', `the ${namespace} target (${target.path}) in ${file} has no scalar ref`, { hint: 'add a `ref:` to the target first' });
  }
  return target;
}

export interface RefEdit {
  text: string;
  target: DeployTarget;
  previous: string;
  changed: boolean;
  /** The changed line before and after, e.g. `-    ref: abc...` / `+    ref: def...`. */
  diff: string | null;
}

/**
 * Set the ref of the `namespace` target, changing only the bytes of that one value (quoting style
 * kept); every other byte of the file, comments and formatting included, stays as it was.
 */
export function setTargetRef(text: string, file: string, namespace: string, ref: string, options: { expectCurrent?: string | undefined; resourceTemplate?: string | undefined } = {}): RefEdit {
  if (!SHA40.test(ref)) throw new ToolError('invalid_input', `ref must be a full 40-character lowercase hex SHA, got "${ref}"`);
  const target = findTarget(text, file, namespace, options.resourceTemplate);
  const previous = target.ref!;
  if (options.expectCurrent !== undefined && options.expectCurrent !== previous) {
    throw new ToolError('conflict', `the ${namespace} ref is ${previous}, not the expected ${options.expectCurrent}: someone changed it meanwhile`, {
      hint: 'fetch and rebase app-interface, check who released, then decide again',
      details: { current: previous, expected: options.expectCurrent },
    });
  }
  if (previous === ref) return { text, target, previous, changed: false, diff: null };
  if (target.style !== 'PLAIN' && target.style !== 'QUOTE_SINGLE' && target.style !== 'QUOTE_DOUBLE') {
    throw new ToolError('precondition', `the ${namespace} ref is a ${String(target.style)} scalar; only plain or quoted refs are edited`);
  }
  const [start, end] = target.span!;
  const quoted = target.style === 'QUOTE_SINGLE' ? `'${ref}'` : target.style === 'QUOTE_DOUBLE' ? `"${ref}"` : plainOrQuoted(ref);
  const next = text.slice(0, start) + quoted + text.slice(end);
  const check = findTarget(next, file, namespace, options.resourceTemplate);
  if (check.ref !== ref) throw new ToolError('internal', `editing ${file} did not produce the expected ref (${String(check.ref)})`);
  const line = target.line!;
  return { text: next, target: check, previous, changed: true, diff: `-${lineText(text, line)}\n+${lineText(next, line)}` };
}

/** A plain SHA that YAML would read as a number (all digits, or digits with one e) is double-quoted. */
function plainOrQuoted(ref: string): string {
  return /^[0-9]+(e[0-9]+)?$/.test(ref) ? `"${ref}"` : ref;
}
