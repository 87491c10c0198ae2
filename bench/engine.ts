import { z } from 'zod';
import { parseConfig } from '../src/config.js';
import { silentLogger } from '../src/logger.js';
import { LocalSession } from '../src/server/context.js';
import { createRuntime } from '../src/server/runtime.js';
import { skillSchema, runSkill } from '../src/skills/index.js';
import { ALL_TOOLS, defineTool } from '../src/tools/index.js';

/**
 * Engine overhead: a 30-step skill of instant tool and compute steps, against calling the same
 * tools directly in a loop (same registry path), in one process. Target: under 1 ms per step.
 */

const STEPS = 30;
const ROUNDS = 40;

const instant = defineTool({
  name: 'bench_echo',
  family: 'bench',
  title: 'Echo',
  description: 'returns its input at once',
  input: z.object({ n: z.number().int(), text: z.string() }),
  output: z.object({ n: z.number().int(), text: z.string() }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  handler: (args) => args,
});

function benchSkill() {
  const steps = Array.from({ length: STEPS }, (_, i) =>
    i % 2 === 0
      ? { name: `s${i}`, tool: 'bench_echo', args: { n: i === 0 ? 0 : `{{ v${i - 1}.n + 1 }}`, text: `step ${i} of {{ inputs.label }}` }, output: `v${i}` }
      : { name: `s${i}`, compute: `return { n: v${i - 1}.n + 1, text: v${i - 1}.text.toUpperCase() }`, output: `v${i}` },
  );
  return skillSchema.parse({ name: 'bench', description: 'engine overhead', inputs: { label: { type: 'string', default: 'bench' } }, steps });
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

export async function benchEngine(): Promise<{ engineMsPerStep: number; directMsPerStep: number; overheadMsPerStep: number }> {
  const runtime = createRuntime({ config: parseConfig({}, process.cwd()), env: {}, memoryPath: ':memory:', logger: silentLogger, tools: [...ALL_TOOLS, instant] });
  try {
    const session = new LocalSession(runtime);
    const ctx = session.context({ signal: new AbortController().signal });
    const loaded = { skill: benchSkill(), file: 'bench' };
    const deps = { tools: runtime.catalog, config: runtime.config, memory: runtime.memory };
    const engine: number[] = [];
    const direct: number[] = [];
    for (let round = 0; round < ROUNDS + 5; round++) {
      let started = performance.now();
      const result = await runSkill(deps, ctx, { loaded, inputs: {} });
      const engineMs = performance.now() - started;
      if (result.status !== 'succeeded') throw new Error(`bench skill ${result.status}: ${result.report}`);
      started = performance.now();
      for (let i = 0; i < STEPS; i += 2) {
        const outcome = await ctx.callTool('bench_echo', { n: i, text: `step ${i} of bench` });
        if (!outcome.ok) throw new Error(outcome.text);
      }
      const directMs = performance.now() - started;
      if (round >= 5) {
        engine.push(engineMs / STEPS);
        direct.push(directMs / STEPS);
      }
    }
    const engineMsPerStep = median(engine);
    const directMsPerStep = median(direct);
    const overheadMsPerStep = engineMsPerStep - directMsPerStep;
    const fmt = (ms: number) => `${ms.toFixed(3)} ms`;
    process.stdout.write(
      [
        `skill engine: ${STEPS}-step skill (${STEPS / 2} tool + ${STEPS / 2} compute steps), median of ${ROUNDS} runs`,
        `  engine, per step:            ${fmt(engineMsPerStep)}`,
        `  direct tool calls, per step: ${fmt(directMsPerStep)}`,
        `  overhead per step:           ${fmt(overheadMsPerStep)} (target < 1 ms: ${overheadMsPerStep < 1 ? 'met' : 'MISSED'})`,
        '',
      ].join('\n'),
    );
    return { engineMsPerStep, directMsPerStep, overheadMsPerStep };
  } finally {
    runtime.close();
  }
}
