import type { QuickJSContext, QuickJSHandle, QuickJSRuntime, QuickJSWASMModule } from 'quickjs-emscripten';

/**
 * The expression sandbox: JavaScript evaluated in QuickJS compiled to WebAssembly, with a time
 * and a memory limit. Nothing of the host is reachable from inside: values go in and out as
 * JSON, and the only functions are pure helpers written in JavaScript inside the sandbox.
 */

export type ExpressionKind = 'expression' | 'body';

export interface SandboxLimits {
  timeoutMs: number;
  memoryMb: number;
}

export class ExpressionError extends Error {
  override readonly name = 'ExpressionError';
  constructor(
    message: string,
    readonly source: string,
    readonly reason: 'error' | 'syntax' | 'timeout' | 'memory',
  ) {
    super(message);
  }
}

let module: Promise<QuickJSWASMModule> | undefined;

/** The WebAssembly module is loaded once, on first use, never at startup. */
export function loadQuickJS(): Promise<QuickJSWASMModule> {
  module ??= import('quickjs-emscripten').then((quickjs) => quickjs.newQuickJSWASMModule());
  return module;
}

function toJson(name: string, value: unknown): string | undefined {
  try {
    return value === undefined ? undefined : JSON.stringify(value);
  } catch (error) {
    throw new ExpressionError(`the value of ${name} cannot be passed to expressions: ${(error as Error).message}`, name, 'memory');
  }
}

const deadline = (ms: number) => {
  const end = Date.now() + ms;
  return () => Date.now() > end;
};

/** After a fault that unwound through WebAssembly frames the module's state is unknown: load a new one. */
function discardModule(broken: QuickJSWASMModule): void {
  void module?.then((current) => {
    if (current === broken) module = undefined;
  });
}

/** Pure helpers every expression can call; defined inside the sandbox as plain JavaScript. */
export const HELPER_NAMES = ['shortSha', 'parseGitLog', 'countBy', 'groupBy', 'unique', 'pick', 'toJson', 'truncate'] as const;

const HELPERS = `
  shortSha: (sha, length = 7) => String(sha ?? '').slice(0, length),
  parseGitLog: (text) => String(text ?? '').split('\\n').map((line) => line.trim()).filter(Boolean).map((line) => {
    const parts = line.split('|');
    if (parts.length >= 3) return { sha: parts[0], author: parts[1], subject: parts.slice(2).join('|') };
    const space = line.indexOf(' ');
    return space < 0 ? { sha: line, subject: '' } : { sha: line.slice(0, space), subject: line.slice(space + 1) };
  }),
  countBy: (list, key) => (list ?? []).reduce((counts, item) => {
    const k = String(typeof key === 'function' ? key(item) : item?.[key]);
    counts[k] = (counts[k] ?? 0) + 1;
    return counts;
  }, {}),
  groupBy: (list, key) => (list ?? []).reduce((groups, item) => {
    const k = String(typeof key === 'function' ? key(item) : item?.[key]);
    (groups[k] ??= []).push(item);
    return groups;
  }, {}),
  unique: (list) => [...new Set(list ?? [])],
  pick: (object, keys) => Object.fromEntries(keys.filter((k) => object != null && k in object).map((k) => [k, object[k]])),
  toJson: (value, indent) => JSON.stringify(value, null, indent),
  truncate: (text, length = 200) => { const s = String(text ?? ''); return s.length > length ? s.slice(0, length - 1) + '…' : s; },
`;

/**
 * Runs once per context. It keeps the scope in a closure, returns the entry points to the host
 * (they are not left on globalThis), and freezes the intrinsics so one evaluation cannot change
 * what the next one sees.
 *
 * The scope is one object that grows a binding at a time: a value crosses into the sandbox once,
 * when it is produced, and a map such as `steps` grows an entry at a time, so the cost of a step
 * does not depend on how many steps ran before it. Code reads the scope through `with`, from a
 * strict function inside it: bindings are read-only (defined non-writable) and values deep-frozen.
 */
