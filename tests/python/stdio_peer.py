"""The official Python MCP client against `node dist/cli.js serve` over stdio.

Usage: stdio_peer.py NODE CLI CONFIG MEMORY
Spawns the server with `stdio_client` twice (the initialize handshake, then the client's default
negotiation) and prints one JSON object of what it observed (see peer_checks.py).
"""

import sys
from typing import Any

from mcp.client.stdio import StdioServerParameters, stdio_client
from peer_checks import START_PERSONA, observe, run


def main_for(node: str, cli: str, config: str, memory: str):
    server = StdioServerParameters(
        command=node,
        args=[cli, "serve", "--config", config, "--memory", memory, "--persona", START_PERSONA],
    )

    async def main() -> dict[str, Any]:
        return {
            "transport": "stdio",
            "legacy": await observe(lambda: stdio_client(server), "legacy", persona_switch=True),
            "auto": await observe(lambda: stdio_client(server), "auto", persona_switch=False),
        }

    return main


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(f"usage: {sys.argv[0]} NODE CLI CONFIG MEMORY")
    run(main_for(*sys.argv[1:]))
