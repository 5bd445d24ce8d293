"""``netsync.olt_sync`` against simulated OLTs (snmpsim serving recordings written from the vendors' MIBs):
discovery, new ONUs, automatic mapping and the override it never undoes, status and power history, and OLTs
that are down, refuse the community, stop in the middle of a walk or answer garbage, none holding up another."""

import asyncio
import hashlib
import time
from typing import Any

import pytest

from factories import TEST_SECRET_KEY, make_customer
from ispb_netsync.olt import OltAddress, OLTWalkCut, read_onus
from ispb_netsync.olt.simulator import free_udp_port
from ispb_platform.network.olts import forms, queries, service
from ispb_platform.network.olts.sync import SyncOptions, sync_olts
from ispb_tenants import Database, TenantRef
from ispb_tenants.tables import Olt, Onu, OnuReading
from peers.snmp_olt import CutProxy, GarbagePeer, onus_of, simulated_olts

FAST = SyncOptions(timeout=0.5, retries=1, olt_within=20, retry_pause=0)

A_FIRST = onus_of("huawei_gpon", 6, weak=[3])
A_LATER = [
    *(
        onu if onu.index != 4 else type(onu)(**{**vars(onu), "rx_dbm": -29.4})
        for onu in onus_of("huawei_gpon", 7, down=[2], weak=[3])
    ),
]
STATES = {
    "olt-a": ("huawei_gpon", A_FIRST),
    "olt-a-later": ("huawei_gpon", A_LATER),
    "olt-b": ("bdcom_epon", onus_of("bdcom_epon", 40)),
}


async def _add_olt(db: Database, tenant: TenantRef, name: str, vendor: str, port: int, community: str) -> int:
    draft, errors = forms.validate_olt(
        {"name": name, "host": "127.0.0.1", "snmp_port": str(port), "snmp_version": "v2c",
         "community": community, "vendor": vendor, "site": "Mirpur"},
        new=True,
    )  # fmt: skip
    assert draft is not None, errors
    async with db.tenant(tenant) as scope:
        return await service.save_olt(scope, TEST_SECRET_KEY, draft, None)


async def _set(db: Database, tenant: TenantRef, olt_id: int, *, port: int | None = None, community: str = "") -> None:
    async with db.tenant(tenant) as scope:
        olt = await queries.get_olt(olt_id)
        assert olt is not None
        data = forms.form_values(olt) | {"community": community, "snmp_port": str(port or olt["snmp_port"])}
        draft, errors = forms.validate_olt(data, new=False, had_community=True)
        assert draft is not None, errors
        await service.save_olt(scope, TEST_SECRET_KEY, draft, olt_id)


async def _onus(db: Database, tenant: TenantRef, olt_id: int) -> dict[int, dict[str, Any]]:
    async with db.tenant(tenant):
        return {row["onu_index"]: row for row in await Onu.select().where(Onu.olt_id == olt_id)}


