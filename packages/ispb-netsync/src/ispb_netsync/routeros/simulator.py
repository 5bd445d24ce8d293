"""A RouterOS API peer on loopback: the real wire protocol, in-memory menus, and faults on demand.

Speaks what a MikroTik router speaks on TCP 8728 (optionally TLS): words with RouterOS's variable-length
length prefix (1 to 5 bytes), sentences ending in an empty word, plain ``/login`` (RouterOS 6.43+), replies
``!re``/``!done``/``!trap``/``!fatal`` with ``.tag`` echoed, query words (``?name=x``, ``?=name=x``, ``?name``,
``?-name``, ``?<name=x``, ``?>name=x`` and the ``?#!&|.`` stack operations) and ``=.proplist=``. It does not
import the code under test, so it checks librouteros's framing and our use of it independently.

It behaves like a router where ISPB depends on it: ``.id`` values like ``*1``; unset properties left out of
replies; booleans printed ``true``/``false``; address-list hosts stored without ``/32``; simple-queue targets
stored with ``/32`` and ``max-limit`` printed in bit/s (``10M/20M`` reads back ``10000000/20000000``);
duplicates and unknown items refused with the router's messages; ``!fatal not logged in`` before a login.

    async with RouterOSPeer(username="ispb", password="pw") as peer:
        peer.connect_ppp("rahim", "10.0.0.5")      # an active session appears
        ...                                         # point the client at peer.host, peer.port
        assert not peer.writes()                    # what the client changed: peer.received, peer.items(menu)

Faults (``peer.fault``): ``CLOSE_ON_ACCEPT`` (accept, then hang up), ``STALL`` (accept, read, never answer),
``DROP_MID_REPLY`` (answer the first command after login with half a reply, then hang up). For a refused
connection, ``await peer.stop_listening()``.
"""

import asyncio
import contextlib
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from types import TracebackType
from typing import Self

WRITE_VERBS = frozenset({"add", "set", "unset", "remove"})
_UNITS = {"": 1, "k": 1_000, "K": 1_000, "M": 1_000_000, "G": 1_000_000_000}


# --- the wire -------------------------------------------------------------------------------------------------


def encode_length(length: int) -> bytes:
    """RouterOS's length prefix: 1 byte below 0x80, then 2, 3, 4 bytes with marker bits, else 0xF0 + 4 bytes."""
    if length < 0x80:
        return bytes([length])
    if length < 0x4000:
        return (length | 0x8000).to_bytes(2, "big")
    if length < 0x200000:
        return (length | 0xC00000).to_bytes(3, "big")
    if length < 0x10000000:
        return (length | 0xE0000000).to_bytes(4, "big")
    return b"\xf0" + length.to_bytes(4, "big")


def decode_length(first: int, rest: bytes) -> int:
    """The length from its first byte and the ``extra_length_bytes(first)`` bytes after it."""
    if first < 0x80:
        return first
    masks = {1: 0x3F, 2: 0x1F, 3: 0x0F, 4: 0x00}
    return int.from_bytes(bytes([first & masks[len(rest)]]) + rest, "big")


def extra_length_bytes(first: int) -> int:
    """How many bytes follow the first one of a length prefix (0xF8 and above are reserved control bytes)."""
    for limit, extra in ((0x80, 0), (0xC0, 1), (0xE0, 2), (0xF0, 3), (0xF8, 4)):
        if first < limit:
            return extra
    raise ValueError(f"reserved control byte {first:#x}")


def encode_sentence(words: list[str]) -> bytes:
    encoded = b""
    for word in words:
        data = word.encode()
        encoded += encode_length(len(data)) + data
    return encoded + b"\x00"


async def read_sentence(reader: asyncio.StreamReader) -> list[str]:
    """Words up to the empty word; ``IncompleteReadError`` when the client hangs up."""
    words: list[str] = []
    while True:
        first = (await reader.readexactly(1))[0]
        length = decode_length(first, await reader.readexactly(extra_length_bytes(first)))
        if length == 0:
            return words
        words.append((await reader.readexactly(length)).decode(errors="replace"))


