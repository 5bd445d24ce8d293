"""A signed-in API connection to one router, with the reads and idempotent writes ISPB needs.

Every ``ensure_*`` reads first and writes only what differs, so a sync job can run again and again (after a
crash, on a schedule, twice at once) and the router sees writes only for real changes. Results say what
happened (``Change``) so callers log changes, not attempts.

One session is one TCP connection and one command at a time (an ``asyncio.Lock`` serialises callers). After a
timeout or a dropped connection the session is closed for good: a half-read reply leaves the stream out of step,
so reusing it could pair an answer with the wrong command. Open a new session to retry.
"""

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator, Mapping, Sequence

import librouteros
from librouteros.exceptions import LibRouterosError

from ispb_netsync.routeros.address import RouterAddress
from ispb_netsync.routeros.errors import RouterError, RouterTrap, RouterUnreachable, translate
from ispb_netsync.routeros.records import (
    SAME_PROPERTY,
    ActiveSession,
    AddressListEntry,
    Change,
    InterfaceCounters,
    PPPProfile,
    PPPSecret,
    SimpleQueue,
    SystemResource,
    plan_update,
    router_flag,
    same_address,
)
from ispb_netsync.routeros.wire import Answer, command_words, exchange, login

_SECRETS = "/ppp/secret"
_PROFILES = "/ppp/profile"
_ACTIVE = "/ppp/active"
_ADDRESS_LIST = "/ip/firewall/address-list"
_QUEUES = "/queue/simple"

_SECRET_FIELDS = (".id", "name", "password", "profile", "service", "disabled", "comment", "remote-address")
_PROFILE_FIELDS = (".id", "name", "rate-limit", "local-address", "remote-address", "address-list")
_ACTIVE_FIELDS = (".id", "name", "address", "caller-id", "uptime", "service")
_LIST_FIELDS = (".id", "list", "address", "comment", "disabled")
_QUEUE_FIELDS = (".id", "name", "target", "max-limit")
_INTERFACE_FIELDS = (".id", "name", "type", "running", "disabled", "rx-byte", "tx-byte")


async def connect(address: RouterAddress, *, ssl_context: ssl.SSLContext | None = None) -> "RouterSession":
    """Connect and sign in; the caller must ``await session.close()`` (``RouterSession.open`` does it for you).

    With ``address.tls`` the connection uses ``ssl_context``, by default one that verifies the router's
    certificate against the system's CAs; pass your own context to trust a router's self-signed certificate.
    Raises ``RouterUnreachable`` (with ``host:port``) or ``RouterLoginFailed``.
    """
    context = (ssl_context or ssl.create_default_context()) if address.tls else None
    try:
        api = await librouteros.async_connect(
            address.host,
            address.username,
            address.password,
            port=address.port,
            timeout=address.timeout,
            encoding="utf-8",
            ssl_wrapper=context,
            login_method=login,
        )
    except Exception as error:
        raise translate(error, address.where, address.timeout) from error
    return RouterSession(address, api)