const BOOTSTRAP = `(() => {
  'use strict';
  const vars = Object.create(null);
  const compiled = new Map();
  const deepFreeze = (value) => {
    if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
      Object.freeze(value);
      for (const key of Object.keys(value)) deepFreeze(value[key]);
    }
    return value;
  };
  const helpers = { ${HELPERS} };
  for (const [name, fn] of Object.entries(helpers)) Object.defineProperty(globalThis, name, { value: fn, enumerable: false });
  const wrap = (kind, source) => kind === 'expression' ? 'return (' + source + '\\n);' : source + '\\n';
  // Parsed on its own first: the source must be a whole expression or function body, never close the wrapper below.
  const check = (kind, source) => { new Function('"use strict";\\n' + wrap(kind, source)); return true; };
  const compile = (kind, source) => {
    check(kind, source);
    // The scope object comes in as arguments[0], not a named parameter: no name in the code can reach it.
    return new Function('with (arguments[0]) { return function () { "use strict";\\n' + wrap(kind, source) + '}; }')(vars);
  };
  const bind = (name, value) => Object.defineProperty(vars, name, { value, writable: false, enumerable: true, configurable: true });
  const setVar = (name, json) => { bind(name, json === undefined ? undefined : deepFreeze(JSON.parse(json))); };
  // A map that grows an entry at a time (\`steps\`): expressions can read it, never change it.
  const refuse = () => false;
  const readOnly = { set: refuse, defineProperty: refuse, deleteProperty: refuse, setPrototypeOf: refuse, preventExtensions: refuse };
  const targets = new WeakMap();
  const setEntry = (name, key, json) => {
    let map = vars[name];
    if (!targets.has(map)) {
      const target = Object.assign(Object.create(null), map);
      map = new Proxy(target, readOnly);
      targets.set(map, target);
      bind(name, map);
    }
    targets.get(map)[key] = json === undefined ? undefined : deepFreeze(JSON.parse(json));
  };
  const run = (kind, source) => {
    const key = kind + '\\u0000' + source;
    let fn = compiled.get(key);
    if (!fn) { fn = compile(kind, source); compiled.set(key, fn); }
    const value = fn();
    if (value instanceof Promise) throw new TypeError('the value is a Promise: expressions run synchronously, with no I/O');
    return value === undefined ? '' : JSON.stringify(value);
  };
  for (const name of Object.getOwnPropertyNames(globalThis)) {
    const value = globalThis[name];
    if ((typeof value === 'function' || (value && typeof value === 'object')) && value !== globalThis) {
      Object.freeze(value);
      if (value.prototype) Object.freeze(value.prototype);
    }
  }
  Object.freeze(Object.getPrototypeOf(function () {}));
  Object.freeze(globalThis);
  return [setVar, run, check, setEntry];
})()`;

/** Everything that crossed between the host and any sandbox so far (strings passed in and out). */
const traffic = { values: 0, bytes: 0 };

/**
 * How many values and bytes have crossed into and out of expression sandboxes in this process.
 * The engine's cost per step follows it: a step should move its own output and status, not the
 * scope of every step before it.
 */
export function sandboxTraffic(): Readonly<typeof traffic> {
  return { ...traffic };
}

type Entry = 'setVar' | 'run' | 'check' | 'setEntry';

/** What the scope holds, kept on the host so a fresh runtime can be given the same scope. */
interface Binding {
  json: string | undefined;
  /** Entries added one at a time after the value (`steps.<name>`). */
  entries?: Map<string, string | undefined>;
}

/**
 * One sandbox per skill run: a QuickJS runtime and context, with the scope kept in it. Each
 * value crosses once, when it is set; a map grows an entry at a time. A limit hit (time, memory)
 * discards the runtime and the next evaluation starts from a fresh one with the same scope.
 */
export class ExpressionSandbox {
  private runtime: QuickJSRuntime | undefined;
  private context: QuickJSContext | undefined;
  private entry: Record<Entry, QuickJSHandle> | undefined;
  private readonly scope = new Map<string, Binding>();
  private broken = false;

  private constructor(
    private readonly quickjs: QuickJSWASMModule,
    private readonly limits: SandboxLimits,
  ) {}

  static async create(limits: SandboxLimits): Promise<ExpressionSandbox> {
    const sandbox = new ExpressionSandbox(await loadQuickJS(), limits);
    sandbox.start();
    return sandbox;
  }

  /** Put a value in scope under a name (JSON-able; functions and symbols are dropped). */
  set(name: string, value: unknown): void {
    const json = toJson(name, value);
    this.scope.set(name, { json });
    if (this.entry) this.call('setVar', name, json);
  }

  /**
   * Put one entry into the map in scope under `name` (`steps.<key>`), creating the map when
   * needed. Only the entry crosses; expressions see the map read-only.
   */
  setEntry(name: string, key: string, value: unknown): void {
    const json = toJson(`${name}.${key}`, value);
    let binding = this.scope.get(name);
    if (!binding) this.scope.set(name, (binding = { json: undefined }));
    (binding.entries ??= new Map()).set(key, json);
    if (this.entry) this.call('setEntry', name, key, json);
  }

