import type { CallToolResult } from '@modelcontextprotocol/server';
import type { ResourceLink, ToolOutcome } from '../tools/registry.js';

/**
 * The text is the readable report only: the data goes once, as structuredContent (a client that
 * shows text to its model shows the report, one that reads data reads structuredContent). Records
 * the result stands for (a run, a release) follow as resource links.
 *
 * A failure carries its code and hint in the text and in `_meta`. Its structuredContent is set
 * only when it matches the tool's outputSchema (a failed skill run's full record), because
 * clients validate structuredContent against that schema even on errors.
 */
export function toCallToolResult(outcome: ToolOutcome): CallToolResult {
  const content: CallToolResult['content'] = [{ type: 'text', text: outcome.text }, ...(outcome.links ?? []).map(linkBlock)];
  if (outcome.ok) return { content, structuredContent: outcome.data };
  return {
    content,
    isError: true,
    ...(outcome.data ? { structuredContent: outcome.data } : {}),
    _meta: { 'release-mcp/error': outcome.error },
  };
}

function linkBlock(link: ResourceLink): CallToolResult['content'][number] {
  return { type: 'resource_link', uri: link.uri, name: link.name, mimeType: link.mimeType, description: link.description };
}
