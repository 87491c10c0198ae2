import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, realpathSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import { ToolError } from './errors.js';

/** Caps for files read on a caller's behalf: skill and knowledge YAML, app-interface files. */
export const FILE_CAPS = { skill: 1024 * 1024, knowledge: 4 * 1024 * 1024, repoYaml: 4 * 1024 * 1024 } as const;

export interface SafeReadOptions {
  /** Folders the file must be inside after every symlink is resolved; no confinement when absent. */
  roots?: readonly string[];
  /** Largest file accepted, in bytes. */
  maxBytes: number;
}

/** The real path of a root, or undefined when it does not exist (a missing root confines nothing). */
function realRoot(root: string): string | undefined {
  try {
    return realpathSync(root);
  } catch {
    return undefined;
  }
}

export function isInside(path: string, root: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

/**
 * The real path of `path`, refused unless it lies inside one of `roots` once symlinks are
 * resolved. A missing file is not_found; one outside the roots is forbidden.
 */
export function confinedPath(path: string, roots: readonly string[]): string {
  // Refuse a path that is outside before touching it: the answer must not tell whether it exists.
  if (!roots.some((root) => isInside(resolve(path), resolve(root)))) throw outside(path, roots);
  let real: string;
  try {
    real = realpathSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new ToolError('not_found', `no file ${path}`);
    throw new ToolError('forbidden', `cannot read ${path}: ${code ?? (error as Error).message}`);
  }
  const allowed = roots.map(realRoot).filter((r): r is string => r !== undefined);
  if (!allowed.some((root) => isInside(real, root))) throw outside(path, roots);
  return real;
}

function outside(path: string, roots: readonly string[]): ToolError {
  return new ToolError('forbidden', `${path} is outside the folders this server reads (${roots.join(', ') || 'none'})`, {
    hint: 'give a file inside one of those folders (symlinks are followed before the check)',
  });
}

function kindOf(stat: { isFIFO(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isSocket(): boolean; isDirectory(): boolean }): string {
  if (stat.isFIFO()) return 'a FIFO';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device';
  if (stat.isSocket()) return 'a socket';
  if (stat.isDirectory()) return 'a folder';
  return 'not a regular file';
}

function tooLarge(path: string, maxBytes: number): ToolError {
  return new ToolError('invalid_input', `${path} is larger than ${maxBytes} bytes`, { hint: 'split the file; release-mcp reads files of at most that size' });
}

/**
 * Read a text file a caller named (directly or through config) without letting it reach beyond
 * what it may: confined to `roots` after symlinks, a regular file only (a FIFO would block, a
 * device like /dev/zero never ends), and at most `maxBytes` (read cap+1, never the whole file).
 */
export function readFileSafely(path: string, options: SafeReadOptions): string {
  const real = options.roots ? confinedPath(path, options.roots) : path;
  let before;
  try {
    before = lstatSync(real);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ToolError(code === 'ENOENT' ? 'not_found' : 'forbidden', `cannot read ${path}: ${code ?? (error as Error).message}`);
  }
  // Without confinement a symlink is resolved by open; the fstat below still checks what it reaches.
  if (options.roots && !before.isFile()) throw new ToolError('invalid_input', `${path} is ${kindOf(before)}; only regular files are read`);
  if (!before.isFile() && !before.isSymbolicLink()) throw new ToolError('invalid_input', `${path} is ${kindOf(before)}; only regular files are read`);
  if (before.isFile() && before.size > options.maxBytes) throw tooLarge(path, options.maxBytes);
  // O_NONBLOCK: a FIFO swapped in after the lstat cannot block the open; O_NOFOLLOW: nor a symlink swapped in for a confined path.
  const flags = constants.O_RDONLY | constants.O_NONBLOCK | (options.roots ? constants.O_NOFOLLOW : 0);
  let fd: number;
  try {
    fd = openSync(real, flags);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ToolError(code === 'ENOENT' ? 'not_found' : 'forbidden', `cannot read ${path}: ${code ?? (error as Error).message}`);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new ToolError('invalid_input', `${path} is ${kindOf(stat)}; only regular files are read`);
    if (stat.size > options.maxBytes) throw tooLarge(path, options.maxBytes);
    // The size can grow between fstat and read: read until EOF but at most cap+1 bytes, and refuse if the +1 came.
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.alloc(Math.min(64 * 1024, options.maxBytes + 1 - total));
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      chunks.push(chunk.subarray(0, n));
      total += n;
      if (total > options.maxBytes) throw tooLarge(path, options.maxBytes);
    }
    return Buffer.concat(chunks).toString('utf8');
  } finally {
    closeSync(fd);
  }
}
