import type { ToolListing } from '../tools/registry.js';
import type { Persona } from './schema.js';

export interface ToolFilter {
  core: Persona;
  persona: Persona;
  readOnly: boolean;
}

/**
 * The one filter: which tools a session sees. Used for tools/list and again at call time, so a
 * hidden tool is refused exactly like an unknown one.
 */
export function isToolVisible(tool: Pick<ToolListing, 'name' | 'family' | 'annotations'>, filter: ToolFilter): boolean {
  if (filter.readOnly && !tool.annotations.readOnlyHint) return false;
  const { core, persona } = filter;
  return (
    core.tools.includes(tool.name) ||
    core.families.includes(tool.family) ||
    persona.tools.includes(tool.name) ||
    persona.families.includes(tool.family)
  );
}

export function selectTools<T extends Pick<ToolListing, 'name' | 'family' | 'annotations'>>(tools: readonly T[], filter: ToolFilter): T[] {
  return tools.filter((tool) => isToolVisible(tool, filter));
}

/**
 * A kind of MCP resource (skill files, run records, ...) is read through tools: a session sees
 * the kind when it sees one of those tools. So the persona and the read-only rule above decide
 * resources too, and a resource never shows what the session's tools could not.
 */
export function isResourceKindVisible(kind: { tools: readonly string[] }, visibleTools: readonly Pick<ToolListing, 'name'>[]): boolean {
  return visibleTools.some((tool) => kind.tools.includes(tool.name));
}
