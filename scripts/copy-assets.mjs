// Runs after tsc. Builtin skills are YAML read at run time, so they are copied; builtin personas
// are turned into JSON, so that starting the server needs no YAML parser; and the tool list
// (names, titles, descriptions, annotations, JSON Schemas) is computed here from the tools' zod
// schemas, so that a server lists its tools without importing their modules (src/tools/manifest.ts).
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { parse } from 'yaml';

const src = (p) => new URL(`../src/${p}`, import.meta.url);
const dist = (p) => new URL(`../dist/${p}`, import.meta.url);

if (existsSync(src('skills/builtin'))) cpSync(src('skills/builtin'), dist('skills/builtin'), { recursive: true });

mkdirSync(dist('personas/builtin'), { recursive: true });
for (const file of readdirSync(src('personas/builtin')).filter((f) => /\.ya?ml$/.test(f))) {
  const persona = parse(readFileSync(src(`personas/builtin/${file}`), 'utf8'));
  writeFileSync(dist(`personas/builtin/${file.replace(/\.ya?ml$/, '.json')}`), JSON.stringify(persona));
}

const { MANIFEST_FILE, manifestOfModules } = await import(dist('tools/manifest.js').href);
writeFileSync(dist(MANIFEST_FILE), JSON.stringify(await manifestOfModules()));
