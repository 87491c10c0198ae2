"""The official Python MCP client against `node dist/cli.js serve --http` (Streamable HTTP).

Usage: RELEASE_MCP_TEST_TOKEN=<bearer token> http_peer.py URL
The server is already running (the test starts it); the token comes from the environment so it
never shows in a process list. Connects with the token (the initialize handshake, then the
client's default negotiation), then without it and with a wrong one, and prints one JSON object
of what it observed (see peer_checks.py).
"""

import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx2
from mcp.client.streamable_http import streamable_http_client
from peer_checks import describe_error, observe, run

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "http-peer", "version": "1.0.0"}},
}


def transport_for(url: str, token: str | None):
    """A Streamable HTTP transport whose every request carries `Authorization: Bearer <token>` (none if None)."""

    @asynccontextmanager
    async def transport() -> AsyncIterator[Any]:
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        async with httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30.0)) as http:
            async with streamable_http_client(url, http_client=http) as streams:
                yield streams

    return transport


async def raw_initialize(url: str, authorization: str | None) -> dict[str, Any]:
    """One initialize POST as any HTTP client would send it; what status and headers come back."""
    headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
    if authorization is not None:
        headers["Authorization"] = authorization
    try:
        async with httpx2.AsyncClient(timeout=httpx2.Timeout(30.0)) as http:
            response = await http.post(url, json=INITIALIZE, headers=headers)
            return {
                "status": response.status_code,
                "www_authenticate": response.headers.get("www-authenticate"),
                "session_id": response.headers.get("mcp-session-id"),
                "body": response.text[:500],
            }
    except Exception as error:
        return {"error": describe_error(error)}


def main_for(url: str, token: str):
    async def main() -> dict[str, Any]:
        return {
            "transport": "http",
            "legacy": await observe(transport_for(url, token), "legacy", persona_switch=True),
            "auto": await observe(transport_for(url, token), "auto", persona_switch=False),
            "without_token": {
                "raw": await raw_initialize(url, None),
                "client": await observe(transport_for(url, None), "auto", persona_switch=False),
            },
            "wrong_token": {"raw": await raw_initialize(url, f"Bearer not-{token}")},
        }

    return main


if __name__ == "__main__":
    token = os.environ.get("RELEASE_MCP_TEST_TOKEN")
    if len(sys.argv) != 2 or not token:
        sys.exit(f"usage: RELEASE_MCP_TEST_TOKEN=<token> {sys.argv[0]} URL")
    run(main_for(sys.argv[1], token))
