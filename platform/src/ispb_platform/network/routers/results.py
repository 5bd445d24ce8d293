"""A router command's recorded result in the operator's words, for the customer and router pages.

Commands store what they did as a small JSON object (``commands.Outcome``); staff read it as a sentence
("PPP secret updated · 1 session disconnected"), not as JSON. Keys this module does not know are shown as
``key: value`` so nothing recorded is hidden.
"""

from collections.abc import Mapping
from typing import Any

_CHANGES = {"created": "created", "updated": "updated", "removed": "removed", "unchanged": "already right"}


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _change(value: object) -> str:
    return _CHANGES.get(str(value), str(value))


def describe_result(result: object) -> str:
    """``{"secret": "updated", "disconnected": 1}`` → ``"PPP secret updated · 1 session disconnected"``.

    >>> describe_result({"profile": "ispb-fup-7", "secret": "created", "fair_usage": True, "live_queue": "created"})
    'Fair-usage speed · profile ispb-fup-7 · PPP secret created · live session slowed (queue created)'
    >>> describe_result({"sessions": 1, "acked": 1, "nak": 0})
    '1 live session changed by RADIUS (1 acknowledged)'
    """
    if not result:
        return ""
    if not isinstance(result, Mapping):
        return str(result)
    left: dict[str, Any] = dict(result)
    parts = [*_profile_parts(left), *_session_parts(left)]
    parts.extend(f"{key}: {value}" for key, value in left.items())
    return " · ".join(parts)


def _profile_parts(left: dict[str, Any]) -> list[str]:
    """What changed in the customer's PPP profile and secret (pops the keys it reads)."""
    parts = []
    if "skipped" in left:
        parts.append(f"Nothing to do: {left.pop('skipped')}")
    if "fair_usage" in left:
        parts.append("Fair-usage speed" if left.pop("fair_usage") else "Full package speed")
    parts.extend(f"profile {left.pop(key)}" for key in ("package_profile", "profile") if key in left)
    if "secret" in left:
        secret = str(left.pop("secret"))
        parts.append(f"PPP secret {_CHANGES[secret]}" if secret in _CHANGES else secret)
    if "change" in left:
        parts.append(_change(left.pop("change")))
    return parts


def _session_parts(left: dict[str, Any]) -> list[str]:
    """What happened to the live session: queue, address lists, CoA, disconnect (pops the keys it reads)."""
    parts = []
    if "live_queue" in left:
        queue = str(left.pop("live_queue"))
        if queue == "not online":
            parts.append("not online now")
        elif queue in ("created", "updated", "unchanged"):
            parts.append(f"live session slowed (queue {_change(queue)})")
        else:
            parts.append(f"fair-usage queue {_change(queue)}")
    for key, verb in (("listed", "blocked"), ("unlisted", "unblocked")):
        if addresses := left.pop(key, None):
            parts.append(f"{verb} {', '.join(str(a) for a in addresses)}")
    if "sessions" in left:
        sessions, acked, nak = int(left.pop("sessions")), int(left.pop("acked", 0)), int(left.pop("nak", 0))
        refused = f", {nak} refused" if nak else ""
        parts.append(
            f"{_plural(sessions, 'live session')} changed by RADIUS ({acked} acknowledged{refused})"
            if sessions
            else "not online now"
        )
    if "disconnected" in left:
        count = int(left.pop("disconnected") or 0)
        parts.append(f"{_plural(count, 'session')} disconnected" if count else "no session to disconnect")
    return parts
