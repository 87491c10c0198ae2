import type { CallToolResult } from '@modelcontextprotocol/server';
import type { ToolOutcome } from '../tools/registry.js';

/**
 * A failure carries its code and hint in the text and in `_meta`. Its structuredContent is set
 * only when it matches the tool's outputSchema (a failed skill run's full record), because
 * clients validate structuredContent against that schema even on errors.
 */
export function toCallToolResult(outcome: ToolOutcome): CallToolResult {
  if (outcome.ok) {
    return { content: [{ type: 'text', text: `${outcome.text}\n${JSON.stringify(outcome.data)}` }], structuredContent: outcome.data };
  }
  return {
    content: [{ type: 'text', text: outcome.text }],
    isError: true,
    ...(outcome.data ? { structuredContent: outcome.data } : {}),
    _meta: { 'release-mcp/error': outcome.error },
  };
}
