import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ToolError } from '../src/errors.js';
import { readFileSafely } from '../src/safe-read.js';
import { tempDir } from './helpers/harness.js';

let dir: { path: string; cleanup(): void };
let root: string;
beforeEach(() => {
  dir = tempDir('release-mcp-safe-read-');
  root = join(dir.path, 'root');
  mkdirSync(root);
});
afterEach(() => dir.cleanup());

function refusal(read: () => unknown): ToolError {
  try {
    read();
  } catch (error) {
    if (error instanceof ToolError) return error;
    throw error;
  }
  throw new Error('expected the read to be refused');
}

describe('readFileSafely', () => {
  it('reads a regular file inside its root', () => {
    writeFileSync(join(root, 'a.yaml'), 'name: a\n');
    expect(readFileSafely(join(root, 'a.yaml'), { roots: [root], maxBytes: 100 })).toBe('name: a\n');
  });

  it('refuses a path outside the roots, without saying whether it exists', () => {
    const passwd = refusal(() => readFileSafely('/etc/passwd', { roots: [root], maxBytes: 1 << 20 }));
    const missing = refusal(() => readFileSafely('/etc/no-such-file', { roots: [root], maxBytes: 1 << 20 }));
    expect(passwd.code).toBe('forbidden');
    expect(missing.code).toBe('forbidden');
    expect(passwd.message).toMatch(/outside the folders/);
    expect(refusal(() => readFileSafely(join(root, '../../../etc/passwd'), { roots: [root], maxBytes: 1 << 20 })).code).toBe('forbidden');
  });

  it('refuses a symlink that leads out of the root', () => {
    symlinkSync('/etc/passwd', join(root, 'out.yaml'));
    const error = refusal(() => readFileSafely(join(root, 'out.yaml'), { roots: [root], maxBytes: 1 << 20 }));
    expect(error.code).toBe('forbidden');
    expect(error.message).not.toMatch(/root:/);
  });

  it('refuses a FIFO without blocking, and a device, inside the root or not', () => {
    execFileSync('mkfifo', [join(root, 'pipe.yaml')]);
    expect(refusal(() => readFileSafely(join(root, 'pipe.yaml'), { roots: [root], maxBytes: 1 << 20 })).message).toMatch(/is a FIFO; only regular files/);
    expect(refusal(() => readFileSafely(join(root, 'pipe.yaml'), { maxBytes: 1 << 20 })).message).toMatch(/is a FIFO/);
    expect(refusal(() => readFileSafely('/dev/zero', { maxBytes: 1 << 20 })).message).toMatch(/is a device/);
    symlinkSync('/dev/zero', join(root, 'zero.yaml'));
    expect(refusal(() => readFileSafely(join(root, 'zero.yaml'), { maxBytes: 1 << 20 })).message).toMatch(/is a device/);
    expect(refusal(() => readFileSafely(join(root, 'zero.yaml'), { roots: ['/dev', root], maxBytes: 1 << 20 })).message).toMatch(/is a device/);
  });

  it('refuses a file over the cap and reads one at the cap', () => {
    writeFileSync(join(root, 'big.yaml'), 'x'.repeat(101));
    writeFileSync(join(root, 'fits.yaml'), 'x'.repeat(100));
    expect(refusal(() => readFileSafely(join(root, 'big.yaml'), { roots: [root], maxBytes: 100 })).message).toMatch(/larger than 100 bytes/);
    expect(readFileSafely(join(root, 'fits.yaml'), { roots: [root], maxBytes: 100 })).toHaveLength(100);
  });

  it('a missing file inside the root is not_found', () => {
    expect(refusal(() => readFileSafely(join(root, 'none.yaml'), { roots: [root], maxBytes: 100 })).code).toBe('not_found');
  });
});
