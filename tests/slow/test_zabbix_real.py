"""The Zabbix client against a real Zabbix 6.0 LTS from Debian (server and frontend on loopback, started within
60 s): version, password sign-in, an API token created there (6.0 reads it from the request's auth member), a
host with a trapper item and a trigger put into problem state by zabbix_sender, seen by problem.get with its
host, severity and age; a bad token is ZabbixAuthError."""

import asyncio
import subprocess
import time

import pytest

from ispb_monitor.zabbix import Severity, ZabbixAuthError, ZabbixClient
from ispb_notify import OutboundPolicy
from peers.zabbix_real import running_zabbix

pytestmark = pytest.mark.slow
LOOPBACK = OutboundPolicy.parse("127.0.0.0/8")


async def test_a_real_zabbix_6_0(database_url: str) -> None:
    with running_zabbix(database_url) as zabbix:
        async with ZabbixClient(zabbix.api_url, username="Admin", password="zabbix", policy=LOOPBACK) as admin:
            assert (await admin.version())[:2] == (6, 0)
            groups = await admin.call("hostgroup.get", {"output": ["groupid"], "filter": {"name": ["Linux servers"]}})
            host = await admin.call(
                "host.create", {"host": "ispb-core", "name": "ISPB core", "groups": [{"groupid": groups[0]["groupid"]}]}
            )
            hostid = host["hostids"][0]
            await admin.call(
                "item.create",
                {"hostid": hostid, "name": "Link down", "key_": "ispb.link", "type": 2, "value_type": 3},
            )
            await admin.call(
                "trigger.create",
                {"description": "Uplink is down", "expression": "last(/ispb-core/ispb.link)>0", "priority": 4},
            )
            users = await admin.call("user.get", {"output": ["userid"], "filter": {"username": "Admin"}})
            token_id = (await admin.call("token.create", {"name": "ispb", "userid": users[0]["userid"]}))["tokenids"][0]
            token = (await admin.call("token.generate", [token_id]))[0]["token"]
        # the server learns the new item from its configuration cache, then the trapper takes a value
        reload = ["zabbix_server", "-c", str(zabbix.config), "-R", "config_cache_reload"]
        await asyncio.to_thread(subprocess.run, reload, check=True, timeout=30)
        deadline = time.monotonic() + 60
        problems = []
        async with ZabbixClient(zabbix.api_url, token=token, policy=LOOPBACK) as client:
            assert [h.name for h in await client.hosts() if h.hostid == hostid] == ["ISPB core"]
            while not problems and time.monotonic() < deadline:
                await asyncio.to_thread(
                    subprocess.run,
                    ["zabbix_sender", "-z", "127.0.0.1", "-p", str(zabbix.trapper_port), "-s", "ispb-core",
                     "-k", "ispb.link", "-o", "1"],
                    check=False, capture_output=True, timeout=30,
                )  # fmt: skip
                problems = [p for p in await client.problems() if p.name == "Uplink is down"]
                if not problems:
                    await asyncio.sleep(2)
        assert problems, "no problem within 60 s of sending the value"
        assert problems[0].severity is Severity.HIGH and problems[0].hosts[0][1] == "ISPB core"
        assert not problems[0].acknowledged
        with pytest.raises(ZabbixAuthError):
            async with ZabbixClient(zabbix.api_url, token="0" * 64, policy=LOOPBACK) as bad:
                await bad.hosts()
