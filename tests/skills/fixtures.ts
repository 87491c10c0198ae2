import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ToolError, type ErrorCode } from '../../src/errors.js';
import { LocalSession } from '../../src/server/context.js';
import type { Runtime } from '../../src/server/runtime.js';
import { ALL_TOOLS, defineTool, type ConfirmFn, type Progress, type RunResult, type SkillRunRequest } from '../../src/tools/index.js';
import { tempDir, testRuntime } from '../helpers/harness.js';

const read = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false } as const;

/** Tools made for engine tests: one that succeeds, one that fails N times, one that is slow, one that mutates. */
export function testTools() {
  const calls: Record<string, number> = {};
  const callTimes: Record<string, number[]> = {};
  const mutations: unknown[] = [];
  const tools = [
    defineTool({
      name: 'test_echo',
      family: 'test',
      title: 'Echo',
      description: 'returns what it is given',
      input: z.object({ text: z.string().default(''), value: z.unknown().optional(), count: z.number().int().optional() }),
      output: z.object({ text: z.string(), value: z.unknown().optional(), count: z.number().int().optional() }),
      annotations: read,
      handler: (args) => args,
      summarize: (r) => `echo ${r.text}`,
    }),
    defineTool({
      name: 'test_flaky',
      family: 'test',
      title: 'Flaky',
      description: 'fails `times` times with `code`, then succeeds',
      input: z.object({ key: z.string(), code: z.string().default('network'), times: z.number().int().default(1), message: z.string().default('connection reset by peer'), retry_after: z.number().optional() }),
      output: z.object({ key: z.string(), calls: z.number().int() }),
      annotations: read,
      handler: ({ key, code, times, message, retry_after }) => {
        calls[key] = (calls[key] ?? 0) + 1;
        (callTimes[key] ??= []).push(performance.now());
        if (calls[key]! <= times) throw new ToolError(code as ErrorCode, message, { hint: 'test hint', ...(retry_after !== undefined ? { retryAfter: retry_after } : {}) });
        return { key, calls: calls[key]! };
      },
    }),
    defineTool({
      name: 'test_slow',
      family: 'test',
      title: 'Slow',
      description: 'waits `ms` milliseconds (stops early when aborted, unless stubborn)',
      input: z.object({ ms: z.number().int(), stubborn: z.boolean().default(false) }),
      output: z.object({ waited: z.number() }),
      annotations: read,
      handler: async ({ ms, stubborn }, ctx) => {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(resolve, ms);
          if (!stubborn) ctx.signal.addEventListener('abort', () => (clearTimeout(timer), reject(new ToolError('cancelled', 'aborted'))), { once: true });
        });
        return { waited: ms };
      },
    }),
    defineTool({
      name: 'test_mutate',
      family: 'test',
      title: 'Mutate',
      description: 'appends an item to a list outside (a change)',
      input: z.object({ item: z.unknown() }),
      output: z.object({ count: z.number().int() }),
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
      handler: ({ item }) => {
        mutations.push(item);
        return { count: mutations.length };
      },
    }),
    defineTool({
      name: 'test_slow_write',
      family: 'test',
      title: 'Slow write',
      description: 'waits `ms` milliseconds, ignoring an abort, then appends an item (a change that is not idempotent)',
      input: z.object({ item: z.unknown(), ms: z.number().int() }),
      output: z.object({ count: z.number().int() }),
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
      handler: async ({ item, ms }) => {
        await new Promise((resolve) => setTimeout(resolve, ms));
        mutations.push(item);
        return { count: mutations.length };
      },
    }),
    defineTool({
      name: 'test_big_write',
      family: 'test',
      title: 'Big write',
      description: 'appends an item and returns a text of `size` characters',
      input: z.object({ item: z.unknown(), size: z.number().int() }),
      output: z.object({ text: z.string() }),
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
      handler: ({ item, size }) => {
        mutations.push(item);
        return { text: 'x'.repeat(size) };
      },
    }),
  ];
  return { tools, calls, callTimes, mutations };
}

export interface SkillHarness {
  runtime: Runtime;
  dir: string;
  fx: ReturnType<typeof testTools>;
  /** Write a skill file into the skills folder; returns its path. */
  write(name: string, yaml: string): string;
  run(request: SkillRunRequest, options?: { signal?: AbortSignal; progress?: (p: Progress) => Promise<void>; confirm?: ConfirmFn }): Promise<RunResult>;
  close(): void;
}

export function skillHarness(options: { config?: Record<string, unknown>; readOnly?: boolean; memoryPath?: string } = {}): SkillHarness {
  const dir = tempDir('release-mcp-skills-');
  const fx = testTools();
  const runtime = testRuntime({
    tools: [...ALL_TOOLS, ...fx.tools],
    config: { skills_dirs: [dir.path], ...options.config },
    ...(options.readOnly ? { readOnly: true } : {}),
    ...(options.memoryPath ? { memoryPath: options.memoryPath } : {}),
  });
  return {
    runtime,
    dir: dir.path,
    fx,
    write(name, yaml) {
      const path = join(dir.path, `${name}.yaml`);
      writeFileSync(path, yaml);
      return path;
    },
    run(request, opts = {}) {
      const session = new LocalSession(runtime);
      if (opts.confirm) (session as { confirm?: ConfirmFn }).confirm = opts.confirm;
      const ctx = session.context({ signal: opts.signal ?? new AbortController().signal, ...(opts.progress ? { progress: opts.progress } : {}) });
      return runtime.services.skills!.run(request, ctx);
    },
    close() {
      runtime.close();
      dir.cleanup();
    },
  };
}

/** Status of each step by name. */
export function statuses(result: RunResult): Record<string, string> {
  return Object.fromEntries(result.steps.map((s) => [s.name, s.status]));
}

/**
 * A skill that logs, posts to Slack, and logs again, for tests that kill a real `skill run`
 * process while its post is in flight; writes it under `dir`/skills with a config beside it
 * (lease `leaseMs`) and returns the config's path.
 */
export function writeAnnounceSkill(dir: string, leaseMs: number): string {
  mkdirSync(join(dir, 'skills'));
  writeFileSync(
    join(dir, 'skills', 'announce.yaml'),
    `name: announce
description: log, post to Slack, log again
inputs:
  tag: { type: string, required: true }
steps:
  - name: before
    tool: memory_session_log
    args: { action: "before {{ inputs.tag }}" }
  - name: post
    tool: notify_team
    args: { template: custom, data: { text: "release {{ inputs.tag }}" } }
  - name: after
    tool: memory_session_log
    args: { action: "after {{ inputs.tag }}" }
`,
  );
  const config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({ skills_dirs: ['./skills'], skills: { lease_ms: leaseMs }, slack: { timeout_ms: 5000 } }));
  return config;
}
