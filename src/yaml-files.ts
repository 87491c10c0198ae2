import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** A .yaml entry that is a folder is skipped; anything else (a FIFO, a dangling link) is kept for the reader to refuse by name. */
function notAFolder(path: string): boolean {
  try {
    return !statSync(path).isDirectory();
  } catch {
    return true;
  }
}

/** Every .yaml/.yml file under a folder (sub-folders included), sorted; none when the folder is absent. */
export function yamlFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => join(dir, f))
    .filter(notAFolder)
    .sort();
}
