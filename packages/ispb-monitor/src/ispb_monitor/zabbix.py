"""A Zabbix JSON-RPC API client for Zabbix 6.0 LTS and 7.0: version, sign-in, hosts, active problems, triggers.

What differs between the versions, and how this client handles it:

- ``apiinfo.version`` is called without any authentication (Zabbix refuses one there), first, to know the rest.
- An API token (Administration → Users → API tokens) is sent as ``Authorization: Bearer <token>`` from 6.4 on
  and in the request's ``auth`` member before (6.0 and 6.2 know no header; 7.2 dropped the member).
- A user and password sign in with ``user.login`` (``username``; the old ``user`` name is gone since 6.4), and
  the session is ended with ``user.logout`` when the client closes, so a sync every five minutes does not
  leave sessions behind.
- ``problem.get`` names no host; the hosts come from ``trigger.get`` with ``selectHosts`` for the problems'
  triggers (one call for all of them).

Requests go through ``ispb_notify.HttpClient``: the outbound-address policy applies to the Zabbix URL the
operator typed, and redirects are not followed. Failures are typed: `ZabbixUnreachable` (bad URL, no answer,
not an API), `ZabbixAuthError` (bad token or password), `ZabbixVersionError`, `ZabbixApiError` (any other
error the API reports).

    client = ZabbixClient("https://zabbix.example.net", token="...")
    async with client:
        problems = await client.problems()
"""

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import IntEnum
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlencode, urlsplit

from ispb_notify import HttpClient, HttpTransportError, OutboundPolicy, OutboundRefused

__all__ = (
    "SUPPORTED",
    "Severity",
    "ZabbixApiError",
    "ZabbixAuthError",
    "ZabbixClient",
    "ZabbixError",
    "ZabbixHost",
    "ZabbixProblem",
    "ZabbixTrigger",
    "ZabbixUnreachable",
    "ZabbixVersionError",
    "api_url",
    "frontend_url",
)

SUPPORTED = ((6, 0), (8, 0))
"""The versions this client speaks: from 6.0 up to, not including, 8.0 (tested on 6.0 LTS and 7.0 LTS)."""
_BEARER_SINCE = (6, 4)
_AUTH_WORDS = ("not authori", "session terminated", "re-login", "incorrect user name or password", "api token")


class ZabbixError(Exception):
    """Anything that kept the client from an answer; ``str(error)`` is for the operator."""


class ZabbixUnreachable(ZabbixError):
    """The URL does not lead to a Zabbix API: no answer, refused address, an HTTP error, not JSON-RPC."""


class ZabbixAuthError(ZabbixError):
    """The token or the user and password were refused (or the session expired)."""


class ZabbixVersionError(ZabbixError):
    """The server runs a Zabbix version this client does not speak."""


class ZabbixApiError(ZabbixError):
    """The API answered with an error: ``code``, ``message`` and ``data`` are Zabbix's own."""

    def __init__(self, method: str, code: int, message: str, data: str) -> None:
        super().__init__(f"{method}: {message} {data}".strip())
        self.method, self.code, self.message, self.data = method, code, message, data


class Severity(IntEnum):
    NOT_CLASSIFIED = 0
    INFORMATION = 1
    WARNING = 2
    AVERAGE = 3
    HIGH = 4
    DISASTER = 5

    @property
    def label(self) -> str:
        return self.name.replace("_", " ").capitalize()


@dataclass(frozen=True)
class ZabbixHost:
    hostid: str
    host: str
    """The technical name."""
    name: str
    """The visible name."""
    enabled: bool
    available: bool | None
    """Whether its agent interface is reachable (None: Zabbix does not know, e.g. no agent interface)."""


@dataclass(frozen=True)
class ZabbixTrigger:
    triggerid: str
    description: str
    priority: Severity
    hosts: tuple[tuple[str, str], ...]
    """(hostid, visible name) of the hosts the trigger is on."""


@dataclass(frozen=True)
class ZabbixProblem:
    eventid: str
    triggerid: str
    name: str
    severity: Severity
    acknowledged: bool
    since: datetime
    hosts: tuple[tuple[str, str], ...]

    def age_seconds(self, now: datetime) -> int:
        return max(0, int((now - self.since).total_seconds()))