class RouterSession:
    """One router's API, signed in. Use ``async with RouterSession.open(address) as router: ...``.

    Example (a sync step for one customer)::

        async with RouterSession.open(RouterAddress("10.0.0.1", "ispb", password)) as router:
            await router.ensure_ppp_profile("10M", rate_limit=rate_limit(10_000, 5_000))
            await router.ensure_ppp_secret("rahim", password="s3cret", profile="10M")
            if suspended:
                await router.disconnect("rahim")
    """

    def __init__(self, address: RouterAddress, api: librouteros.AsyncApi) -> None:
        self._address = address
        self._api: librouteros.AsyncApi | None = api
        self._lock = asyncio.Lock()

    @classmethod
    @contextlib.asynccontextmanager
    async def open(
        cls, address: RouterAddress, *, ssl_context: ssl.SSLContext | None = None
    ) -> AsyncIterator["RouterSession"]:
        """Connect, sign in, and close the connection when the block ends, whatever happens in it."""
        session = await connect(address, ssl_context=ssl_context)
        try:
            yield session
        finally:
            await session.close()

    @property
    def address(self) -> RouterAddress:
        return self._address

    async def close(self) -> None:
        """Close the connection; safe to call twice and on a connection the router already dropped."""
        api, self._api = self._api, None
        if api is not None:
            with contextlib.suppress(OSError, TimeoutError, LibRouterosError):
                await api.close()

    async def command(
        self,
        path: str,
        attributes: Mapping[str, str] | None = None,
        *,
        query: Mapping[str, str] | None = None,
        proplist: Sequence[str] = (),
    ) -> list[dict[str, str]]:
        """Run any API command and return its ``!re`` rows as text, for what the typed methods do not cover.

        ``await router.command("/ip/address/print", query={"interface": "ether1"}, proplist=["address"])``
        """
        return (await self._run(path, command_words(attributes, query, proplist))).rows

    async def _run(self, path: str, words: Sequence[str]) -> Answer:
        async with self._lock:
            if self._api is None:
                raise RouterUnreachable(f"{self._address.where}: the connection is closed")
            try:
                return await exchange(self._api, path, words)
            except RouterError:
                raise
            except asyncio.CancelledError:
                await asyncio.shield(self.close())  # the reply may still arrive: never reuse this stream
                raise
            except Exception as error:
                await self.close()
                raise translate(error, self._address.where, self._address.timeout) from error

    async def _print(
        self, menu: str, fields: Sequence[str], query: Mapping[str, str] | None = None
    ) -> list[dict[str, str]]:
        return (await self._run(f"{menu}/print", command_words(None, query, fields))).rows

    # --- system --------------------------------------------------------------------------------------------

    async def identity(self) -> str:
        """The router's name (``/system/identity``), e.g. to confirm the address reaches the right router."""
        rows = await self._print("/system/identity", ("name",))
        return rows[0].get("name", "") if rows else ""

    async def resource(self) -> SystemResource:
        """Version, uptime, CPU load and memory (``/system/resource``), for the router health page."""
        rows = await self._print("/system/resource", ())
        return SystemResource.from_reply(rows[0] if rows else {})

    async def interfaces(self) -> list[InterfaceCounters]:
        """Every interface with its byte counters (``/interface``), for the traffic graphs (one read a poll)."""
        return [InterfaceCounters.from_reply(row) for row in await self._print("/interface", _INTERFACE_FIELDS)]

    # --- reads and writes shared by the menus --------------------------------------------------------------

    async def _ensure(
        self, menu: str, key: Mapping[str, str], desired: Mapping[str, str | None], fields: Sequence[str]
    ) -> Change:
        """Create the item found by ``key``, or set/unset only the properties that differ from ``desired``."""
        rows = await self._print(menu, fields, key)
        if not rows:
            present = {name: value for name, value in desired.items() if value is not None}
            await self._run(f"{menu}/add", command_words({**key, **present}))
            return Change.CREATED
        item = rows[0][".id"]
        to_set, to_unset = plan_update(rows[0], desired, SAME_PROPERTY)
        if to_set:
            await self._run(f"{menu}/set", command_words({".id": item, **to_set}))
        for name in to_unset:
            await self._run(f"{menu}/unset", command_words({".id": item, "value-name": name}))
        return Change.UPDATED if to_set or to_unset else Change.UNCHANGED

    async def _remove(self, menu: str, ids: Sequence[str]) -> int:
        """Remove items one by one; an item already gone (removed meanwhile) is not counted, not an error."""
        removed = 0
        for item in ids:
            try:
                await self._run(f"{menu}/remove", command_words({".id": item}))
            except RouterTrap as trap:
                if "no such item" not in trap.message:
                    raise
            else:
                removed += 1
        return removed

    async def _remove_named(self, menu: str, name: str) -> Change:
        rows = await self._print(menu, (".id",), {"name": name})
        removed = await self._remove(menu, [row[".id"] for row in rows])
        return Change.REMOVED if removed else Change.UNCHANGED

    # --- PPP -----------------------------------------------------------------------------------------------

    async def ppp_secrets(self, name: str | None = None) -> list[PPPSecret]:
        """All PPP secrets, or the one named ``name`` (an empty list when there is none)."""
        rows = await self._print(_SECRETS, _SECRET_FIELDS, None if name is None else {"name": name})
        return [PPPSecret.from_reply(row) for row in rows]

    async def ensure_ppp_secret(
        self,
        name: str,
        *,
        password: str,
        profile: str,
        service: str = "pppoe",
        disabled: bool = False,
        comment: str = "",
        remote_address: str | None = None,
    ) -> Change:
        """Make the secret ``name`` exactly this; ``remote_address=None`` removes a static address."""
        desired: dict[str, str | None] = {
            "password": password,
            "profile": profile,
            "service": service,
            "disabled": router_flag(disabled),
            "comment": comment,
            "remote-address": remote_address,
        }
        return await self._ensure(_SECRETS, {"name": name}, desired, _SECRET_FIELDS)

    async def remove_ppp_secret(self, name: str) -> Change:
        """Delete the secret ``name``; UNCHANGED when there is none. Its live session is left: ``disconnect``."""
        return await self._remove_named(_SECRETS, name)

    async def ppp_profiles(self) -> list[PPPProfile]:
        """All PPP profiles, including RouterOS's own ``default`` and ``default-encryption``."""
        return [PPPProfile.from_reply(row) for row in await self._print(_PROFILES, _PROFILE_FIELDS)]

    async def ensure_ppp_profile(
        self,
        name: str,
        *,
        rate_limit: str | None = None,
        address_list: str | None = None,
        local_address: str | None = None,
        remote_address: str | None = None,
    ) -> Change:
        """Make the profile ``name`` exactly this: a ``None`` property is unset on the router if it is set.

        Profiles written by ISPB belong to ISPB; settings changed by hand on them are put back on the next sync.
        """
        desired = {
            "rate-limit": rate_limit,
            "address-list": address_list,
            "local-address": local_address,
            "remote-address": remote_address,
        }
        return await self._ensure(_PROFILES, {"name": name}, desired, _PROFILE_FIELDS)

    async def active_sessions(self, name: str | None = None) -> list[ActiveSession]:
        """Who is connected now (``/ppp/active``), or the sessions of one user."""
        rows = await self._print(_ACTIVE, _ACTIVE_FIELDS, None if name is None else {"name": name})
        return [ActiveSession.from_reply(row) for row in rows]

    async def disconnect(self, name: str) -> int:
        """End every active session of ``name`` (so a suspension or speed change takes effect); how many ended."""
        rows = await self._print(_ACTIVE, (".id",), {"name": name})
        return await self._remove(_ACTIVE, [row[".id"] for row in rows])

    # --- firewall address lists ----------------------------------------------------------------------------

    async def address_list(self, list_name: str, *, comment: str | None = None) -> list[AddressListEntry]:
        """The entries of one address list (e.g. the suspended customers redirected to the suspension page), or
        only those with ``comment``: the router filters, so finding one customer's entries in a list of 30,000
        costs one short reply, not the whole list."""
        query = {"list": list_name} if comment is None else {"list": list_name, "comment": comment}
        rows = await self._print(_ADDRESS_LIST, _LIST_FIELDS, query)
        return [AddressListEntry.from_reply(row) for row in rows]

    async def listed(self, list_name: str, address: str) -> list[AddressListEntry]:
        """The entries of ``list_name`` for ``address`` (normally one), asked of the router by address."""
        return [AddressListEntry.from_reply(row) for row in await self._listed(list_name, address)]

    async def _listed(self, list_name: str, address: str) -> list[dict[str, str]]:
        # RouterOS stores a host without "/32": ask for that form, then compare by meaning
        wanted = address.removesuffix("/32")
        rows = await self._print(_ADDRESS_LIST, _LIST_FIELDS, {"list": list_name, "address": wanted})
        return [row for row in rows if same_address(row.get("address", ""), address)]

    async def ensure_listed(self, list_name: str, address: str, comment: str = "") -> Change:
        """Put ``address`` in ``list_name`` (enabled, with ``comment``); UNCHANGED when it already is.

        Another worker may add the same entry between our read and our add; the router then answers "already
        have such entry", which means the goal is reached, so that is UNCHANGED too.
        """
        rows = await self._listed(list_name, address)
        if not rows:
            try:
                await self._run(
                    f"{_ADDRESS_LIST}/add", command_words({"list": list_name, "address": address, "comment": comment})
                )
            except RouterTrap as trap:
                if "already have such entry" in trap.message:
                    return Change.UNCHANGED
                raise
            return Change.CREATED
        to_set, _ = plan_update(rows[0], {"comment": comment, "disabled": router_flag(False)}, SAME_PROPERTY)
        if not to_set:
            return Change.UNCHANGED
        await self._run(f"{_ADDRESS_LIST}/set", command_words({".id": rows[0][".id"], **to_set}))
        return Change.UPDATED

    async def ensure_unlisted(self, list_name: str, address: str) -> Change:
        """Take ``address`` out of ``list_name`` (every entry for it); UNCHANGED when it was not there."""
        rows = await self._listed(list_name, address)
        removed = await self._remove(_ADDRESS_LIST, [row[".id"] for row in rows])
        return Change.REMOVED if removed else Change.UNCHANGED

    # --- simple queues -------------------------------------------------------------------------------------

    async def simple_queues(self) -> list[SimpleQueue]:
        """All simple queues (``max_limit`` as the router prints it, in bit/s)."""
        return [SimpleQueue.from_reply(row) for row in await self._print(_QUEUES, _QUEUE_FIELDS)]

    async def ensure_simple_queue(self, name: str, *, target: str, max_limit: str, first: bool = False) -> Change:
        """Make the queue ``name`` limit ``target`` to ``max_limit`` (``upload/download``, see ``rate_limit``).

        ``first`` places a new queue before every other one: RouterOS gives a packet to the first simple queue
        that matches it, so a queue placed before the dynamic ``<pppoe-name>`` queue of a live PPP session
        changes that session's speed at once, without disconnecting it (a PPP profile's rate only applies when
        the session starts). An existing queue keeps its place."""
        desired = {"target": target, "max-limit": max_limit}
        if first and not await self._print(_QUEUES, _QUEUE_FIELDS, {"name": name}):
            queues = await self._print(_QUEUES, (".id",))
            if queues:
                words = command_words({"name": name, **desired, "place-before": queues[0][".id"]})
                await self._run(f"{_QUEUES}/add", words)
                return Change.CREATED
        return await self._ensure(_QUEUES, {"name": name}, desired, _QUEUE_FIELDS)

    async def remove_simple_queue(self, name: str) -> Change:
        """Delete the queue ``name``; UNCHANGED when there is none."""
        return await self._remove_named(_QUEUES, name)
