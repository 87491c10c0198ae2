import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The official Python MCP client (`mcp` on PyPI) as a peer of the server in tests. `.ci/run`
 * makes the venv `.venv-python` at the repository root and installs tests/python/requirements.txt;
 * RELEASE_MCP_PYTHON names another interpreter. Off CI the tests skip when neither has `mcp`;
 * in CI they fail, so they never silently stop running.
 */

export const VENV_PYTHON = join('.venv-python', 'bin', 'python');
const SETUP = 'python3 -m venv .venv-python && .venv-python/bin/pip install -r tests/python/requirements.txt';

export interface PythonMcp {
  python: string;
  /** Version of the installed `mcp` package. */
  mcpVersion: string;
}

function probe(python: string): PythonMcp | string {
  const run = spawnSync(python, ['-c', 'import mcp, importlib.metadata as m; print(m.version("mcp"))'], { encoding: 'utf8', timeout: 30_000 });
  if (run.error) return run.error.message;
  if (run.status !== 0) return run.stderr.trim().split('\n').pop() ?? `exit ${run.status}`;
  return { python, mcpVersion: run.stdout.trim() };
}

/**
 * The interpreter to run the Python peers with: RELEASE_MCP_PYTHON, else the repository's venv.
 * Undefined (skip) when there is none off CI; throws in CI, or when RELEASE_MCP_PYTHON is set
 * but cannot import `mcp` (a named interpreter that does not work is a mistake, not a skip).
 */
export function pythonMcpClient(env: NodeJS.ProcessEnv = process.env, root = process.cwd()): PythonMcp | undefined {
  const named = env.RELEASE_MCP_PYTHON;
  if (named) {
    const found = probe(named);
    if (typeof found === 'string') throw new Error(`RELEASE_MCP_PYTHON=${named} cannot import the mcp package (${found}); install it with: ${SETUP}`);
    return found;
  }
  const venv = join(root, VENV_PYTHON);
  const found = existsSync(venv) ? probe(venv) : `${VENV_PYTHON} does not exist`;
  if (typeof found !== 'string') return found;
  if (env.CI) throw new Error(`the Python MCP client is missing and CI is set (${found}): .ci/run installs it (${SETUP}); these tests must run in CI`);
  return undefined;
}

export interface ScriptRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a Python script to its end (no shell), killing it after `timeoutMs`. */
export function runPython(python: string, args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs: number }): Promise<ScriptRun> {
  return new Promise((resolve, reject) => {
    // No __pycache__ next to the scripts in the checkout.
    const child = spawn(python, args, { env: { ...process.env, ...options.env, PYTHONDONTWRITEBYTECODE: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}