def api_url(url: str) -> str:
    """The API endpoint for what an operator types: the frontend's address or the endpoint itself.

    >>> api_url("https://zabbix.example.net/zabbix/")
    'https://zabbix.example.net/zabbix/api_jsonrpc.php'
    """
    base = url.strip()
    if base.endswith("api_jsonrpc.php"):
        return base
    return base.rstrip("/") + "/api_jsonrpc.php"


def frontend_url(url: str, page: str, **query: str) -> str:
    """A link into the Zabbix frontend (``page`` such as ``tr_events.php``), for "open in Zabbix".

    >>> frontend_url("https://z.example.net/api_jsonrpc.php", "tr_events.php", triggerid="7", eventid="9")
    'https://z.example.net/tr_events.php?triggerid=7&eventid=9'
    """
    base = api_url(url).removesuffix("api_jsonrpc.php")
    return base + page + (("?" + urlencode(query)) if query else "")


def _version(text: str) -> tuple[int, int, int]:
    parts = [*text.split("."), "0", "0"][:3]
    try:
        major, minor, patch = (int("".join(ch for ch in part if ch.isdigit()) or "0") for part in parts)
    except ValueError as error:
        raise ZabbixUnreachable(f"the API answered an unreadable version {text!r}") from error
    return major, minor, patch


class ZabbixClient:
    """One Zabbix API; close it (``async with`` or ``aclose``) to end a password session."""

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        username: str | None = None,
        password: str | None = None,
        policy: OutboundPolicy | None = None,
        http: HttpClient | None = None,
        timeout: float = 15.0,
    ) -> None:
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ZabbixUnreachable(f"{url!r} is not an http:// or https:// address")
        if not token and not (username and password):
            raise ZabbixAuthError("give an API token, or a user name and password")
        self.url = api_url(url)
        self._token = token
        self._username, self._password = username, password
        self._own_http = http is None
        self._http = http if http is not None else HttpClient(max_connections=2, policy=policy)
        self._timeout = timeout
        self._session: str | None = None
        self._version: tuple[int, int, int] | None = None
        self._id = 0

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """End the password session (if any; failures ignored, it expires anyway) and close connections."""
        if self._session is not None:
            with contextlib.suppress(ZabbixError):
                await self.call("user.logout", [])
            self._session = None
        if self._own_http:
            await self._http.aclose()

    async def version(self) -> tuple[int, int, int]:
        """The server's version (``apiinfo.version``, asked once); raises `ZabbixVersionError` outside
        `SUPPORTED`."""
        if self._version is None:
            text = await self._rpc("apiinfo.version", [], auth=False)
            found = _version(str(text))
            if not SUPPORTED[0] <= found[:2] < SUPPORTED[1]:
                shown = ".".join(map(str, found))
                raise ZabbixVersionError(f"the server runs Zabbix {shown}; ISPB speaks 6.0 LTS to 7.x")
            self._version = found
        return self._version

    async def _credential(self) -> str:
        if self._token:
            return self._token
        if self._session is None:
            version = await self.version()
            name = "username" if version >= (5, 4) else "user"
            session = await self._rpc("user.login", {name: self._username, "password": self._password}, auth=False)
            if not isinstance(session, str):
                raise ZabbixApiError("user.login", 0, "unexpected answer", repr(session)[:80])
            self._session = session
        return self._session

    async def call(self, method: str, params: Mapping[str, Any] | Sequence[Any]) -> Any:
        """Any API method, authenticated; the ``result`` member."""
        return await self._rpc(method, params, auth=True)

    async def _rpc(self, method: str, params: Mapping[str, Any] | Sequence[Any], *, auth: bool) -> Any:
        self._id += 1
        body: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "params": params, "id": self._id}
        headers: dict[str, str] = {}  # HttpClient sends Content-Type: application/json, which Zabbix accepts
        if auth:
            credential = await self._credential()
            if await self.version() >= _BEARER_SINCE:
                headers["Authorization"] = f"Bearer {credential}"
            else:
                body["auth"] = credential
        try:
            response = await self._http.request(
                "POST", self.url, seconds=self._timeout, json_body=body, headers=headers
            )
        except OutboundRefused as refused:
            raise ZabbixUnreachable(str(refused)) from refused
        except (HttpTransportError, ValueError) as error:
            raise ZabbixUnreachable(f"{self.url}: {error}") from error
        if response.status != 200:
            raise ZabbixUnreachable(f"{self.url} answered {response.status} {response.reason}; is it the Zabbix URL?")
        try:
            answer = response.json()
        except ValueError as error:
            raise ZabbixUnreachable(f"{self.url} did not answer JSON; is it the Zabbix URL?") from error
        if not isinstance(answer, dict) or answer.get("jsonrpc") != "2.0":
            raise ZabbixUnreachable(f"{self.url} did not answer JSON-RPC; is it the Zabbix URL?")
        failure = answer.get("error")
        if isinstance(failure, dict):
            message, data = str(failure.get("message", "")), str(failure.get("data", ""))
            if any(word in data.lower() or word in message.lower() for word in _AUTH_WORDS):
                raise ZabbixAuthError(f"Zabbix refused the credentials: {data or message}")
            code = failure.get("code")
            raise ZabbixApiError(method, code if isinstance(code, int) else 0, message, data)
        if "result" not in answer:
            raise ZabbixUnreachable(f"{self.url} answered JSON-RPC without a result")
        return answer["result"]

    async def hosts(self) -> list[ZabbixHost]:
        """Every host the credentials may see, by visible name."""
        rows = await self.call(
            "host.get",
            {
                "output": ["hostid", "host", "name", "status"],
                "selectInterfaces": ["type", "available"],
                "sortfield": "name",
            },
        )
        return [_host(row) for row in _rows(rows, "host.get")]

    async def triggers(self, triggerids: Sequence[str]) -> list[ZabbixTrigger]:
        """The given triggers with their hosts."""
        if not triggerids:
            return []
        rows = await self.call(
            "trigger.get",
            {
                "triggerids": list(triggerids),
                "output": ["triggerid", "description", "priority"],
                "selectHosts": ["hostid", "name"],
                "expandDescription": True,
            },
        )
        return [
            ZabbixTrigger(
                str(row["triggerid"]),
                str(row.get("description", "")),
                _severity(row.get("priority")),
                _hosts(row.get("hosts")),
            )
            for row in _rows(rows, "trigger.get")
        ]

    async def problems(self, *, limit: int = 500) -> list[ZabbixProblem]:
        """Active (unresolved) trigger problems with their hosts, the most severe and oldest first."""
        rows = _rows(
            await self.call(
                "problem.get",
                {
                    "output": ["eventid", "objectid", "name", "severity", "acknowledged", "clock"],
                    "source": 0,
                    "object": 0,
                    "recent": False,
                    "sortfield": ["eventid"],
                    "sortorder": "DESC",
                    "limit": limit,
                },
            ),
            "problem.get",
        )
        triggers = {t.triggerid: t for t in await self.triggers(sorted({str(r["objectid"]) for r in rows}))}
        problems = [
            ZabbixProblem(
                eventid=str(row["eventid"]),
                triggerid=str(row["objectid"]),
                name=str(row.get("name", "")),
                severity=_severity(row.get("severity")),
                acknowledged=str(row.get("acknowledged", "0")) == "1",
                since=datetime.fromtimestamp(int(row.get("clock", 0)), UTC),
                hosts=triggers[str(row["objectid"])].hosts if str(row["objectid"]) in triggers else (),
            )
            for row in rows
        ]
        return sorted(problems, key=lambda p: (-p.severity, p.since, p.eventid))


