"""Routers and Packages → OLTs: OLT list with status and last sync, add/edit (admins), test connection, the ONU
list (problems first), an ONU's page (Rx history, mapping override) and the ONU settings (threshold, rule)."""

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from ispb_netsync.olt.client import AUTH_PROTOCOLS, PRIV_PROTOCOLS
from ispb_platform.activity.service import record_activity
from ispb_platform.auth.access import allow, provide_principal
from ispb_platform.auth.roles import OPERATOR_ADMINS, OPERATORS, Principal
from ispb_platform.network.olts import forms, queries, service
from ispb_platform.network.olts.history import rx_chart
from ispb_platform.network.olts.queries import OltRow
from ispb_platform.web.confirm import Confirmation, confirm_page, panel_layout, read_reason
from ispb_platform.web.flash import flash
from ispb_platform.web.forms import form_fields, see_other, text_problem
from ispb_platform.web.navigation import PANEL_NAV
from ispb_platform.web.requests import client_ip
from ispb_platform.web.scope import TenantScope, in_tenant_scope

Operator = NamedDependency[Principal]
_CHOICES = {
    "vendors": forms.VENDORS,
    "versions": forms.VERSIONS,
    "auth_protocols": {name: name for name in AUTH_PROTOCOLS},
    "priv_protocols": {name: name for name in PRIV_PROTOCOLS},
}


def _page(template: str, status_code: int = 200, **context: Any) -> Template:
    return Template(
        template,
        context={"nav": PANEL_NAV, "active": "/panel/olts", **_CHOICES, **context},
        status_code=status_code,
    )


OLTS = panel_layout("/panel/olts")


async def _olt(olt_id: int) -> OltRow:
    olt = await queries.get_olt(olt_id)
    if olt is None:
        raise NotFoundException()
    return olt


def _remove_confirmation(olt: OltRow) -> Confirmation:
    return Confirmation(
        title=f"Remove the OLT {olt['name']} ({olt['host']})?",
        consequence=f"Its {olt['onu_count']} ONUs leave the ONU list with their signal history, and customers"
        " mapped to them lose the link (their accounts are untouched). The sync stops asking it. Adding the OLT"
        " again later finds its ONUs anew; manual mappings have to be made again.",
        action=f"/panel/olts/{olt['id']}/remove",
        button="Remove OLT",
        back=f"/panel/olts/{olt['id']}",
    )


def _secret_key(request: Request[Any, Any, Any]) -> str:
    return str(request.app.state.runtime.settings.secret_key)


