import { selectTools } from '../personas/index.js';
import { parseFlags, RUNTIME_FLAGS, runtimeFromFlags, UsageError } from './common.js';

export const TOOLS_HELP = `Usage: release-mcp tools list [--persona NAME] [--read-only] [--json]

List the tools a persona provides (core tools included).

Options:
  --persona NAME   persona (default: config default_persona)
  --read-only      only read-only tools
  --json           print JSON (name, family, title, annotations, input schema)
  --config FILE    config file
`;

export async function toolsCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, { ...RUNTIME_FLAGS, json: { type: 'boolean' } });
  if (values.help || positionals.length === 0) {
    process.stdout.write(TOOLS_HELP);
    return values.help ? 0 : 2;
  }
  if (positionals[0] !== 'list' || positionals.length > 1) throw new UsageError(`unknown tools command "${positionals.join(' ')}"; try: release-mcp tools list`);
  const runtime = await runtimeFromFlags({ ...values, memory: values.memory ?? ':memory:' });
  try {
    const core = runtime.personas.get('core')!;
    const persona = runtime.personas.get(runtime.defaultPersona)!;
    const tools = selectTools(runtime.catalog.all, { core, persona, readOnly: runtime.readOnly });
    if (values.json) {
      const rows = tools.map((t) => ({ name: t.name, family: t.family, title: t.title, description: t.description, annotations: t.annotations, inputSchema: runtime.catalog.listedSchemas(t.name).input }));
      process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    } else {
      const width = Math.max(...tools.map((t) => t.name.length));
      process.stdout.write(`persona ${persona.name}${runtime.readOnly ? ' (read-only)' : ''}: ${tools.length} tools\n`);
      for (const t of tools) {
        const marks = t.annotations.readOnlyHint ? 'read' : t.annotations.destructiveHint ? 'DESTRUCTIVE' : 'write';
        process.stdout.write(`  ${t.name.padEnd(width)}  ${marks.padEnd(11)}  ${t.title}\n`);
      }
    }
    return 0;
  } finally {
    await runtime.close();
  }
}