def _rows(result: Any, method: str) -> list[dict[str, Any]]:
    if not isinstance(result, list) or not all(isinstance(row, dict) for row in result):
        raise ZabbixApiError(method, 0, "unexpected answer", repr(result)[:80])
    return result


def _severity(value: Any) -> Severity:
    try:
        return Severity(int(value))
    except (TypeError, ValueError):
        return Severity.NOT_CLASSIFIED


def _hosts(value: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, list):
        return ()
    return tuple((str(h.get("hostid", "")), str(h.get("name", ""))) for h in value if isinstance(h, dict))


def _host(row: Mapping[str, Any]) -> ZabbixHost:
    found = row.get("interfaces")
    interfaces: list[Any] = [i for i in found if isinstance(i, dict)] if isinstance(found, list) else []
    # interface availability (since 5.4): 0 unknown, 1 available, 2 unavailable; the agent's (type 1) first
    states = [str(i.get("available", "0")) for i in sorted(interfaces, key=lambda i: str(i.get("type", "9")))]
    known = [s for s in states if s in ("1", "2")]
    return ZabbixHost(
        hostid=str(row["hostid"]),
        host=str(row.get("host", "")),
        name=str(row.get("name") or row.get("host", "")),
        enabled=str(row.get("status", "0")) == "0",
        available=(known[0] == "1") if known else None,
    )
