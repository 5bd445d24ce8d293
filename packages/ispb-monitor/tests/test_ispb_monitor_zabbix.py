"""The Zabbix client against the simulator, as 6.0 LTS (token in the request's auth member) and as 7.0 (Bearer
header): version, token and password sign-in, hosts, problems with their hosts, and each typed error."""

import pytest

from ispb_monitor.zabbix import (
    Severity,
    ZabbixAuthError,
    ZabbixClient,
    ZabbixUnreachable,
    ZabbixVersionError,
    api_url,
)
from ispb_monitor.zabbix_simulator import ZabbixSimulator
from ispb_notify import OutboundPolicy

LOOPBACK = OutboundPolicy.parse("127.0.0.0/8")


def _simulator(version: str) -> ZabbixSimulator:
    simulator = ZabbixSimulator(version=version, token="tok")
    core = simulator.add_host("core-sw1", "Core switch 1")
    olt = simulator.add_host("olt-north", "OLT North", available=False)
    simulator.raise_problem(core, "High CPU", Severity.WARNING, age_s=60)
    simulator.raise_problem(olt, "OLT North unreachable", Severity.DISASTER, age_s=30)
    simulator.raise_problem(core, "Port flapping", Severity.WARNING, age_s=3600, acknowledged=True)
    return simulator


@pytest.mark.parametrize("version", ["6.0.30", "7.0.5"])
async def test_token_hosts_and_problems(version: str) -> None:
    simulator = _simulator(version)
    async with simulator.serving() as url, ZabbixClient(url, token="tok", policy=LOOPBACK) as client:
        assert (await client.version())[:2] == tuple(int(p) for p in version.split(".")[:2])
        hosts = await client.hosts()
        assert [(h.name, h.available) for h in hosts] == [("Core switch 1", True), ("OLT North", False)]
        problems = await client.problems()
        # most severe first, then oldest first
        assert [p.name for p in problems] == ["OLT North unreachable", "Port flapping", "High CPU"]
        assert problems[0].severity is Severity.DISASTER and problems[0].hosts[0][1] == "OLT North"
        assert problems[1].acknowledged and not problems[2].acknowledged
        assert problems[1].age_seconds(problems[2].since) >= 3500


@pytest.mark.parametrize("version", ["6.0.30", "7.0.5"])
async def test_password_login_and_logout(version: str) -> None:
    simulator = _simulator(version)
    async with simulator.serving() as url:
        async with ZabbixClient(url, username="Admin", password="zabbix", policy=LOOPBACK) as client:
            assert len(await client.hosts()) == 2
            assert len(simulator.sessions) == 1
        assert simulator.sessions == set()  # ended on close
        assert "user.logout" in simulator.calls
        with pytest.raises(ZabbixAuthError, match="Incorrect user name"):
            async with ZabbixClient(url, username="Admin", password="wrong", policy=LOOPBACK) as client:
                await client.hosts()


async def test_bad_token_bad_url_and_version_mismatch() -> None:
    simulator = _simulator("7.0.5")
    async with simulator.serving() as url:
        with pytest.raises(ZabbixAuthError, match="Not authorised"):
            async with ZabbixClient(url, token="nope", policy=LOOPBACK) as client:
                await client.problems()
        with pytest.raises(ZabbixUnreachable, match="404"):
            async with ZabbixClient(
                url.replace("/api_jsonrpc.php", "/zabbix/api_jsonrpc.php"), token="tok", policy=LOOPBACK
            ) as c:
                await c.hosts()
        with pytest.raises(ZabbixUnreachable, match="loopback"):  # the policy applies to the typed URL
            async with ZabbixClient(url, token="tok") as client:
                await client.hosts()
    with pytest.raises(ZabbixUnreachable):
        async with ZabbixClient(url, token="tok", policy=LOOPBACK) as client:  # nothing listens there now
            await client.version()
    old = ZabbixSimulator(version="5.0.40", token="tok")
    async with old.serving() as url, ZabbixClient(url, token="tok", policy=LOOPBACK) as client:
        with pytest.raises(ZabbixVersionError, match=r"5\.0\.40"):
            await client.hosts()
    with pytest.raises(ZabbixUnreachable):
        ZabbixClient("zabbix.example.net", token="tok")
    with pytest.raises(ZabbixAuthError):
        ZabbixClient("https://zabbix.example.net")


async def test_a_6_0_server_ignores_the_bearer_header() -> None:
    """What the version switch is for: 6.0 reads only the auth member, 7.0 the header."""
    simulator = _simulator("6.0.30")
    assert simulator.answer({"jsonrpc": "2.0", "method": "host.get", "params": {}, "id": 1}, "tok")["error"]
    seven = _simulator("7.0.5")
    assert "result" in seven.answer({"jsonrpc": "2.0", "method": "host.get", "params": {}, "id": 1}, "tok")
    assert api_url("http://z/zabbix") == "http://z/zabbix/api_jsonrpc.php"
