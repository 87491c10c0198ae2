// Runs after tsc. Builtin skills are YAML read at run time, so they are copied; builtin personas
// are turned into JSON, so that starting the server needs no YAML parser; and every tool's JSON
// Schema is computed once here, not at each start (see ToolCatalog).
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

const { ALL_TOOLS, jsonSchemaOf } = await import(dist('tools/index.js').href);
const schemas = Object.fromEntries(ALL_TOOLS.map((t) => [t.name, { input: jsonSchemaOf(t.input, 'input'), output: jsonSchemaOf(t.output, 'output') }]));
writeFileSync(dist('tool-schemas.json'), JSON.stringify(schemas));
