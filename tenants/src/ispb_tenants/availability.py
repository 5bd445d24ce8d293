"""Whether an error says the database cannot be reached right now (restarting, failing over, out of connections).

The web answers such errors with a 503 page instead of a 500 (``web/errors.py``), and the outbox sender waits for
the database instead of giving up its claimed messages (``notify/sender.py``): nothing is wrong with the request
or the job, the server is briefly away.
"""

import asyncpg

_DATABASE_AWAY: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,  # the connection broke or could not be made
    asyncpg.CannotConnectNowError,  # starting up or shutting down
    asyncpg.AdminShutdownError,  # terminated by a restart
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
)
_CLOSED_CONNECTION_WORDS = ("connection is closed", "connection was closed", "pool is closed", "pool is closing")
SERVER_DROPPED_IDLE_CONNECTION = "another operation (2) is in progress"
"""What asyncpg says about a connection the server dropped while it sat idle, in the moment before its socket
closes. A stopping server (``pg_ctl stop -m fast``, a failover, ``pg_terminate_backend``) sends every session a
FATAL "terminating connection due to administrator command" and then closes it. asyncpg does not expect a
message on an idle connection: it puts the protocol in its error-consuming state (2) and waits for a
ReadyForQuery that never comes. Until the socket's close is read (a few event-loop turns, longer under load), the
pool still hands the connection out and its next statement fails with "cannot switch to state N; another
operation (2) is in progress" (``InternalClientError``). Two queries run at once on one connection, the bug the
same words usually mean, name the state of the running query instead (12, 15: bind/execute, simple query), never 2.
Seen as 500s under load during every restart (issue 19)."""


def database_unavailable(error: BaseException) -> bool:
    """Whether ``error`` (or an error it was raised from) says the database cannot be reached right now."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, _DATABASE_AWAY):
            return True
        if isinstance(current, asyncpg.InterfaceError) and any(w in str(current) for w in _CLOSED_CONNECTION_WORDS):
            return True
        if isinstance(current, asyncpg.InternalClientError) and SERVER_DROPPED_IDLE_CONNECTION in str(current):
            return True
        if isinstance(current, OSError) and _raised_in_asyncpg(current):
            return True  # refused, reset, or the server's Unix socket gone while it restarts
        current = current.__cause__ or current.__context__
    return False


def _raised_in_asyncpg(error: BaseException) -> bool:
    """Whether ``error`` came up through asyncpg (connecting or talking to PostgreSQL), not from a file or a peer."""
    frame = error.__traceback__
    while frame is not None:
        if frame.tb_frame.f_globals.get("__name__", "").startswith("asyncpg."):
            return True
        frame = frame.tb_next
    return False
