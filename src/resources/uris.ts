/**
 * The addresses of release-mcp's MCP resources. Tool results link to them (a run record, a
 * release manifest) and the resource handlers read them, so both build URIs here.
 */
export const RESOURCE_SCHEME = 'release-mcp';

export const resourceUris = {
  run: (runId: string) => `${RESOURCE_SCHEME}://runs/${encodeURIComponent(runId)}`,
  skill: (name: string) => `${RESOURCE_SCHEME}://skills/${encodeURIComponent(name)}`,
  release: (releaseId: string) => `${RESOURCE_SCHEME}://releases/${encodeURIComponent(releaseId)}`,
  audit: () => `${RESOURCE_SCHEME}://audit`,
  knowledge: (path: string) => `${RESOURCE_SCHEME}://knowledge/${path.split('/').map(encodeURIComponent).join('/')}`,
} as const;
