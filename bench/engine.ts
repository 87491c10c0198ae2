import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { parseConfig } from '../src/config.js';
import { silentLogger } from '../src/logger.js';
import { LocalSession } from '../src/server/context.js';
import { createRuntime } from '../src/server/runtime.js';
import { skillSchema, runSkill } from '../src/skills/index.js';
import { ALL_TOOLS, defineTool } from '../src/tools/index.js';
import { figure, median } from './stats.js';

/**
 * Engine cost per step as a skill grows: skills of 10, 200 and 2,000 steps, all compute steps or
 * all cheap tool steps, each step reading the previous step's output. The cost per step should
 * not grow with the number of steps (2,000 vs 10: at most 1.5x) and stay under 0.5 ms. Tool
 * steps are also set beside calling the same tool directly through the same registry path.
 */

const SIZES = [10, 200, 2000] as const;
/** Steps timed per size (more runs of the small skills, so each size times about as many steps). */
const STEPS_PER_SIZE = 4000;
const FLAT_TARGET = 1.5;
const STEP_BUDGET_MS = 0.5;

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

type Kind = 'compute' | 'tool';

function benchSkill(kind: Kind, size: number) {
  const steps = Array.from({ length: size }, (_, i) =>
    kind === 'tool'
      ? { name: `s${i}`, tool: 'bench_echo', args: { n: i === 0 ? 0 : `{{ v${i - 1}.n + 1 }}`, text: `step ${i} of {{ inputs.label }}` }, output: `v${i}` }
      : { name: `s${i}`, compute: i === 0 ? 'return { n: 0, text: inputs.label }' : `return { n: v${i - 1}.n + 1, text: v${i - 1}.text }`, output: `v${i}` },
  );
  return skillSchema.parse({ name: `bench_${kind}_${size}`, description: 'engine cost per step', inputs: { label: { type: 'string', default: 'bench' } }, steps });
}

export interface EngineFigures {
  /** Median ms per step, by kind and size. */
  msPerStep: Record<Kind, Record<number, number>>;
  directMsPerCall: number;
}

export async function benchEngine(sizes: readonly number[] = SIZES, stepsPerSize = STEPS_PER_SIZE): Promise<EngineFigures> {
  const runtime = createRuntime({ config: parseConfig({}, process.cwd()), env: {}, memoryPath: ':memory:', logger: silentLogger, tools: [...ALL_TOOLS, instant] });
  try {
    const session = new LocalSession(runtime);
    const ctx = session.context({ signal: new AbortController().signal });
    const deps = { tools: runtime.catalog, config: runtime.config, memory: runtime.memory };
    const msPerStep: EngineFigures['msPerStep'] = { compute: {}, tool: {} };
    for (const size of sizes) {
      const rounds = Math.max(3, Math.ceil(stepsPerSize / size));
      for (const kind of ['compute', 'tool'] as const) {
        const loaded = { skill: benchSkill(kind, size), file: 'bench' };
        const samples: number[] = [];
        for (let round = 0; round <= rounds; round++) {
          const started = performance.now();
          const result = await runSkill(deps, ctx, { loaded, inputs: {} });
          const ms = performance.now() - started;
          if (result.status !== 'succeeded') throw new Error(`bench skill ${result.status}: ${result.error ?? result.report}`);
          if (round > 0) samples.push(ms / size); // the first run warms up
        }
        msPerStep[kind][size] = median(samples);
      }
    }
    const direct: number[] = [];
    for (let round = 0; round < 20; round++) {
      const started = performance.now();
      for (let i = 0; i < 200; i++) {
        const outcome = await ctx.callTool('bench_echo', { n: i, text: `step ${i} of bench` });
        if (!outcome.ok) throw new Error(outcome.text);
      }
      direct.push((performance.now() - started) / 200);
    }
    const directMsPerCall = median(direct);

    const smallest = sizes[0]!;
    const largest = sizes[sizes.length - 1]!;
    const lines = [`skill engine: cost per step as the skill grows (${sizes.join(', ')} steps; median of runs, ${stepsPerSize} steps timed per size)`];
    for (const kind of ['compute', 'tool'] as const) {
      for (const size of sizes.slice(1)) {
        const target = size === largest ? { max: FLAT_TARGET } : {};
        lines.push(`  ${figure(`${kind} step at ${size} steps vs at ${smallest}`, msPerStep[kind][size]!, msPerStep[kind][smallest]!, 'ms/step', target)}`);
      }
      // A run's total is a fixed cost (a fresh sandbox, the run record, the report) plus a cost per step.
      const total = (size: number) => msPerStep[kind][size]! * size;
      const marginal = (total(largest) - total(smallest)) / (largest - smallest);
      lines.push(`  ${figure(`${kind} step, cost of one more step vs the ${STEP_BUDGET_MS} ms budget`, marginal, STEP_BUDGET_MS, 'ms/step', { max: 1 })}`);
      lines.push(`  ${figure(`${kind} skill, fixed cost of a run vs a ${smallest}-step run`, total(smallest) - smallest * marginal, total(smallest), 'ms')}`);
    }
    lines.push(`  ${figure(`tool step at ${largest} steps vs a direct call of the same tool`, msPerStep.tool[largest]!, directMsPerCall, 'ms/step')}`);
    console.log(lines.join('\n'));
    return { msPerStep, directMsPerCall };
  } finally {
    runtime.close();
  }
}

// `node --import tsx bench/engine.ts [steps-per-size]`: this bench alone.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await benchEngine(SIZES, Number(process.argv[2] ?? STEPS_PER_SIZE));
