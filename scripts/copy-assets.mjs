// tsc does not copy non-TypeScript files: the builtin personas and skills are YAML read at run time.
import { cpSync, existsSync } from 'node:fs';

for (const dir of ['personas/builtin', 'skills/builtin']) {
  const from = new URL(`../src/${dir}`, import.meta.url);
  if (existsSync(from)) cpSync(from, new URL(`../dist/${dir}`, import.meta.url), { recursive: true });
}