async def test_discovery_mapping_override_and_history(db: Database, make_tenant):
    tenant = await make_tenant("olt")
    async with db.tenant(tenant) as scope:
        customers = {code: await make_customer(scope, code=code) for code in ("C-0001", "C-0002", "C-0003")}
    with simulated_olts(STATES) as simulator:
        olt_id = await _add_olt(db, tenant, "Mirpur OLT", "huawei_gpon", simulator.port, "olt-a")
        first = await sync_olts(db, tenant, TEST_SECRET_KEY, FAST)
        assert first["olts_read"] == 1 and first["onus_seen"] == 6
        onus = await _onus(db, tenant, olt_id)
        assert sorted(onus) == [1, 2, 3, 4, 5, 6]
        assert onus[1]["serial"] == "HWTC00000001" and onus[1]["port"] == "0/1/3"
        assert float(onus[3]["rx_dbm"]) == -29.4 and onus[3]["distance_m"] == 1003
        # the rule (ONU description = customer code) maps the three ONUs with a customer
        assert {i: (o["customer_id"], o["mapping"]) for i, o in onus.items() if o["customer_id"]} == {
            1: (customers["C-0001"], "auto"), 2: (customers["C-0002"], "auto"), 3: (customers["C-0003"], "auto"),
        }  # fmt: skip
        # the operator maps ONU 1 to another customer by hand, and ONU 2 to nobody
        async with db.tenant(tenant) as scope:
            await service.map_by_hand(scope, onus[1]["id"], "C-0003")
            await service.map_by_hand(scope, onus[2]["id"], "")

        await _set(db, tenant, olt_id, community="olt-a-later")  # the OLT's next state
        second = await sync_olts(db, tenant, TEST_SECRET_KEY, FAST)
        assert second["onus_seen"] == 7
        onus = await _onus(db, tenant, olt_id)
        assert onus[7]["first_seen_at"] > onus[1]["first_seen_at"]  # the new ONU appeared
        assert onus[2]["status"] == "los" and onus[2]["rx_dbm"] is None and onus[2]["last_change_at"] is not None
        assert float(onus[4]["rx_dbm"]) == -29.4
        assert (onus[1]["customer_id"], onus[1]["mapping"]) == (customers["C-0003"], "manual")  # override kept
        assert (onus[2]["customer_id"], onus[2]["mapping"]) == (None, "manual")
        async with db.tenant(tenant):
            history = await OnuReading.select().where(OnuReading.onu_id.is_in([onus[2]["id"], onus[4]["id"]]))
            listed = await queries.list_onus(olt_id=olt_id)
        # readings: first sight, then the status change (ONU 2) and the 9 dB drop (ONU 4)
        assert sorted((r["onu_id"], r["status"]) for r in history) == sorted(
            [(onus[2]["id"], "online"), (onus[2]["id"], "los"), (onus[4]["id"], "online"), (onus[4]["id"], "online")]
        )
        # problems first: the LOS ONU, then the weak ones (weakest first)
        assert [(row["onu_index"], row["problem"]) for row in listed[:4]] == [
            (2, "down"),
            (3, "weak"),
            (4, "weak"),
            (1, ""),
        ]

        third = await sync_olts(db, tenant, TEST_SECRET_KEY, FAST)  # nothing changed: no new reading
        assert third.get("readings_kept", 0) == 0

        await _set(db, tenant, olt_id, community="olt-a")  # ONU 7 is gone from the OLT: kept, marked missing
        await sync_olts(db, tenant, TEST_SECRET_KEY, FAST)
        onus = await _onus(db, tenant, olt_id)
        assert onus[7]["missing_since"] is not None and onus[1]["missing_since"] is None


async def test_failing_olts_are_marked_and_never_hold_up_the_others(db: Database, make_tenant):
    tenant = await make_tenant("oltfail")
    with simulated_olts(STATES) as simulator:
        good = await _add_olt(db, tenant, "Good", "bdcom_epon", simulator.port, "olt-b")
        cut = await _add_olt(db, tenant, "Cut", "bdcom_epon", simulator.port, "olt-b")
        assert (await sync_olts(db, tenant, TEST_SECRET_KEY, FAST))["olts_read"] == 2  # both complete once
        before = await _onus(db, tenant, cut)
        assert len(before) == 40

        proxy = await CutProxy(("127.0.0.1", simulator.port), answers=4).start()  # 40 ONUs need more
        loop = await GarbagePeer("loop").start()
        junk = await GarbagePeer("junk").start()
        try:
            await _set(db, tenant, cut, port=proxy.port)
            down = await _add_olt(db, tenant, "Down", "zte_gpon", free_udp_port(), "public")
            wrong = await _add_olt(db, tenant, "Wrong community", "huawei_gpon", simulator.port, "not-this-one")
            looping = await _add_olt(db, tenant, "Looping", "vsol_epon", loop.port, "public")
            garbage = await _add_olt(db, tenant, "Junk", "vsol_epon", junk.port, "public")
            started = time.monotonic()
            counts = await sync_olts(db, tenant, TEST_SECRET_KEY, FAST)
            took = time.monotonic() - started
        finally:
            proxy.close()
            loop.close()
            junk.close()
    assert counts["olts_read"] == 1 and counts["onus_seen"] == 40
    assert took < 15  # each failure costs its own timeouts, side by side
    async with db.tenant(tenant):
        olts = {row["id"]: row for row in await Olt.select()}
    assert olts[good]["status"] == "up" and olts[good]["onu_count"] == 40
    assert counts["olts_retried"] == 5 and counts.get("olts_recovered", 0) == 0  # tried again after the others
    assert olts[cut]["status"] == "down"  # cut on the first try; silent on the retry
    assert olts[down]["status"] == "down" and "OLTTimedOut" in olts[down]["last_error"]
    assert olts[wrong]["status"] == "auth_failed" and "OLTCommunityRejected" in olts[wrong]["last_error"]
    assert olts[looping]["status"] == "garbage" and "OIDs must increase" in olts[looping]["last_error"]
    assert olts[garbage]["status"] == "down"  # junk bytes are no answer at all
    assert all(olts[i]["failures"] == 2 for i in (cut, down, wrong, looping, garbage))
    # the cut walk changed nothing: same ONUs, none marked missing
    after = await _onus(db, tenant, cut)
    assert sorted(after) == sorted(before)
    assert all(
        row["missing_since"] is None and row["last_seen_at"] == before[i]["last_seen_at"] for i, row in after.items()
    )


