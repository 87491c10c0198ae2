"""What the official Python MCP client (`mcp` on PyPI) sees of release-mcp.

Shared by stdio_peer.py and http_peer.py. Nothing here asserts: each check records what the
client observed, the script prints it as one JSON object, and tests/python-client.test.ts holds
the assertions, so a difference shows up as a named, loud test failure on the TypeScript side.
"""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from importlib.metadata import version
from typing import Any

import anyio
from mcp import Client
from mcp.client.session import IncomingMessage
from mcp.types.version import MODERN_PROTOCOL_VERSIONS

# A read-only tool that needs no external service, and the same tool with input of the wrong type.
READ_ONLY_CALL = ("skill_describe", {"name": "release_to_prod"})
BAD_INPUT_CALL = ("skill_describe", {"name": 42})
# The persona the server starts with (--persona) and the one persona_load switches to.
START_PERSONA = "developer"
NEXT_PERSONA = "devops"
# A read-only tool of START_PERSONA that NEXT_PERSONA hides, and a tool no persona has.
HIDDEN_AFTER_SWITCH = "git_status"
UNKNOWN_TOOL = "no_such_tool"
# How long to wait for notifications/tools/list_changed after persona_load has answered.
LIST_CHANGED_WAIT_S = 5.0
# No single connection may take longer than this (a hung server must fail the run, not stall it).
CONNECTION_TIMEOUT_S = 60.0

Transport = Callable[[], AbstractAsyncContextManager[Any]]


def describe_error(error: BaseException) -> dict[str, Any]:
    """Type and message of an error, with the leaves of an exception group (anyio task groups wrap)."""
    leaves: list[BaseException] = []

    def walk(e: BaseException) -> None:
        if isinstance(e, BaseExceptionGroup):
            for inner in e.exceptions:
                walk(inner)
        else:
            leaves.append(e)

    walk(error)
    return {
        "type": type(error).__name__,
        "message": str(error),
        "leaves": [{"type": type(e).__name__, "message": str(e), "code": getattr(getattr(e, "error", None), "code", None)} for e in leaves],
    }


def wire(model: Any) -> Any:
    """A result as it was on the wire (camelCase keys, `_meta`), the shape the TypeScript tests read too."""
    return model.model_dump(by_alias=True, mode="json", exclude_none=True)


async def record(observed: dict[str, Any], key: str, step: Callable[[], Awaitable[Any]]) -> Any:
    """Runs one step; stores its value, or the error it raised, under `key`."""
    try:
        value = await step()
    except Exception as error:  # a failed step is an observation, not a crash of the script
        observed[key] = {"error": describe_error(error)}
        return None
    observed[key] = value
    return value


class Notifications:
    """Every server notification (and transport error) the client surfaces, in order."""

    def __init__(self) -> None:
        self.methods: list[str] = []
        self.errors: list[str] = []
        self._tools_changed = anyio.Event()

    async def __call__(self, message: IncomingMessage) -> None:
        if isinstance(message, Exception):
            self.errors.append(f"{type(message).__name__}: {message}")
            return
        self.methods.append(message.method)
        if message.method == "notifications/tools/list_changed":
            self._tools_changed.set()

    async def wait_tools_changed(self, seconds: float) -> bool:
        with anyio.move_on_after(seconds):
            await self._tools_changed.wait()
        return self._tools_changed.is_set()


async def tool_names(client: Client) -> list[str]:
    names: list[str] = []
    cursor: str | None = None
    while True:
        page = await client.list_tools(cursor=cursor) if cursor else await client.list_tools()
        names.extend(tool.name for tool in page.tools)
        cursor = page.next_cursor
        if not cursor:
            return sorted(names)


def negotiation(client: Client) -> dict[str, Any]:
    session = client.session
    discovered = session.discover_result
    initialized = session.initialize_result
    info = client.server_info
    capabilities = wire(client.server_capabilities)
    return {
        "protocol_version": client.protocol_version,
        "era": "modern" if client.protocol_version in MODERN_PROTOCOL_VERSIONS else "handshake",
        "handshake": "server/discover" if discovered is not None else "initialize" if initialized is not None else None,
        "server_supported_versions": list(discovered.supported_versions) if discovered is not None else None,
        "server_info": wire(info) if info is not None else None,
        "tools_list_changed": bool((capabilities.get("tools") or {}).get("listChanged")),
    }


async def observe(transport: Transport, mode: str, *, persona_switch: bool) -> dict[str, Any]:
    """Connects with the official client in `mode` ('legacy' or 'auto') and records what it sees."""
    observed: dict[str, Any] = {"mode": mode}
    notifications = Notifications()
    try:
        with anyio.fail_after(CONNECTION_TIMEOUT_S):
            async with Client(transport(), mode=mode, message_handler=notifications) as client:
                observed["negotiation"] = negotiation(client)
                await record(observed, "tools", lambda: tool_names(client))
                name, args = READ_ONLY_CALL
                await record(observed, "read_only_call", lambda: call(client, name, args))
                name, args = BAD_INPUT_CALL
                await record(observed, "bad_input_call", lambda: call(client, name, args))
                if persona_switch:
                    observed["persona_switch"] = await switch_persona(client, notifications)
    except Exception as error:
        observed["connect_error"] = describe_error(error)
    observed["notifications"] = notifications.methods
    observed["transport_errors"] = notifications.errors
    return observed


async def call(client: Client, name: str, args: dict[str, Any]) -> dict[str, Any]:
    return {"tool": name, "arguments": args, "result": wire(await client.call_tool(name, args))}


async def switch_persona(client: Client, notifications: Notifications) -> dict[str, Any]:
    switched: dict[str, Any] = {"from": START_PERSONA, "to": NEXT_PERSONA}
    await record(switched, "tools_before", lambda: tool_names(client))
    await record(switched, "result", lambda: call(client, "persona_load", {"persona": NEXT_PERSONA}))
    switched["list_changed_received"] = await notifications.wait_tools_changed(LIST_CHANGED_WAIT_S)
    await record(switched, "tools_after", lambda: tool_names(client))
    # A tool the new persona hides is refused at call time, like a tool that does not exist.
    await record(switched, "hidden_call", lambda: call(client, HIDDEN_AFTER_SWITCH, {}))
    await record(switched, "unknown_call", lambda: call(client, UNKNOWN_TOOL, {}))
    return switched


def report(observed: dict[str, Any]) -> None:
    """Prints the observations as one JSON object on stdout (the only thing the script writes there)."""
    observed["client"] = {"package": "mcp", "version": version("mcp"), "python": sys.version.split()[0]}
    sys.stdout.write(json.dumps(observed) + "\n")
    sys.stdout.flush()


def run(main: Callable[[], Awaitable[dict[str, Any]]]) -> None:
    try:
        observed = anyio.run(main)
    except Exception:
        traceback.print_exc()
        sys.exit(1)
    report(observed)