# --- what the peer received -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    """One sentence from a client: its command, ``=attributes``, ``?queries`` and ``.tag``."""

    command: str
    attributes: dict[str, str]
    queries: list[str]
    tag: str | None

    @property
    def verb(self) -> str:
        return self.command.rsplit("/", 1)[-1]

    @property
    def is_write(self) -> bool:
        return self.verb in WRITE_VERBS

    @classmethod
    def parse(cls, words: list[str]) -> "Received":
        attributes: dict[str, str] = {}
        queries: list[str] = []
        tag = None
        for word in words[1:]:
            if word.startswith("="):
                key, _, value = word[1:].partition("=")
                attributes[key] = value
            elif word.startswith("?"):
                queries.append(word[1:])
            elif word.startswith(".tag="):
                tag = word.removeprefix(".tag=")
        return cls(words[0] if words else "", attributes, queries, tag)


class Fault(StrEnum):
    NONE = "none"
    CLOSE_ON_ACCEPT = "close-on-accept"
    STALL = "stall"
    DROP_MID_REPLY = "drop-mid-reply"


class Trap(Exception):
    """A command refused with ``!trap`` (raised inside the peer, turned into the reply)."""

    def __init__(self, message: str, category: int | None = None) -> None:
        super().__init__(message)
        self.message, self.category = message, category


# --- menus ------------------------------------------------------------------------------------------------------


def _bits(rate: str) -> str:
    number = rate.rstrip("kKMG")
    return str(int(number) * _UNITS[rate[len(number) :]]) if number.isdigit() else rate


def normalize(key: str, value: str) -> str:
    """How the router rewrites a value it stores (see the module docstring)."""
    if value in ("yes", "no") and key in ("disabled", "dynamic"):
        return "true" if value == "yes" else "false"
    if key == "max-limit":
        return "/".join(_bits(part) for part in value.split("/"))
    if key == "target":
        return ",".join(f"{part}/32" if _is_ipv4_host(part) else part for part in value.split(","))
    return value


def _is_ipv4_host(text: str) -> bool:
    parts = text.split(".")
    return len(parts) == 4 and all(part.isdigit() for part in parts)


@dataclass
class Menu:
    """One menu (``/ppp/secret``...): its items as text, what it accepts, and what makes two items duplicates."""

    verbs: frozenset[str]
    fields: frozenset[str] = frozenset()
    unique: tuple[str, ...] = ()
    duplicate: str = "failure: already have such entry"
    defaults: dict[str, str] = field(default_factory=dict)
    items: list[dict[str, str]] = field(default_factory=list)
    with_ids: bool = True
    next_id: int = 1

    def find(self, item_id: str) -> dict[str, str]:
        for item in self.items:
            if item.get(".id") == item_id:
                return item
        raise Trap("no such item", 0)

    def check_fields(self, attributes: dict[str, str]) -> None:
        for key in attributes:
            if key not in self.fields and key != ".id":
                raise Trap(f"unknown parameter {key}", 1)

    def check_unique(self, candidate: dict[str, str], ignore: dict[str, str] | None = None) -> None:
        if not self.unique:
            return
        key = tuple(candidate.get(name, "") for name in self.unique)
        for item in self.items:
            if item is not ignore and tuple(item.get(name, "") for name in self.unique) == key:
                raise Trap(self.duplicate)

    def add(self, attributes: dict[str, str]) -> str:
        before = attributes.pop("place-before", None)
        self.check_fields(attributes)
        item = {**self.defaults, **{key: normalize(key, value) for key, value in attributes.items()}}
        self.check_unique(item)
        position = len(self.items) if before is None else self.items.index(self.find(before))
        item[".id"] = f"*{self.next_id:X}"
        self.next_id += 1
        self.items.insert(position, item)
        return item[".id"]


