"""SMS and Notifications pages: Due Date Notifier, Expiration Notifier, Event SMS, SMS Gateway Setup (with a
test message) and the Sent Messages log. HTTP only: forms are read by ``notify.forms`` (templates are checked
when saved, so a bad one is refused with its position and never reaches the send job), the work is done by
``notify.service``."""

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from ispb_notify import Event, OutboundPolicy
from ispb_platform.auth.access import allow, provide_principal
from ispb_platform.auth.roles import OPERATOR_ADMINS, OPERATORS, Principal
from ispb_platform.notify import forms, service
from ispb_platform.notify.service import Actor, GatewayChange
from ispb_platform.payments.online.gateway import PROVIDER_LABELS
from ispb_platform.web.flash import flash
from ispb_platform.web.forms import form_fields, see_other
from ispb_platform.web.navigation import PANEL_NAV
from ispb_platform.web.requests import client_ip
from ispb_platform.web.scope import TenantScope, in_tenant_scope

Operator = NamedDependency[Principal]
BASE = "/panel/notifications"


def _page(template: str, active: str, status_code: int = 200, **context: Any) -> Template:
    return Template(template, context={"nav": PANEL_NAV, "active": active, **context}, status_code=status_code)


def _secret_key(request: Request[Any, Any, Any]) -> str:
    return str(request.app.state.runtime.settings.secret_key)


def _outbound(request: Request[Any, Any, Any]) -> OutboundPolicy:
    """``ISPB_OUTBOUND_ALLOW``: where gateway URLs may lead."""
    policy: OutboundPolicy = request.app.state.runtime.settings.outbound
    return policy


def _actor(request: Request[Any, Any, Any], operator: Principal) -> Actor:
    return Actor(operator, client_ip(request))


async def _due_page(
    errors: dict[str, str], body: str, status: int = 200, typed: dict[str, str] | None = None
) -> Template:
    """The Due Date Notifier page: the stored settings, or after a refusal what was ``typed``."""
    settings = await service.due_date_settings(body)
    send_time = settings.schedule.send_time.strftime("%H:%M") if settings.schedule else "10:00"
    stored = {"offsets": settings.offsets, "send_time": send_time}
    return _page(
        "notify/due_date.html",
        f"{BASE}/due-date",
        status,
        rules=settings.rules,
        form=stored if typed is None else {key: typed.get(key, "") for key in stored},
        schedule=settings.schedule,
        body=settings.body,
        preview=forms.preview(settings.body, "due_date"),
        variables=sorted(forms.allowed_variables("due_date")),
        errors=errors,
    )


async def _expiry_page(errors: dict[str, str], leads: str | None, body: str, status: int = 200) -> Template:
    text = await service.expiration_text(body)
    return _page(
        "notify/expiration.html",
        f"{BASE}/expiration",
        status,
        leads=leads if leads is not None else await service.expiration_leads(),
        body=text,
        preview=forms.preview(text, "expiration"),
        variables=sorted(forms.allowed_variables("expiration")),
        errors=errors,
    )


def _gateway_form(setup: service.GatewaySetup) -> dict[str, Any]:
    """The SMS gateway form from what is stored (GET by default, enabled unless switched off)."""
    config: dict[str, Any] = setup.sms.config if setup.sms else {"method": "GET", "params": {}}
    stored_params = {str(k): str(v) for k, v in dict(config.get("params") or config.get("form_body") or {}).items()}
    return {
        "url": config.get("url", ""),
        "method": config.get("method", "GET"),
        "params": "\n".join(f"{k}={v}" for k, v in stored_params.items()),
        "success_pattern": config.get("success_pattern", ""),
        "message_id_pattern": config.get("message_id_pattern", ""),
        "enabled": "on" if (setup.sms is None or setup.sms.enabled) else "",
    }


def _whatsapp_form(setup: service.GatewaySetup) -> dict[str, Any]:
    whatsapp = setup.whatsapp
    return {
        "phone_number_id": whatsapp.config.get("phone_number_id", "") if whatsapp else "",
        "enabled": "on" if whatsapp is None or whatsapp.enabled else "",
    }


Typed = tuple[dict[str, Any], dict[str, str]]
"""A form as typed and its field errors."""


