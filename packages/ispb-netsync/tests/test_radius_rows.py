"""A customer's FreeRADIUS rows and the suspended group's rows."""

import pytest

from ispb_netsync.radius import (
    CheckRow,
    InvalidRadiusValue,
    ReplyRow,
    SuspendedMode,
    UserGroupRow,
    customer_rows,
    suspended_group_rows,
)


def test_active_customer_gets_password_session_limit_and_rate_limit():
    rows = customer_rows("rahim", "s3cret", rate_limit="10M/10M", suspended=False, framed_ip="100.64.0.5")
    assert rows.radcheck == (
        CheckRow("rahim", "Cleartext-Password", ":=", "s3cret"),
        CheckRow("rahim", "Simultaneous-Use", ":=", "1"),
    )
    assert rows.radreply == (
        ReplyRow("rahim", "Framed-IP-Address", ":=", "100.64.0.5"),
        ReplyRow("rahim", "Mikrotik-Rate-Limit", ":=", "10M/10M"),
    )
    assert rows.radusergroup == ()


def test_suspended_customer_joins_the_suspended_group_without_its_own_rate_limit():
    rows = customer_rows("rahim", "s3cret", rate_limit="10M/10M", suspended=True, suspended_group="late")
    assert rows.radusergroup == (UserGroupRow("rahim", "late", 0),)
    assert all(r.attribute != "Mikrotik-Rate-Limit" for r in rows.radreply)
    assert rows.radcheck[0] == CheckRow("rahim", "Cleartext-Password", ":=", "s3cret")


def test_unlimited_sessions_and_no_rate_limit_leave_those_rows_out():
    rows = customer_rows("rahim", "pw", rate_limit=None, suspended=False, simultaneous_use=None)
    assert [r.attribute for r in rows.radcheck] == ["Cleartext-Password"]
    assert rows.radreply == ()


@pytest.mark.parametrize(
    ("username", "password", "rate_limit", "simultaneous_use", "framed_ip"),
    [
        ("", "pw", None, 1, None),
        ("rahim", "", None, 1, None),
        ("rah\nim", "pw", None, 1, None),
        ("rahim", "p" * 129, None, 1, None),
        ("rahim", "pw", "fast", 1, None),
        ("rahim", "pw", "10M/10M; drop", 1, None),
        ("rahim", "pw", None, 0, None),
        ("rahim", "pw", None, 1, "not-an-ip"),
    ],
)
def test_values_freeradius_cannot_take_are_refused(
    username: str, password: str, rate_limit: str | None, simultaneous_use: int, framed_ip: str | None
):
    with pytest.raises(ValueError):  # InvalidRadiusValue, or ipaddress's ValueError for the address
        customer_rows(
            username,
            password,
            rate_limit=rate_limit,
            suspended=False,
            simultaneous_use=simultaneous_use,
            framed_ip=framed_ip,
        )


@pytest.mark.parametrize("rate_limit", ["10M/10M", "512k", "2M/4M 4M/8M 1500k/3M 8/8 8 1M/2M", "1G/1G"])
def test_mikrotik_rate_limit_forms_are_accepted(rate_limit: str):
    rows = customer_rows("u", "p", rate_limit=rate_limit, suspended=False)
    assert rows.radreply[-1].value == rate_limit


def test_suspended_profile_gives_address_list_and_trickle_rate():
    rows = suspended_group_rows()
    assert rows.radgroupcheck == ()
    assert rows.radgroupreply == (
        ReplyRow("ispb-suspended", "Mikrotik-Address-List", ":=", "ispb-suspended"),
        ReplyRow("ispb-suspended", "Mikrotik-Rate-Limit", ":=", "64k/64k"),
    )


def test_reject_mode_sets_auth_type_reject_for_the_group():
    rows = suspended_group_rows(SuspendedMode.REJECT, message="Pay your bill")
    assert rows.radgroupcheck == (CheckRow("ispb-suspended", "Auth-Type", ":=", "Reject"),)
    assert rows.radgroupreply == (ReplyRow("ispb-suspended", "Reply-Message", ":=", "Pay your bill"),)


def test_a_bad_suspended_rate_limit_is_refused():
    with pytest.raises(InvalidRadiusValue):
        suspended_group_rows(rate_limit="slow")


def test_a_rate_limit_with_a_trailing_newline_is_refused() -> None:
    with pytest.raises(InvalidRadiusValue):
        customer_rows("rahim", "s3cret", rate_limit="10M/10M\n", suspended=False)
    assert customer_rows("rahim", "s3cret", rate_limit="10M/10M", suspended=False).radreply