def _menus(identity: str) -> dict[str, Menu]:
    read, write = frozenset({"print"}), frozenset({"print", "add", "set", "unset", "remove"})
    no = {"disabled": "false"}
    return {
        "/system/identity": Menu(
            frozenset({"print", "set"}), frozenset({"name"}), items=[{"name": identity}], with_ids=False
        ),
        "/system/resource": Menu(read, items=[_RESOURCE.copy()], with_ids=False),
        "/ppp/secret": Menu(
            write,
            frozenset(
                {
                    "name",
                    "password",
                    "profile",
                    "service",
                    "disabled",
                    "comment",
                    "remote-address",
                    "local-address",
                    "caller-id",
                    "routes",
                    "limit-bytes-in",
                    "limit-bytes-out",
                }
            ),
            ("name",),
            "failure: secret with the same name already exists",
            {"service": "any", "profile": "default", **no},
        ),
        "/ppp/profile": Menu(
            write,
            frozenset(
                {
                    "name",
                    "rate-limit",
                    "local-address",
                    "remote-address",
                    "address-list",
                    "comment",
                    "only-one",
                    "dns-server",
                    "session-timeout",
                    "idle-timeout",
                }
            ),
            ("name",),
            "failure: profile with the same name already exists",
            items=[{".id": "*0", "name": "default"}, {".id": "*FFFFFFFE", "name": "default-encryption"}],
        ),
        "/ppp/active": Menu(frozenset({"print", "remove"})),
        "/ip/firewall/address-list": Menu(
            write,
            frozenset({"list", "address", "comment", "disabled", "timeout"}),
            ("list", "address"),
            defaults={**no, "dynamic": "false"},
        ),
        "/interface": Menu(read, items=[dict(item) for item in _INTERFACES]),
        "/queue/simple": Menu(
            write,
            frozenset({"name", "target", "max-limit", "limit-at", "comment", "disabled", "parent", "queue"}),
            ("name",),
            "failure: already have queue with such name",
            {**no, "max-limit": "0/0", "limit-at": "0/0", "parent": "none"},
        ),
    }


_INTERFACES = (
    {".id": "*1", "name": "ether1", "type": "ether", "running": "true", "disabled": "false", "rx-byte": "0",
     "tx-byte": "0"},
    {".id": "*2", "name": "ether2", "type": "ether", "running": "true", "disabled": "false", "rx-byte": "0",
     "tx-byte": "0"},
)  # fmt: skip

_RESOURCE = {
    "uptime": "1w2d3h4m5s", "version": "7.16.2 (stable)", "free-memory": "201326592",
    "total-memory": "268435456", "cpu": "QEMU", "cpu-count": "1", "cpu-load": "3",
    "board-name": "CHR", "architecture-name": "x86_64", "platform": "MikroTik",
}  # fmt: skip


def matches(item: dict[str, str], queries: list[str]) -> bool:
    """RouterOS query words, evaluated on a stack of booleans; an item matches when all that remain are true."""
    stack: list[bool] = []
    for query in queries:
        if query.startswith("#"):
            for operation in query[1:]:
                if operation == "!":
                    stack.append(not stack.pop())
                elif operation == ".":
                    stack.append(stack[-1])
                elif operation in "&|":
                    right, left = stack.pop(), stack.pop()
                    stack.append(left and right if operation == "&" else left or right)
        elif query.startswith("-"):
            stack.append(query[1:] not in item)
        elif query[:1] in ("=", "<", ">"):
            name, _, value = query[1:].partition("=")
            stack.append(_compare(query[0], item.get(name, ""), value))
        elif "=" in query:
            name, _, value = query.partition("=")
            stack.append(item.get(name, "") == value)
        else:
            stack.append(query in item)
    return all(stack)


def _compare(operator: str, have: str, value: str) -> bool:
    if operator == "=":
        return have == value
    if have.isdigit() and value.isdigit():
        return int(have) < int(value) if operator == "<" else int(have) > int(value)
    return have < value if operator == "<" else have > value