  /** Evaluate an expression (`inputs.x > 1`) or a function body (`return 1`); values come back as JSON. */
  evaluate(kind: ExpressionKind, source: string): unknown {
    const json = this.call('run', kind, source);
    return json === '' ? undefined : JSON.parse(json);
  }

  /** Parse without running; throws an ExpressionError for a syntax error. */
  check(kind: ExpressionKind, source: string): void {
    this.call('check', kind, source);
  }

  dispose(): void {
    if (this.entry) for (const handle of Object.values(this.entry)) handle.dispose();
    this.entry = undefined;
    this.context?.dispose();
    this.context = undefined;
    this.runtime?.dispose();
    this.runtime = undefined;
  }

  private start(): Record<Entry, QuickJSHandle> {
    if (this.entry) return this.entry;
    const runtime = this.quickjs.newRuntime();
    runtime.setMemoryLimit(this.limits.memoryMb * 1024 * 1024);
    runtime.setMaxStackSize(128 * 1024);
    const context = runtime.newContext();
    this.runtime = runtime;
    this.context = context;
    runtime.setInterruptHandler(deadline(5_000));
    const tuple = context.unwrapResult(context.evalCode(BOOTSTRAP, 'sandbox.js'));
    const pick = (i: number) => context.getProp(tuple, i);
    this.entry = { setVar: pick(0), run: pick(1), check: pick(2), setEntry: pick(3) };
    tuple.dispose();
    // A fresh runtime after a limit hit: the whole scope once more.
    for (const [name, { json, entries }] of this.scope) {
      this.call('setVar', name, json);
      for (const [key, value] of entries ?? []) this.call('setEntry', name, key, value);
    }
    return this.entry;
  }

  private call(entry: Entry, ...args: Array<string | undefined>): string {
    const source = entry === 'run' || entry === 'check' ? args[1] ?? '' : `value of ${args.slice(0, entry === 'setEntry' ? 2 : 1).join('.')}`;
    if (this.broken) throw new ExpressionError('the expression sandbox was stopped by an earlier fault in this run; resume the run to continue', source, 'memory');
    try {
      return this.callInside(entry, args, source);
    } catch (error) {
      if (error instanceof ExpressionError) throw error;
      // A fault of the host engine (its own stack exhausted by deeply nested data): never reuse this module.
      this.broken = true;
      this.entry = undefined;
      this.context = undefined;
      this.runtime = undefined;
      discardModule(this.quickjs);
      throw new ExpressionError(`the value is too deeply nested to evaluate (${(error as Error).message})`, source, 'memory');
    }
  }

  private callInside(entry: Entry, args: Array<string | undefined>, source: string): string {
    const fns = this.start();
    const context = this.context!;
    this.runtime!.setInterruptHandler(deadline(this.limits.timeoutMs));
    const handles = args.map((arg) => {
      if (arg === undefined) return context.undefined;
      traffic.values += 1;
      traffic.bytes += arg.length;
      return context.newString(arg);
    });
    const result = context.callFunction(fns[entry], context.undefined, ...handles);
    for (const handle of handles) handle.dispose();
    if (result.error) {
      const dumped = context.dump(result.error) as { name?: string; message?: string } | string | null | undefined;
      result.error.dispose();
      throw this.failure(dumped, source);
    }
    const value = context.typeof(result.value) === 'string' ? context.getString(result.value) : '';
    result.value.dispose();
    if (entry === 'run') {
      traffic.values += 1;
      traffic.bytes += value.length;
    }
    return value;
  }

  private failure(dumped: { name?: string; message?: string } | string | null | undefined, source: string): ExpressionError {
    // `throw null` and `throw 1` are values, not objects: read them as a message.
    if (dumped === null || (typeof dumped !== 'object' && typeof dumped !== 'string')) dumped = `thrown value ${String(dumped)}`;
    const name = typeof dumped === 'string' ? 'Error' : dumped.name ?? 'Error';
    const message = typeof dumped === 'string' ? dumped : dumped.message ?? String(dumped);
    if (/interrupted/i.test(message)) {
      this.dispose();
      return new ExpressionError(`took longer than ${this.limits.timeoutMs} ms (an endless loop?)`, source, 'timeout');
    }
    if (/out of memory/i.test(message) || (name === 'RangeError' && /allocation|invalid array length|string too long/i.test(message))) {
      this.dispose();
      return new ExpressionError(`exceeded the ${this.limits.memoryMb} MB memory limit`, source, 'memory');
    }
    if (/stack overflow/i.test(message)) {
      this.dispose();
      return new ExpressionError('stack overflow (endless recursion?)', source, 'memory');
    }
    return new ExpressionError(`${name}: ${message}`, source, name === 'SyntaxError' ? 'syntax' : 'error');
  }
}