async def test_two_runs_at_once_write_each_onu_once(db: Database, make_tenant):
    tenant = await make_tenant("olttwice")
    with simulated_olts(STATES) as simulator:
        olt_id = await _add_olt(db, tenant, "Twice", "huawei_gpon", simulator.port, "olt-a")
        await asyncio.gather(*(sync_olts(db, tenant, TEST_SECRET_KEY, FAST) for _ in range(3)))
    async with db.tenant(tenant):
        assert await Onu.count().where(Onu.olt_id == olt_id) == 6
        assert await OnuReading.count() == 6  # one first-sight reading each; the runs after changed nothing


async def test_a_walk_cut_in_the_middle_is_a_typed_error_not_a_short_list():
    with simulated_olts(STATES) as simulator:
        proxy = await CutProxy(("127.0.0.1", simulator.port), answers=4).start()
        try:
            address = OltAddress("127.0.0.1", community="olt-b", port=proxy.port, timeout=0.5, retries=1)
            with pytest.raises(OLTWalkCut) as raised:
                await read_onus(address, "bdcom_epon")
        finally:
            proxy.close()
    assert raised.value.rows > 0 and "middle of a walk" in raised.value.message


async def test_a_slow_olt_is_cut_off_at_its_bound_while_the_others_are_read(db: Database, make_tenant):
    tenant = await make_tenant("oltslow")
    with simulated_olts(STATES) as simulator:
        # each request held 0.4 s, well under the 1.2 s request timeout even on a loaded machine: the walk is
        # slow, never silent, so only the 1.5 s bound on the whole walk can end it
        proxy = await CutProxy(("127.0.0.1", simulator.port), delay=0.4).start()
        try:
            slow = await _add_olt(db, tenant, "Slow", "bdcom_epon", proxy.port, "olt-b")
            good = await _add_olt(db, tenant, "Good", "huawei_gpon", simulator.port, "olt-a")
            started = time.monotonic()
            counts = await sync_olts(
                db, tenant, TEST_SECRET_KEY, SyncOptions(timeout=1.2, retries=0, olt_within=1.5, retry_pause=-1)
            )
            took = time.monotonic() - started
        finally:
            proxy.close()
    assert counts["olts_read"] == 1 and counts["olts_down"] == 1
    assert took < 6  # its own bound, walked beside the good one
    async with db.tenant(tenant):
        olts = {row["id"]: row for row in await Olt.select()}
    assert olts[good]["status"] == "up" and olts[slow]["status"] == "down"
    assert "longer than 1.5 s" in olts[slow]["last_error"]


async def test_an_snmpv3_authpriv_olt_is_read_and_a_wrong_key_is_an_auth_failure(db: Database, make_tenant):
    tenant = await make_tenant("oltv3")
    with simulated_olts(STATES, v3=("ispb", "auth-pass-1", "priv-pass-1")) as simulator:
        ids = {}
        for name, auth_key in (("V3", "auth-pass-1"), ("V3 wrong key", "wrong-pass-2")):
            draft, errors = forms.validate_olt(
                {"name": name, "host": "127.0.0.1", "snmp_port": str(simulator.port), "snmp_version": "v3",
                 "v3_username": "ispb", "v3_auth_protocol": "SHA", "v3_auth_key": auth_key, "v3_priv_protocol": "AES",
                 "v3_priv_key": "priv-pass-1", "v3_context": hashlib.md5(b"olt-a").hexdigest(),  # snmpsim's context
                 "vendor": "huawei_gpon"},
                new=True,
            )  # fmt: skip
            assert draft is not None, errors
            async with db.tenant(tenant) as scope:
                ids[name] = await service.save_olt(scope, TEST_SECRET_KEY, draft, None)
        counts = await sync_olts(db, tenant, TEST_SECRET_KEY, FAST)
    assert counts["olts_read"] == 1 and counts["onus_seen"] == 6
    async with db.tenant(tenant):
        olts = {row["id"]: row for row in await Olt.select()}
    assert olts[ids["V3"]]["status"] == "up" and olts[ids["V3"]]["community_sealed"] is None
    assert olts[ids["V3 wrong key"]]["status"] == "auth_failed"
