"""A Zabbix API server in a box, for tests and the demo: JSON-RPC over HTTP on loopback, behaving as the
published API reference describes for 6.0 LTS or 7.0 (the methods `ZabbixClient` uses, their errors).

    simulator = ZabbixSimulator(version="6.0.30", token="secret-token")
    host = simulator.add_host("core-sw1", "Core switch 1")
    simulator.raise_problem(host, "Interface ge-0/0/1 down", Severity.HIGH)
    async with simulator.serving() as url:   # http://127.0.0.1:<port>/api_jsonrpc.php
        ...

What it holds to: ``apiinfo.version`` refuses authentication; 6.0 and 6.2 read the token or session only from
the request's ``auth`` member (a Bearer header is ignored, so the call is "Not authorised."), 6.4 and later
also from ``Authorization: Bearer``; ``user.login`` takes ``username`` and ``password``; a wrong one is
"Incorrect user name or password or account is temporarily blocked."; an unknown method is -32601; errors
come with HTTP 200 as JSON-RPC errors. Not a Zabbix: no items, no history, no permissions.
"""

import asyncio
import contextlib
import json
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from ispb_monitor.zabbix import Severity

__all__ = ("ZabbixSimulator",)

_INVALID_PARAMS = -32602
_NOT_AUTHORISED = "Not authorised."


@dataclass
class _Host:
    hostid: str
    host: str
    name: str
    enabled: bool = True
    available: str = "1"


@dataclass
class _Problem:
    eventid: str
    triggerid: str
    hostid: str
    name: str
    severity: Severity
    clock: int
    acknowledged: bool = False


