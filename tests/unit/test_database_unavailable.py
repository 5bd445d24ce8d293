"""Which errors make a page answer 503 ("the database is away") rather than 500 (a bug to fix)."""

import asyncpg
import pytest

from ispb_tenants import database_unavailable


def _raised(error: BaseException) -> BaseException:
    try:
        raise error
    except BaseException as caught:
        return caught


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.CannotConnectNowError("the database system is shutting down"),
        asyncpg.AdminShutdownError("terminating connection due to administrator command"),
        asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        asyncpg.TooManyConnectionsError("sorry, too many clients already"),
        asyncpg.InterfaceError("cannot call Connection.fetch(): connection is closed"),
        # the server's FATAL reached an idle pooled connection just before its socket closed (a restart)
        asyncpg.InternalClientError("cannot switch to state 15; another operation (2) is in progress"),
    ],
)
def test_the_database_going_away_is_a_503(error: BaseException):
    assert database_unavailable(_raised(error))


def _read_page() -> None:
    try:
        raise asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation")
    except asyncpg.PostgresError as dropped:
        raise RuntimeError("the page could not be read") from dropped


def test_an_error_raised_while_handling_a_dropped_connection_is_a_503():
    with pytest.raises(RuntimeError) as raised:
        _read_page()
    assert database_unavailable(raised.value)


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.QueryCanceledError("canceling statement due to statement timeout"),  # a slow query: a bug
        asyncpg.UniqueViolationError("duplicate key value"),
        asyncpg.InterfaceError("cannot perform operation: another operation is in progress"),  # a misuse: a bug
        asyncpg.InternalClientError("cannot switch to state 15; another operation (12) is in progress"),  # a misuse
        FileNotFoundError(2, "No such file or directory"),  # a missing file, not raised through asyncpg
        ConnectionRefusedError(111, "Connection refused"),  # a peer (a gateway), not the database
        ValueError("bad"),
    ],
)
def test_other_errors_stay_500s(error: BaseException):
    assert not database_unavailable(_raised(error))
