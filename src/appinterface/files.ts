import { existsSync, realpathSync, writeFileSync } from 'node:fs';
import { isAbsolute, resolve, sep } from 'node:path';
import { ToolError } from '../errors.js';
import { FILE_CAPS, readFileSafely } from '../safe-read.js';

/** A file inside a checkout, by a path relative to it; `..` and absolute paths are refused. */
export function repoFile(root: string, file: string): string {
  if (isAbsolute(file) || file.startsWith('-')) throw new ToolError('invalid_input', `file must be a path relative to the repository: ${file}`);
  const full = resolve(root, file);
  const base = realpathSync(root);
  if (!full.startsWith(resolve(root) + sep)) throw new ToolError('forbidden', `file ${file} is outside the repository`);
  if (!existsSync(full)) throw new ToolError('not_found', `no file ${file} in ${root}`, { hint: 'check app_interface.deploy_file, and that the checkout is on the right branch' });
  if (!realpathSync(full).startsWith(base + sep)) throw new ToolError('forbidden', `file ${file} leads outside the repository`);
  return full;
}

export function readRepoFile(root: string, file: string): string {
  return readFileSafely(repoFile(root, file), { roots: [root], maxBytes: FILE_CAPS.repoYaml });
}

export function writeRepoFile(root: string, file: string, text: string): void {
  writeFileSync(repoFile(root, file), text, 'utf8');
}
