import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Every .yaml/.yml file under a folder (sub-folders included), sorted; none when the folder is absent. */
export function yamlFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile())
    .sort();
}