# --- the server ---------------------------------------------------------------------------------------------------


class RouterOSPeer:
    """The peer; ``async with RouterOSPeer() as peer`` listens on 127.0.0.1 on a free port until the block ends."""

    def __init__(
        self,
        *,
        username: str = "admin",
        password: str = "",
        identity: str = "MikroTik",
        ssl_context: ssl.SSLContext | None = None,
        legacy_login: bool = False,
    ) -> None:
        self.username, self.password, self.legacy_login = username, password, legacy_login
        self.host, self.port = "127.0.0.1", 0
        self.menus = _menus(identity)
        self.received: list[Received] = []
        self.fault = Fault.NONE
        self.after: dict[str, Callable[[], None]] = {}  # command -> run once after it was answered
        self._ssl = ssl_context
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.StreamWriter] = set()
        self._handlers: set[asyncio.Task[None]] = set()

    # state, for tests to set up and assert on
    def items(self, menu: str) -> list[dict[str, str]]:
        return self.menus[menu].items

    def writes(self) -> list[Received]:
        return [sentence for sentence in self.received if sentence.is_write]

    def connect_ppp(
        self, name: str, address: str, caller_id: str = "", service: str = "pppoe", *, rate_limit: str = ""
    ) -> str:
        """A customer dials in: an active session appears under ``/ppp/active``. With the ``rate_limit`` of
        its profile, RouterOS also adds a dynamic simple queue ``<pppoe-name>`` (``dynamic=true``) at the end
        of the queue list, which the API cannot change or remove; it goes when the session ends."""
        active = self.menus["/ppp/active"]
        session = {".id": f"*{active.next_id:X}", "name": name, "address": address, "caller-id": caller_id}
        active.next_id += 1
        active.items.append(session | {"service": service, "uptime": "5m", "radius": "false"})
        if rate_limit:
            queues = self.menus["/queue/simple"]
            queue = {"name": f"<{service}-{name}>", "target": f"<{service}-{name}>", "max-limit": rate_limit}
            queues.items.append(
                {**queues.defaults, **{k: normalize(k, v) for k, v in queue.items()}, ".id": f"*{queues.next_id:X}"}
                | {"dynamic": "true"}
            )
            queues.next_id += 1
        return session[".id"]

    def queue_order(self) -> list[str]:
        """The simple queues' names in the router's order (the first match takes a packet)."""
        return [item["name"] for item in self.menus["/queue/simple"].items]

    def add_traffic(self, interface: str, *, rx_bytes: int = 0, tx_bytes: int = 0) -> None:
        """Bytes pass through ``interface``: its ``rx-byte``/``tx-byte`` counters grow (for traffic graphs)."""
        item = next(i for i in self.menus["/interface"].items if i["name"] == interface)
        item["rx-byte"] = str(int(item["rx-byte"]) + rx_bytes)
        item["tx-byte"] = str(int(item["tx-byte"]) + tx_bytes)

    # lifetime
    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(self._serve, self.host, self.port, ssl=self._ssl)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.stop_listening()
        for writer in list(self._connections):
            writer.close()
        if self._handlers:
            await asyncio.wait(self._handlers, timeout=2)
        for task in self._handlers:
            task.cancel()

    async def stop_listening(self) -> None:
        """Close the listening socket: new connections are refused, open ones carry on."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    # one client
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        self._connections.add(writer)
        try:
            if self.fault is not Fault.CLOSE_ON_ACCEPT:
                await self._conversation(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass  # the client hung up, or sent what no router would accept: hang up too
        finally:
            self._connections.discard(writer)
            writer.close()
            with contextlib.suppress(ConnectionError, ssl.SSLError):
                await writer.wait_closed()
            self._handlers.discard(task)

    async def _conversation(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        logged_in = False
        while True:
            sentence = Received.parse(await read_sentence(reader))
            self.received.append(sentence)
            if self.fault is Fault.STALL:
                continue
            if sentence.command == "/login":
                replies, logged_in = self._login(sentence)
            elif not logged_in:
                replies = [["!fatal", "not logged in"]]
            else:
                replies = self._command(sentence)
            data = b"".join(encode_sentence(self._tagged(reply, sentence.tag)) for reply in replies)
            if logged_in and sentence.command != "/login" and self.fault is Fault.DROP_MID_REPLY:
                writer.write(data[: max(1, len(data) // 2)])
                await writer.drain()
                return
            writer.write(data)
            await writer.drain()
            if replies[-1][0] == "!fatal":
                return
            if (callback := self.after.pop(sentence.command, None)) is not None:
                callback()

    @staticmethod
    def _tagged(reply: list[str], tag: str | None) -> list[str]:
        return reply if tag is None or reply[0] == "!fatal" else [*reply, f".tag={tag}"]

    def _login(self, sentence: Received) -> tuple[list[list[str]], bool]:
        if self.legacy_login:
            return [["!done", "=ret=0123456789abcdef0123456789abcdef"]], False
        given = (sentence.attributes.get("name"), sentence.attributes.get("password"))
        if given == (self.username, self.password):
            return [["!done"]], True
        return [["!trap", "=message=invalid user name or password (6)"], ["!done"]], False

    def _command(self, sentence: Received) -> list[list[str]]:
        if sentence.command == "/quit":
            return [["!fatal", "session terminated on request"]]
        if sentence.command == "/cancel":
            return [["!done"]]
        path, _, verb = sentence.command.rpartition("/")
        menu = self.menus.get(path)
        if menu is None or verb not in menu.verbs:
            message = "no such command prefix" if menu is None else "no such command"
            return [["!trap", "=category=0", f"=message={message}"], ["!done"]]
        try:
            return self._run(menu, verb, sentence)
        except Trap as trap:
            category = [] if trap.category is None else [f"=category={trap.category}"]
            return [["!trap", *category, f"=message={trap.message}"], ["!done"]]

    def _run(self, menu: Menu, verb: str, sentence: Received) -> list[list[str]]:
        attributes = dict(sentence.attributes)
        if verb == "print":
            proplist = [name for name in attributes.get(".proplist", "").split(",") if name]
            rows = [item for item in menu.items if matches(item, sentence.queries)]
            return [*(self._row(item, proplist) for item in rows), ["!done"]]
        if verb == "add":
            return [["!done", f"=ret={menu.add(attributes)}"]]
        if verb == "remove":
            doomed = [menu.find(item_id) for item_id in attributes.get(".id", "").split(",")]
            if any(item.get("dynamic") == "true" for item in doomed):
                raise Trap("failure: can not remove dynamic item")
            if menu is self.menus["/ppp/active"]:  # the session's dynamic queue ends with it
                queues = self.menus["/queue/simple"]
                names = {f"<{item.get('service', 'pppoe')}-{item['name']}>" for item in doomed}
                queues.items[:] = [q for q in queues.items if not (q.get("dynamic") == "true" and q["name"] in names)]
            menu.items[:] = [item for item in menu.items if all(item is not gone for gone in doomed)]
            return [["!done"]]
        item = menu.find(attributes.pop(".id", "")) if menu.with_ids else menu.items[0]
        if item.get("dynamic") == "true":
            raise Trap("failure: can not change dynamic item")
        if verb == "unset":
            item.pop(attributes.get("value-name", ""), None)
            return [["!done"]]
        menu.check_fields(attributes)
        updated = item | {key: normalize(key, value) for key, value in attributes.items()}
        menu.check_unique(updated, ignore=item)
        item.update(updated)
        return [["!done"]]

    @staticmethod
    def _row(item: dict[str, str], proplist: list[str]) -> list[str]:
        names = proplist or list(item)
        return ["!re", *(f"={name}={item[name]}" for name in names if item.get(name, "") != "")]
