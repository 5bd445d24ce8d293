"""One command, one answer, over librouteros's connection: sentences in, text attributes out.

librouteros (4.x) frames the API words and owns the socket; its reply parser is bypassed on purpose. It turns
values into Python types by guessing (``yes`` becomes True, ``123`` becomes 123), so a password
``123`` or a customer named ``yes`` would come back changed and every sync would rewrite it. Here every value
stays the router's text; ``records`` gives it types where the meaning is known.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from librouteros.api import AsyncApi

from ispb_netsync.routeros.errors import RouterLoginFailed, RouterTrap


@dataclass(frozen=True)
class Answer:
    """A command's ``!re`` rows and the attributes of its ``!done`` (``ret`` holds an added item's id)."""

    rows: list[dict[str, str]] = field(default_factory=list)
    done: dict[str, str] = field(default_factory=dict)


def attributes(words: Sequence[str]) -> dict[str, str]:
    """``=name=value`` words as a dict of text; other words (``.tag=``) are not attributes.

    >>> attributes(["=name=yes", "=password=123", "=comment=a=b", ".tag=7"])
    {'name': 'yes', 'password': '123', 'comment': 'a=b'}
    """
    found: dict[str, str] = {}
    for word in words:
        if word.startswith("="):
            key, _, value = word[1:].partition("=")
            found[key] = value
    return found


def command_words(
    attributes: Mapping[str, str] | None = None,
    query: Mapping[str, str] | None = None,
    proplist: Sequence[str] = (),
) -> list[str]:
    """The words after the command: ``=k=v`` attributes, ``=.proplist=`` and ``?k=v`` queries (all must match).

    >>> command_words({"name": "rahim"}, {"list": "suspended"}, (".id", "address"))
    ['=name=rahim', '=.proplist=.id,address', '?list=suspended']
    """
    words = [f"={key}={value}" for key, value in (attributes or {}).items()]
    if proplist:
        words.append("=.proplist=" + ",".join(proplist))
    words.extend(f"?{key}={value}" for key, value in (query or {}).items())
    return words


async def exchange(api: AsyncApi, command: str, words: Sequence[str]) -> Answer:
    """Send one sentence and read until ``!done``; a ``!trap`` becomes ``RouterTrap`` (after ``!done``).

    Every read is bounded by the connection's timeout (librouteros wraps each sentence in ``wait_for``).
    """
    await api.protocol.writeSentence(command, *words)
    answer = Answer()
    traps: list[dict[str, str]] = []
    while True:
        reply, raw = await api.protocol.readSentence()  # raises FatalError on !fatal
        values = attributes(raw)
        if reply == "!re":
            answer.rows.append(values)
        elif reply == "!trap":
            traps.append(values)
        elif reply == "!done":
            answer.done.update(values)
            break
        # anything else (RouterOS 7.18+ sends "!empty" for an empty print) carries nothing we need
    if traps:
        category = traps[0].get("category", "")
        message = "; ".join(trap.get("message", "(no message)") for trap in traps)
        raise RouterTrap(message, int(category) if category.isdigit() else None, command)
    return answer


async def login(api: AsyncApi, username: str, password: str) -> None:
    """Plain login (RouterOS 6.43 and later); a refusal becomes ``RouterLoginFailed`` with the router's words.

    A router older than 6.43 answers a plain login with a challenge (``ret``) instead of signing in; that is
    reported as a login failure with the reason rather than failing later with "not logged in".
    """
    try:
        answer = await exchange(api, "/login", command_words({"name": username, "password": password}))
    except RouterTrap as trap:
        raise RouterLoginFailed(trap.message) from trap
    if "ret" in answer.done:
        raise RouterLoginFailed("the router asked for the pre-6.43 challenge login; upgrade RouterOS to 6.43+")
