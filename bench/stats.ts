import { existsSync, readdirSync, readFileSync } from 'node:fs';

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function fmt(ms: number): string {
  return ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(ms < 10 ? 2 : 1)} ms`;
}

export function verdict(ok: boolean): string {
  return ok ? 'PASS' : 'MISS';
}

/** A number with its unit, at a precision that fits its size. */
function amount(value: number, unit: string): string {
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : Math.abs(value) >= 1 ? 2 : 3;
  return `${value.toFixed(digits)} ${unit}`;
}

export interface Target {
  /** The ratio this figure should stay at or under (`max`) or reach (`min`). */
  max?: number;
  min?: number;
}

/**
 * One figure as every bench prints it: `name: value unit (baseline X unit, ratio R)`, then the
 * target when there is one. The ratio is value / baseline.
 */
export function figure(name: string, value: number, baseline: number, unit: string, target: Target = {}): string {
  const ratio = value / baseline;
  let line = `${name}: ${amount(value, unit)} (baseline ${amount(baseline, unit)}, ratio ${ratio.toFixed(2)})`;
  if (target.max !== undefined) line += `  target <= ${target.max}: ${verdict(ratio <= target.max)}`;
  if (target.min !== undefined) line += `  target >= ${target.min}: ${verdict(ratio >= target.min)}`;
  return line;
}

/** CPU time of every thread of a process so far, from /proc (nanosecond counters); undefined off Linux. */
export function cpuMsOf(pid: number | null): number | undefined {
  const tasks = `/proc/${pid}/task`;
  if (pid === null || !existsSync(tasks)) return undefined;
  let ns = 0;
  for (const task of readdirSync(tasks)) {
    try {
      ns += Number(readFileSync(`${tasks}/${task}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // a thread that ended meanwhile
    }
  }
  return ns / 1e6;
}