class OltController(Controller):
    path = "/panel/olts"
    dependencies = {"operator": Provide(provide_principal)}  # noqa: RUF012 (Litestar reads it on the class)

    @get("/", opt=allow(OPERATORS))
    @in_tenant_scope
    async def list_olts(self, db: TenantScope) -> Template:
        return _page("network/olts/list.html", olts=await queries.all_olts(), problems=await queries.count_problems())

    @get("/new", opt=allow(OPERATOR_ADMINS))
    async def new_olt(self) -> Template:
        return _page("network/olts/form.html", form=forms.NEW_OLT, errors={}, olt_id=None)

    @get("/{olt_id:int}", opt=allow(OPERATORS))
    @in_tenant_scope
    async def view_olt(self, db: TenantScope, olt_id: FromPath[int]) -> Template:
        olt = await queries.get_olt(olt_id)
        if olt is None:
            raise NotFoundException()
        onus = await queries.list_onus(olt_id=olt_id)
        return _page("network/olts/detail.html", olt=olt, onus=onus[: queries.ONU_PAGE], total=len(onus), check=None)

    @get("/{olt_id:int}/edit", opt=allow(OPERATOR_ADMINS))
    @in_tenant_scope
    async def edit_olt(self, db: TenantScope, olt_id: FromPath[int]) -> Template:
        olt = await queries.get_olt(olt_id)
        if olt is None:
            raise NotFoundException()
        return _page("network/olts/form.html", form=forms.form_values(olt), errors={}, olt_id=olt_id)

    @post(["/new", "/{olt_id:int}/edit"], opt=allow(OPERATOR_ADMINS))
    @in_tenant_scope
    async def save(
        self, db: TenantScope, request: Request[Any, Any, Any], operator: Operator, olt_id: FromPath[int | None] = None
    ) -> Template | Response[Any]:
        data = await form_fields(request)
        stored = await queries.get_olt(olt_id) if olt_id is not None else None
        if olt_id is not None and stored is None:
            raise NotFoundException()
        draft, errors = forms.validate_olt(
            data,
            new=stored is None,
            was_v3=stored is not None and stored["snmp_version"] == "v3",
            had_community=stored is not None and stored["community_sealed"] is not None,
        )
        errors = errors | await service.name_clash(data, errors, olt_id)
        if draft is not None and not errors:
            try:
                saved = await service.save_olt(db, _secret_key(request), draft, olt_id)
            except queries.OltNameTaken:
                errors = {"name": f"An OLT named {draft.name!r} already exists."}
            else:
                summary = (
                    f"Saved OLT {draft.name} ({draft.host}:{draft.snmp_port}, {draft.vendor}, {draft.snmp_version})"
                )
                await record_activity(
                    db,
                    operator,
                    "olt.saved",
                    object_type="olt",
                    object_id=saved,
                    summary=summary,
                    ip=client_ip(request),
                )
                flash(request, "OLT saved: its ONUs appear after the next sync (every 15 minutes)")
                return see_other(request, f"/panel/olts/{saved}")
        return _page("network/olts/form.html", 422, form=forms.without_secrets(data), errors=errors, olt_id=olt_id)

    @get("/{olt_id:int}/remove", opt=allow(OPERATOR_ADMINS))
    @in_tenant_scope
    async def confirm_remove(self, db: TenantScope, olt_id: FromPath[int]) -> Template:
        return confirm_page(_remove_confirmation(await _olt(olt_id)), OLTS)

    @post("/{olt_id:int}/remove", opt=allow(OPERATOR_ADMINS))
    @in_tenant_scope
    async def remove(
        self, db: TenantScope, request: Request[Any, Any, Any], operator: Operator, olt_id: FromPath[int]
    ) -> Template | Response[Any]:
        """Remove an OLT taken out of service, with its ONUs and their history; the reason goes into the log."""
        olt = await _olt(olt_id)
        reason, errors = read_reason(await form_fields(request))
        if errors:
            return confirm_page(_remove_confirmation(olt), OLTS, reason=reason, errors=errors)
        removed = await service.remove_olt(db, olt_id)
        if removed is None:
            raise NotFoundException()  # removed meanwhile by someone else
        await record_activity(
            db,
            operator,
            "olt.removed",
            object_type="olt",
            object_id=olt_id,
            summary=f"Removed OLT {removed.name} with {removed.onus} ONUs: {reason}",
            details={"reason": reason, "onus": removed.onus, "customers_unlinked": removed.customers_unlinked},
            ip=client_ip(request),
        )
        flash(request, f"OLT {removed.name} removed with its {removed.onus} ONUs")
        return see_other(request, "/panel/olts")

    @post("/{olt_id:int}/test", opt=allow(OPERATORS))
    async def test_connection(
        self, request: Request[Any, Any, Any], operator: Operator, olt_id: FromPath[int]
    ) -> Template:
        """Ask the OLT for its sysDescr now; not ``@in_tenant_scope`` so no transaction waits on the OLT."""
        runtime = request.app.state.runtime
        tenant = operator.require_tenant()
        check = await service.test_connection(runtime.db, tenant, _secret_key(request), olt_id)
        if check is None:
            raise NotFoundException()
        async with runtime.db.tenant(tenant):
            olt = await queries.get_olt(olt_id)
            onus = await queries.list_onus(olt_id=olt_id)
        if olt is None:
            raise NotFoundException()
        return _page("network/olts/detail.html", olt=olt, onus=onus[: queries.ONU_PAGE], total=len(onus), check=check)

    @get("/onus", opt=allow(OPERATORS))
    @in_tenant_scope
    async def list_onus(self, db: TenantScope, problems: FromQuery[str] = "") -> Template:
        onus = await queries.list_onus(problems_only=problems == "1")
        threshold = (await queries.settings())["rx_threshold_dbm"]
        return _page(
            "network/olts/onus.html",
            onus=onus[: queries.ONU_PAGE],
            total=len(onus),
            problems_only=problems == "1",
            threshold=threshold,
        )

    @get("/onus/{onu_id:int}", opt=allow(OPERATORS))
    @in_tenant_scope
    async def view_onu(self, db: TenantScope, onu_id: FromPath[int]) -> Template:
        return await self._onu_page(onu_id, {}, "")

    async def _onu_page(self, onu_id: int, errors: dict[str, str], code: str, status_code: int = 200) -> Template:
        onu = await queries.get_onu(onu_id)
        if onu is None:
            raise NotFoundException()
        readings = await queries.readings(onu_id)
        settings = await queries.settings()
        chart = rx_chart(readings, settings["rx_threshold_dbm"])
        return _page(
            "network/olts/onu.html",
            status_code,
            onu=onu,
            readings=readings[-50:][::-1],
            chart=chart,
            errors=errors,
            form={"customer_code": code},
            threshold=settings["rx_threshold_dbm"],
        )

    @post("/onus/{onu_id:int}/map", opt=allow(OPERATORS))
    @in_tenant_scope
    async def map_onu(
        self, db: TenantScope, request: Request[Any, Any, Any], operator: Operator, onu_id: FromPath[int]
    ) -> Template | Response[Any]:
        data = await form_fields(request)
        if await queries.get_onu(onu_id) is None:
            raise NotFoundException()
        code = (data.get("customer_code") or "").strip()
        problem = text_problem(code) or ("Customer codes are at most 60 characters." if len(code) > 60 else "")
        if problem:
            return await self._onu_page(onu_id, {"customer_code": problem}, code, 422)
        try:
            summary = await service.map_by_hand(db, onu_id, code)
        except service.UnknownCustomer:
            return await self._onu_page(onu_id, {"customer_code": f"No customer has the code {code!r}."}, code, 422)
        await record_activity(
            db, operator, "onu.mapped", object_type="onu", object_id=onu_id, summary=f"ONU {onu_id}: {summary}",
            ip=client_ip(request),
        )  # fmt: skip
        flash(request, "Mapping saved; the sync will not change it")
        return see_other(request, f"/panel/olts/onus/{onu_id}")

    @post("/onus/{onu_id:int}/automatic", opt=allow(OPERATORS))
    @in_tenant_scope
    async def map_automatically(
        self, db: TenantScope, request: Request[Any, Any, Any], operator: Operator, onu_id: FromPath[int]
    ) -> Response[Any]:
        if await queries.get_onu(onu_id) is None:
            raise NotFoundException()
        await service.map_automatically_again(db, onu_id)
        await record_activity(
            db, operator, "onu.mapped", object_type="onu", object_id=onu_id, summary=f"ONU {onu_id}: back to the rule",
            ip=client_ip(request),
        )  # fmt: skip
        flash(request, "The ONU follows the mapping rule again")
        return see_other(request, f"/panel/olts/onus/{onu_id}")

    @get("/settings", opt=allow(OPERATOR_ADMINS))
    @in_tenant_scope
    async def edit_settings(self, db: TenantScope) -> Template:
        current = await queries.settings()
        form = {key: str(value) for key, value in current.items()}
        return self._settings_page(form, {})

    def _settings_page(self, form: dict[str, str], errors: dict[str, str], status_code: int = 200) -> Template:
        return _page(
            "network/olts/settings.html",
            status_code,
            form=form,
            errors=errors,
            onu_fields=forms.ONU_FIELDS,
            customer_fields=forms.CUSTOMER_FIELD_LABELS,
        )

    @post("/settings", opt=allow(OPERATOR_ADMINS))
    @in_tenant_scope
    async def save_settings(
        self, db: TenantScope, request: Request[Any, Any, Any], operator: Operator
    ) -> Template | Response[Any]:
        data = await form_fields(request)
        values, errors = forms.validate_settings(data)
        if values is None:
            return self._settings_page(data, errors, 422)
        await queries.save_settings(
            queries.Settings(
                rx_threshold_dbm=values["rx_threshold_dbm"],
                match_onu_field=values["match_onu_field"],
                match_customer_field=values["match_customer_field"],
            )
        )
        await service.apply_rule(db)
        await record_activity(
            db, operator, "onu.settings", object_type="onu_settings", object_id=1,
            summary=f"ONU settings: weak below {values['rx_threshold_dbm']} dBm, match {values['match_onu_field']} "
            f"to {values['match_customer_field']}", ip=client_ip(request),
        )  # fmt: skip
        flash(request, "ONU settings saved")
        return see_other(request, "/panel/olts/onus")