@dataclass
class ZabbixSimulator:
    version: str = "7.0.5"
    token: str = "ispb-demo-token"  # noqa: S105 (a simulator's own, known to tests and the demo)
    username: str = "Admin"
    password: str = "zabbix"  # noqa: S105 (Zabbix's documented default)
    hosts: list[_Host] = field(default_factory=list)
    problems: list[_Problem] = field(default_factory=list)
    sessions: set[str] = field(default_factory=set)
    calls: list[str] = field(default_factory=list)
    """Every method called, in order (tests read it)."""
    _next_id: int = 10000

    def _id(self) -> str:
        self._next_id += 1
        return str(self._next_id)

    def add_host(self, host: str, name: str = "", *, available: bool = True) -> str:
        """A monitored host; returns its hostid."""
        hostid = self._id()
        self.hosts.append(_Host(hostid, host, name or host, True, "1" if available else "2"))
        return hostid

    def raise_problem(
        self,
        hostid: str,
        name: str,
        severity: Severity = Severity.AVERAGE,
        *,
        age_s: int = 0,
        acknowledged: bool = False,
    ) -> str:
        """An active problem on a host, ``age_s`` seconds old; returns its eventid."""
        problem = _Problem(self._id(), self._id(), hostid, name, severity, int(time.time()) - age_s, acknowledged)
        self.problems.append(problem)
        return problem.eventid

    def resolve(self, eventid: str) -> None:
        self.problems = [p for p in self.problems if p.eventid != eventid]

    @property
    def _major_minor(self) -> tuple[int, int]:
        major, minor = (int(part) for part in self.version.split(".")[:2])
        return major, minor

    # --- the API ---------------------------------------------------------------------------------------------

    def answer(self, request: Any, bearer: str | None) -> dict[str, Any]:
        """The JSON-RPC answer to one decoded request body."""
        if not isinstance(request, dict) or request.get("jsonrpc") != "2.0" or "method" not in request:
            return _error(None, -32600, "Invalid request.", "Invalid JSON-RPC request.")
        ident, method, params = request.get("id"), str(request["method"]), request.get("params", {})
        self.calls.append(method)
        auth = request.get("auth")
        if self._major_minor >= (6, 4) and bearer:
            auth = auth or bearer
        if method == "apiinfo.version":
            if request.get("auth") is not None or (bearer and self._major_minor >= (6, 4)):
                return _error(ident, _INVALID_PARAMS, "Invalid params.",
                              'The "apiinfo.version" method must be called without the "auth" parameter.')  # fmt: skip
            return _result(ident, self.version)
        if method == "user.login":
            if not isinstance(params, dict) or "username" not in params:
                return _error(ident, _INVALID_PARAMS, "Invalid params.",
                              'Invalid parameter "/": the parameter "username" is missing.')  # fmt: skip
            if params.get("username") != self.username or params.get("password") != self.password:
                return _error(ident, _INVALID_PARAMS, "Invalid params.",
                              "Incorrect user name or password or account is temporarily blocked.")  # fmt: skip
            session = secrets.token_hex(16)
            self.sessions.add(session)
            return _result(ident, session)
        if auth != self.token and auth not in self.sessions:
            return _error(ident, _INVALID_PARAMS, "Invalid params.", _NOT_AUTHORISED)
        handler = {
            "user.logout": self._logout,
            "host.get": self._host_get,
            "problem.get": self._problem_get,
            "trigger.get": self._trigger_get,
        }.get(method)
        if handler is None:
            return _error(ident, -32601, "Method not found.", f'Incorrect API "{method.split(".")[0]}".')
        return _result(ident, handler(params if isinstance(params, dict) else {}, str(auth)))

    def _logout(self, params: dict[str, Any], auth: str) -> bool:
        self.sessions.discard(auth)
        return True

    def _host_get(self, params: dict[str, Any], auth: str) -> list[dict[str, Any]]:
        rows = []
        for h in sorted(self.hosts, key=lambda h: h.name):
            row: dict[str, Any] = {
                "hostid": h.hostid,
                "host": h.host,
                "name": h.name,
                "status": "0" if h.enabled else "1",
            }
            if "selectInterfaces" in params:
                row["interfaces"] = [{"type": "1", "available": h.available}]
            rows.append(row)
        return rows

    def _problem_get(self, params: dict[str, Any], auth: str) -> list[dict[str, Any]]:
        problems = sorted(self.problems, key=lambda p: int(p.eventid), reverse=params.get("sortorder") == "DESC")
        limit = int(params.get("limit", len(problems)) or len(problems))
        return [
            {"eventid": p.eventid, "source": "0", "object": "0", "objectid": p.triggerid, "clock": str(p.clock),
             "ns": "0", "r_eventid": "0", "name": p.name, "acknowledged": "1" if p.acknowledged else "0",
             "severity": str(int(p.severity)), "suppressed": "0"}
            for p in problems[:limit]
        ]  # fmt: skip

    def _trigger_get(self, params: dict[str, Any], auth: str) -> list[dict[str, Any]]:
        wanted = {str(t) for t in params.get("triggerids", [])} or None
        names = {h.hostid: h.name for h in self.hosts}
        rows = []
        for p in self.problems:
            if wanted is not None and p.triggerid not in wanted:
                continue
            row: dict[str, Any] = {"triggerid": p.triggerid, "description": p.name, "priority": str(int(p.severity))}
            if "selectHosts" in params:
                row["hosts"] = [{"hostid": p.hostid, "name": names.get(p.hostid, "")}]
            rows.append(row)
        return rows

    # --- HTTP ------------------------------------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request_line = await reader.readline()
                if not request_line:
                    return
                headers: dict[str, str] = {}
                while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
                    name, _, value = line.decode("latin-1").partition(":")
                    key = name.strip().lower()
                    headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0") or 0))
                method, path, *_ = request_line.decode("latin-1").split(" ")
                kinds = ("application/json-rpc", "application/json", "application/jsonrequest")
                if method == "POST" and path == "/api_jsonrpc.php" and headers.get("content-type") not in kinds:
                    # as Zabbix: a missing, unknown or repeated (joined) Content-Type is refused before JSON-RPC
                    status, payload, kind = "412 Precondition Failed", b"Precondition failed", "text/plain"
                elif method != "POST" or path != "/api_jsonrpc.php":
                    status, payload = "404 Not Found", b"<html><body>Not found</body></html>"
                    kind = "text/html"
                else:
                    bearer = headers.get("authorization", "")
                    token = bearer[7:] if bearer.lower().startswith("bearer ") else None
                    try:
                        decoded = json.loads(body)
                    except ValueError:
                        reply = _error(
                            None,
                            -32700,
                            "Parse error.",
                            "Invalid JSON. An error occurred on the server while parsing the JSON text.",
                        )
                    else:
                        reply = self.answer(decoded, token)
                    status, payload, kind = "200 OK", json.dumps(reply).encode(), "application/json"
                writer.write(
                    f"HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {len(payload)}\r\n\r\n".encode()
                    + payload
                )
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            return
        finally:
            writer.close()

    @contextlib.asynccontextmanager
    async def serving(self, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[str]:
        """Listen on ``host:port`` (0: any free port) while the block runs; yields the API URL."""
        server = await asyncio.start_server(self._serve, host, port)
        bound = server.sockets[0].getsockname()[1]
        try:
            yield f"http://{host}:{bound}/api_jsonrpc.php"
        finally:
            server.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(server.wait_closed(), 2)


def _result(ident: Any, result: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "result": result, "id": ident}


def _error(ident: Any, code: int, message: str, data: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "error": {"code": code, "message": message, "data": data}, "id": ident}