def _gateway_page(
    setup: service.GatewaySetup,
    status_code: int = 200,
    *,
    sms: Typed | None = None,
    whatsapp: Typed | None = None,
    test: Typed | None = None,
) -> Template:
    """The page's three forms (SMS gateway, WhatsApp, test message): the one submitted as typed with its
    errors beside the fields, the others as stored, so a refusal in one loses nothing of the others."""
    sms_form, sms_errors = sms or (_gateway_form(setup), {})
    whatsapp_form, whatsapp_errors = whatsapp or (_whatsapp_form(setup), {})
    test_form, test_errors = test or ({"to": ""}, {})
    return _page(
        "notify/gateway.html",
        f"{BASE}/gateway",
        status_code,
        form=sms_form,
        errors=sms_errors,
        has_secret=bool(setup.sms and setup.sms.secret_sealed),
        credit=setup.credit,
        sms_offer=setup.sms_offer,
        provider_labels=PROVIDER_LABELS,
        whatsapp=whatsapp_form,
        whatsapp_errors=whatsapp_errors,
        has_token=bool(setup.whatsapp and setup.whatsapp.secret_sealed),
        test_form=test_form,
        test_errors=test_errors,
    )


class NotifyController(Controller):
    path = BASE
    dependencies = {"operator": Provide(provide_principal)}  # noqa: RUF012 (Litestar reads it on the class)

    @get("/events", opt=allow(OPERATORS))
    @in_tenant_scope
    async def events_page(self, db: TenantScope) -> Template:
        return _page("notify/events.html", f"{BASE}/events", rows=await service.event_rows(), errors={})

    @post("/events/{event:str}", opt=allow(OPERATOR_ADMINS))
    @in_tenant_scope
    async def save_event(
        self, db: TenantScope, request: Request[Any, Any, Any], operator: Operator, event: FromPath[str]
    ) -> Template | Response[Any]:
        data = await form_fields(request)
        try:
            known = Event(event)
        except ValueError:
            raise NotFoundException() from None
        body, enabled, channel = data.get("body", "").strip(), data.get("enabled") == "on", forms.channel_of(data)
        row = service.event_row(event, enabled=enabled, channel=channel, body=body)
        if data.get("preview") or not row["preview"]["ok"]:
            status = 200 if row["preview"]["ok"] else 422
            return Template("notify/_event_form.html", context={"row": row}, status_code=status)
        await service.save_event(db, _actor(request, operator), known, enabled=enabled, channel=channel, body=body)
        flash(request, "Message saved")
        return see_other(request, f"{BASE}/events")

    @post("/preview", opt=allow(OPERATORS))
    async def preview(self, request: Request[Any, Any, Any]) -> Template:
        """The live preview of the Due Date and Expiration Notifier messages (htmx, as the text is typed):
        sample text and SMS size, or the template problem with its position."""
        data = await form_fields(request)
        key = data.get("key", "")
        if key not in ("due_date", "expiration"):
            raise NotFoundException()
        found = forms.preview(data.get("body", "").strip(), key)
        return Template("notify/_preview.html", context={"preview": found}, status_code=200)

    @get("/due-date", opt=allow(OPERATORS))
    @in_tenant_scope
    async def due_date_page(self, db: TenantScope) -> Template:
        return await _due_page({}, "")

    @post("/due-date", opt=allow(OPERATOR_ADMINS))
    @in_tenant_scope
    async def save_due_date(
        self, db: TenantScope, request: Request[Any, Any, Any], operator: Operator
    ) -> Template | Response[Any]:
        data = await form_fields(request)
        draft, errors = forms.due_date_form(data)
        if errors:
            return await _due_page(errors, draft.body, 422, typed=data)
        await service.save_due_date(db, _actor(request, operator), draft)
        flash(request, "Due date notices saved")
        return see_other(request, f"{BASE}/due-date")

    @get("/expiration", opt=allow(OPERATORS))
    @in_tenant_scope
    async def expiration_page(self, db: TenantScope) -> Template:
        return await _expiry_page({}, None, "")

    @post("/expiration", opt=allow(OPERATOR_ADMINS))
    @in_tenant_scope
    async def save_expiration(
        self, db: TenantScope, request: Request[Any, Any, Any], operator: Operator
    ) -> Template | Response[Any]:
        data = await form_fields(request)
        draft, errors = forms.expiration_form(data)
        if errors:
            return await _expiry_page(errors, data.get("leads", ""), draft.body, 422)
        await service.save_expiration(db, _actor(request, operator), draft)
        flash(request, "Expiry notices saved")
        return see_other(request, f"{BASE}/expiration")

    @get("/gateway", opt=allow(OPERATORS))
    @in_tenant_scope
    async def gateway_page(self, db: TenantScope) -> Template:
        return _gateway_page(await service.gateway_setup(db.tenant))

    @post("/gateway", opt=allow(OPERATOR_ADMINS))
    @in_tenant_scope
    async def save_gateway(
        self, db: TenantScope, request: Request[Any, Any, Any], operator: Operator
    ) -> Template | Response[Any]:
        data = await form_fields(request)
        draft, errors = forms.sms_gateway_form(data)
        if "url" not in errors and (problem := await service.gateway_url_problem(_outbound(request), draft.url)):
            errors["url"] = problem
        if errors:
            typed = {**data, "enabled": data.get("enabled", "")}
            return _gateway_page(await service.gateway_setup(db.tenant), 422, sms=(typed, errors))
        change = GatewayChange("sms", "http_sms", draft.config, draft.secret, draft.enabled, draft.summary)
        await service.save_gateway(db, _actor(request, operator), _secret_key(request), change)
        flash(request, "SMS gateway saved")
        return see_other(request, f"{BASE}/gateway")

    @post("/gateway/whatsapp", opt=allow(OPERATOR_ADMINS))
    @in_tenant_scope
    async def save_whatsapp(
        self, db: TenantScope, request: Request[Any, Any, Any], operator: Operator
    ) -> Template | Response[Any]:
        """The WhatsApp Cloud API: the phone number id and an access token (stored encrypted)."""
        data = await form_fields(request)
        setup = await service.gateway_setup(db.tenant)
        draft, errors = forms.whatsapp_form(data, has_token=bool(setup.whatsapp and setup.whatsapp.secret_sealed))
        if errors:
            typed = {"phone_number_id": data.get("phone_number_id", ""), "enabled": data.get("enabled", "")}
            return _gateway_page(setup, 422, whatsapp=(typed, errors))
        change = GatewayChange(
            channel="whatsapp",
            kind="whatsapp_cloud",
            config={"phone_number_id": draft.phone_number_id},
            secret=draft.access_token,
            enabled=draft.enabled,
            summary=f"WhatsApp Cloud API number {draft.phone_number_id}",
        )
        await service.save_gateway(db, _actor(request, operator), _secret_key(request), change)
        flash(request, "WhatsApp settings saved")
        return see_other(request, f"{BASE}/gateway")

    @post("/gateway/test", opt=allow(OPERATOR_ADMINS))
    async def test_gateway(self, request: Request[Any, Any, Any], operator: Operator) -> Template | Response[Any]:
        """Send one message now, outside the outbox, and show the gateway's answer. Not tenant-scoped: the
        service opens the scope only to read the gateway, so no transaction waits on the gateway."""
        runtime = request.app.state.runtime
        tenant = operator.require_tenant()
        to, errors = forms.gateway_test_number(await form_fields(request))
        if errors:
            setup = await service.read_gateway_setup(runtime.db, tenant)
            return _gateway_page(setup, 422, test=({"to": to}, errors))
        outcome = await service.send_test_message(runtime.db, tenant, _secret_key(request), to, _outbound(request))
        if outcome is None:
            flash(request, "Save the SMS gateway first, then send a test message.", alert=True)
        else:
            flash(request, outcome, alert=not outcome.startswith("Sent."))
        return see_other(request, f"{BASE}/gateway")

    @get("/sent", opt=allow(OPERATORS))
    @in_tenant_scope
    async def sent_log(self, db: TenantScope, status: FromQuery[str] = "") -> Template:
        log = await service.sent_log(status)
        return _page("notify/sent.html", f"{BASE}/sent", rows=log.messages, counts=log.counts, status=status)


ROUTES = [NotifyController]
