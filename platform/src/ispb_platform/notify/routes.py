"""SMS and Notifications pages: Due Date Notifier, Event SMS, SMS Gateway Setup (with a test message) and the
Sent Messages log. Templates are checked when saved (``ispb_notify.check_template``): a bad one is refused with
its position and never reaches the send job."""

import json
import secrets
from datetime import time
from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from ispb_notify import (
    EVENT_VARIABLES,
    Event,
    GatewayError,
    HttpSmsGateway,
    OutgoingMessage,
    TemplateProblem,
    check_template,
    count_sms,
    render,
)
from ispb_platform.activity.service import record_activity
from ispb_platform.auth.access import allow, own_tenant_scope, provide_principal
from ispb_platform.auth.roles import OPERATOR_ADMINS, OPERATORS, Principal
from ispb_platform.auth.routes import client_ip
from ispb_platform.notify.events import templates
from ispb_platform.notify.gateways import http_sms_config
from ispb_platform.secrets_box import reveal, seal
from ispb_platform.web.forms import form_fields, see_other
from ispb_platform.web.navigation import PANEL_NAV

Operator = NamedDependency[Principal]
SAMPLE = {
    "customer_name": "Rahima Akter",
    "customer_id": "C000123",
    "package": "Fiber 20",
    "amount_due": "840.00 BDT",
    "due_date": "2026-12-08",
    "expiry_date": "2026-12-31",
    "balance": "0.00 BDT",
    "payment_amount": "840.00 BDT",
    "otp": "482913",
    "operator_name": "Dhaka Fiber Net",
    "operator_phone": "09610-100200",
    "portal_link": "/portal/dhaka-fiber/",
    "reason": "bill INV-2026-000123 overdue",
    "old_package": "Fiber 20",
    "new_package": "Fiber 40",
    "username": "rahima",
    "password": "••••••",
}


def _page(template: str, active: str, status_code: int = 200, **context: Any) -> Template:
    return Template(template, context={"nav": PANEL_NAV, "active": active, **context}, status_code=status_code)


def _allowed(key: str) -> frozenset[str]:
    common = frozenset(
        {
            "customer_name",
            "customer_id",
            "package",
            "balance",
            "amount_due",
            "operator_name",
            "operator_phone",
            "portal_link",
            "username",
        }
    )
    if key == "due_date":
        return common | {"due_date"}
    if key == "expiration":
        return common | {"expiry_date"}
    try:
        return common | EVENT_VARIABLES[Event(key)]
    except ValueError:
        return common


async def _save_gateway(
    request: Request[Any, Any, Any],
    operator: Principal,
    *,
    channel: str,
    kind: str,
    config: dict[str, Any],
    secret: str,
    enabled: bool,
    summary: str,
) -> Response[Any]:
    """Store a channel's gateway (the secret sealed; an empty one keeps the stored one), log it, and go back to
    the setup page."""
    sealed = seal(str(request.app.state.runtime.settings.secret_key), secret) if secret else None
    async with own_tenant_scope(request) as db:
        await db.connection.execute(
            "INSERT INTO notify_gateway (channel, kind, config, secret_sealed, enabled)"
            " VALUES ($1, $2, $3::jsonb, $4, $5)"
            " ON CONFLICT (channel) DO UPDATE SET kind = EXCLUDED.kind, config = EXCLUDED.config,"
            " secret_sealed = COALESCE(EXCLUDED.secret_sealed, notify_gateway.secret_sealed),"
            " enabled = EXCLUDED.enabled, updated_at = now()",
            channel,
            kind,
            json.dumps(config),
            sealed,
            enabled,
        )
        await record_activity(
            db,
            operator,
            "notify.gateway_saved",
            object_type="notify",
            object_id=channel,
            summary=summary,
            ip=client_ip(request),
        )
    return see_other(request, "/panel/notifications/gateway")


def _lead_text(days: int, hours: int) -> str:
    return f"{days}d" if days else f"{hours}h"


def _preview(body: str, key: str) -> dict[str, Any]:
    """Rendered sample text and SMS size, or the problem with its position."""
    try:
        check_template(body, _allowed(key))
        text = render(body, SAMPLE)
    except TemplateProblem as problem:
        return {"ok": False, "problem": str(problem), "line": problem.line, "column": problem.column}
    count = count_sms(text)
    return {
        "ok": True,
        "text": text,
        "segments": count.segments,
        "encoding": count.encoding,
        "characters": count.characters,
    }


class NotifyController(Controller):
    path = "/panel/notifications"
    dependencies = {"operator": Provide(provide_principal)}  # noqa: RUF012 (Litestar reads it on the class)

    @get("/events", opt=allow(OPERATORS))
    async def events_page(self, request: Request[Any, Any, Any]) -> Template:
        async with own_tenant_scope(request) as db:
            settings = {r["event"]: r for r in await db.connection.fetch("SELECT * FROM notify_event")}
            texts = await templates(db.connection)
        rows = [
            {
                "event": event.value,
                "enabled": bool(settings.get(event.value) and settings[event.value]["enabled"]),
                "channel": settings[event.value]["channel"] if event.value in settings else "sms",
                "body": texts[event.value],
                "preview": _preview(texts[event.value], event.value),
                "variables": sorted(_allowed(event.value)),
            }
            for event in Event
        ]
        return _page("notify/events.html", "/panel/notifications/events", rows=rows, errors={})

    @post("/events/{event:str}", opt=allow(OPERATOR_ADMINS))
    async def save_event(
        self, request: Request[Any, Any, Any], operator: Operator, event: FromPath[str]
    ) -> Template | Response[Any]:
        data = await form_fields(request)
        try:
            Event(event)
        except ValueError:
            raise NotFoundException() from None
        body = data.get("body", "").strip()
        preview = _preview(body, event) if body else {"ok": False, "problem": "Write the message text."}
        channel = data.get("channel", "sms") if data.get("channel") in ("sms", "whatsapp") else "sms"
        if data.get("preview") or not preview["ok"]:
            return Template(
                "notify/_event_form.html",
                context={
                    "row": {
                        "event": event,
                        "enabled": data.get("enabled") == "on",
                        "channel": channel,
                        "body": body,
                        "preview": preview,
                        "variables": sorted(_allowed(event)),
                    },
                },
                status_code=200 if preview["ok"] else 422,
            )
        async with own_tenant_scope(request) as db:
            await db.connection.execute(
                "INSERT INTO notify_event (event, enabled, channel) VALUES ($1, $2, $3) ON CONFLICT (event)"
                " DO UPDATE SET enabled = EXCLUDED.enabled, channel = EXCLUDED.channel",
                event,
                data.get("enabled") == "on",
                channel,
            )
            await db.connection.execute(
                "INSERT INTO notify_template (key, body) VALUES ($1, $2) ON CONFLICT (key)"
                " DO UPDATE SET body = EXCLUDED.body, updated_at = now()",
                event,
                body,
            )
            await record_activity(
                db,
                operator,
                "notify.event_saved",
                object_type="notify",
                object_id=event,
                summary=f"Event message {event}: {'on' if data.get('enabled') == 'on' else 'off'}",
                ip=client_ip(request),
            )
        return see_other(request, "/panel/notifications/events")

    @post("/preview", opt=allow(OPERATORS))
    async def preview(self, request: Request[Any, Any, Any]) -> Template:
        """The live preview of the Due Date and Expiration Notifier messages (htmx, as the text is typed):
        sample text and SMS size, or the template problem with its position."""
        data = await form_fields(request)
        key = data.get("key", "")
        if key not in ("due_date", "expiration"):
            raise NotFoundException()
        body = data.get("body", "").strip()
        found = _preview(body, key) if body else {"ok": False, "problem": "Write the message text."}
        return Template("notify/_preview.html", context={"preview": found}, status_code=200)

    @get("/due-date", opt=allow(OPERATORS))
    async def due_date_page(self, request: Request[Any, Any, Any]) -> Template:
        async with own_tenant_scope(request) as db:
            return await self._due_page(db.connection, {}, "")

    async def _due_page(self, connection: Any, errors: dict[str, str], body: str, status: int = 200) -> Template:
        rules = await connection.fetch("SELECT * FROM notify_rule WHERE kind = 'due_date' ORDER BY offset_days")
        schedule = await connection.fetchrow("SELECT * FROM notify_schedule WHERE id = 1")
        texts = await templates(connection)
        text = body or texts["due_date"]
        return _page(
            "notify/due_date.html",
            "/panel/notifications/due-date",
            status,
            rules=rules,
            offsets=", ".join(f"{r['offset_days']:+d}" if r["offset_days"] else "0" for r in rules if r["enabled"]),
            schedule=schedule,
            body=text,
            preview=_preview(text, "due_date"),
            variables=sorted(_allowed("due_date")),
            errors=errors,
        )

    @post("/due-date", opt=allow(OPERATOR_ADMINS))
    async def save_due_date(self, request: Request[Any, Any, Any], operator: Operator) -> Template | Response[Any]:
        data = await form_fields(request)
        errors: dict[str, str] = {}
        offsets: list[int] = []
        for part in data.get("offsets", "").replace(" ", "").split(","):
            if not part:
                continue
            try:
                offsets.append(int(part))
            except ValueError:
                errors["offsets"] = f"{part!r} is not a whole number of days (e.g. -3, 0, 2)."
        if any(not -60 <= o <= 60 for o in offsets):
            errors["offsets"] = "Use days from -60 to 60."
        try:
            hour, minute = (int(x) for x in data.get("send_time", "10:00").split(":")[:2])
            send_time = time(hour, minute)
        except ValueError:
            errors["send_time"] = "Enter a time such as 10:00."
            send_time = time(10)
        body = data.get("body", "").strip()
        preview = _preview(body, "due_date") if body else {"ok": False, "problem": "Write the message text."}
        if not preview["ok"]:
            errors["body"] = str(preview["problem"])
        async with own_tenant_scope(request) as db:
            if errors:
                return await self._due_page(db.connection, errors, body, 422)
            await db.connection.execute("DELETE FROM notify_rule WHERE kind = 'due_date'")
            for offset in sorted(set(offsets)):
                await db.connection.execute(
                    "INSERT INTO notify_rule (kind, offset_days) VALUES ('due_date', $1)", offset
                )
            await db.connection.execute("UPDATE notify_schedule SET send_time = $1 WHERE id = 1", send_time)
            await db.connection.execute(
                "INSERT INTO notify_template (key, body) VALUES ('due_date', $1) ON CONFLICT (key)"
                " DO UPDATE SET body = EXCLUDED.body, updated_at = now()",
                body,
            )
            await record_activity(
                db,
                operator,
                "notify.due_date_saved",
                object_type="notify",
                object_id="due_date",
                summary=f"Due date reminders at {send_time:%H:%M}, days {sorted(set(offsets))}",
                ip=client_ip(request),
            )
        return see_other(request, "/panel/notifications/due-date")

    @get("/expiration", opt=allow(OPERATORS))
    async def expiration_page(self, request: Request[Any, Any, Any]) -> Template:
        async with own_tenant_scope(request) as db:
            return await self._expiry_page(db.connection, {}, None, "")

    async def _expiry_page(
        self, connection: Any, errors: dict[str, str], leads: str | None, body: str, status: int = 200
    ) -> Template:
        rules = await connection.fetch(
            "SELECT offset_days, before_hours FROM notify_rule WHERE kind = 'expiration' AND enabled"
            " ORDER BY offset_days DESC, before_hours DESC"
        )
        text = body or (await templates(connection))["expiration"]
        return _page(
            "notify/expiration.html",
            "/panel/notifications/expiration",
            status,
            leads=leads
            if leads is not None
            else ", ".join(_lead_text(r["offset_days"], r["before_hours"]) for r in rules),
            body=text,
            preview=_preview(text, "expiration"),
            variables=sorted(_allowed("expiration")),
            errors=errors,
        )

    @post("/expiration", opt=allow(OPERATOR_ADMINS))
    async def save_expiration(self, request: Request[Any, Any, Any], operator: Operator) -> Template | Response[Any]:
        data = await form_fields(request)
        errors: dict[str, str] = {}
        leads: list[tuple[int, int]] = []
        for part in data.get("leads", "").replace(" ", "").lower().split(","):
            if not part:
                continue
            unit, number = part[-1:], part[:-1]
            if unit not in ("d", "h") or not number.isdigit():
                errors["leads"] = f"{part!r}: write days as 3d and hours as 6h."
                continue
            days, hours = (int(number), 0) if unit == "d" else (0, int(number))
            if days > 60 or hours > 720:
                errors["leads"] = "Use at most 60 days or 720 hours."
            leads.append((days, hours))
        body = data.get("body", "").strip()
        preview = _preview(body, "expiration") if body else {"ok": False, "problem": "Write the message text."}
        if not preview["ok"]:
            errors["body"] = str(preview["problem"])
        async with own_tenant_scope(request) as db:
            if errors:
                return await self._expiry_page(db.connection, errors, data.get("leads", ""), body, 422)
            await db.connection.execute("DELETE FROM notify_rule WHERE kind = 'expiration'")
            for days, hours in sorted(set(leads)):
                await db.connection.execute(
                    "INSERT INTO notify_rule (kind, offset_days, before_hours) VALUES ('expiration', $1, $2)",
                    days,
                    hours,
                )
            await db.connection.execute(
                "INSERT INTO notify_template (key, body) VALUES ('expiration', $1) ON CONFLICT (key)"
                " DO UPDATE SET body = EXCLUDED.body, updated_at = now()",
                body,
            )
            await record_activity(
                db,
                operator,
                "notify.expiration_saved",
                object_type="notify",
                object_id="expiration",
                summary=f"Expiration notices {', '.join(_lead_text(d, h) for d, h in sorted(set(leads))) or 'off'}",
                ip=client_ip(request),
            )
        return see_other(request, "/panel/notifications/expiration")

    @get("/gateway", opt=allow(OPERATORS))
    async def gateway_page(self, request: Request[Any, Any, Any], tested: FromQuery[str | None] = None) -> Template:
        async with own_tenant_scope(request) as db:
            row = await db.connection.fetchrow("SELECT * FROM notify_gateway WHERE channel = 'sms'")
            whatsapp = await db.connection.fetchrow("SELECT * FROM notify_gateway WHERE channel = 'whatsapp'")
            credit = await db.connection.fetchrow(
                "SELECT sms_credit, sms_low_threshold FROM platform.tenant WHERE id = $1", db.tenant.id
            )
        config: dict[str, Any] = json.loads(row["config"]) if row else {"method": "GET", "params": {}}
        stored_params = {str(k): str(v) for k, v in dict(config.get("params") or config.get("form_body") or {}).items()}
        form = {
            "url": config.get("url", ""),
            "method": config.get("method", "GET"),
            "params": "\n".join(f"{k}={v}" for k, v in stored_params.items()),
            "success_pattern": config.get("success_pattern", ""),
            "message_id_pattern": config.get("message_id_pattern", ""),
            "enabled": "on" if (row is None or row["enabled"]) else "",
        }
        return _page(
            "notify/gateway.html",
            "/panel/notifications/gateway",
            form=form,
            errors={},
            has_secret=bool(row and row["secret_sealed"]),
            credit=credit,
            tested=tested,
            whatsapp={
                "phone_number_id": json.loads(whatsapp["config"]).get("phone_number_id", "") if whatsapp else "",
                "enabled": "on" if whatsapp is None or whatsapp["enabled"] else "",
                "has_token": bool(whatsapp and whatsapp["secret_sealed"]),
            },
        )

    @post("/gateway", opt=allow(OPERATOR_ADMINS))
    async def save_gateway(self, request: Request[Any, Any, Any], operator: Operator) -> Template | Response[Any]:
        data = await form_fields(request)
        errors: dict[str, str] = {}
        url = data.get("url", "").strip()
        if not url.startswith(("http://", "https://")):
            errors["url"] = "Enter the gateway's address, starting with http:// or https://"
        params: dict[str, str] = {}
        for line in data.get("params", "").splitlines():
            if line.strip():
                name, sep, value = line.strip().partition("=")
                if not sep or not name:
                    errors["params"] = f"Write each parameter as name=value ({line.strip()!r})."
                params[name.strip()] = value.strip()
        if not any("{to}" in v for v in [url, *params.values()]) or not any(
            "{text}" in v for v in [url, *params.values()]
        ):
            errors.setdefault("params", "Put {to} and {text} where the gateway expects the number and the message.")
        method = "POST" if data.get("method") == "POST" else "GET"
        config = {
            "url": url,
            "method": method,
            "params" if method == "GET" else "form_body": params,
            "success_pattern": data.get("success_pattern", "").strip(),
            "message_id_pattern": data.get("message_id_pattern", "").strip(),
        }
        if errors:
            form = {**data, "enabled": data.get("enabled", "")}
            return _page(
                "notify/gateway.html",
                "/panel/notifications/gateway",
                422,
                form=form,
                errors=errors,
                has_secret=False,
                credit=None,
                tested=None,
                whatsapp={"phone_number_id": "", "enabled": "", "has_token": False},
            )
        return await _save_gateway(
            request,
            operator,
            channel="sms",
            kind="http_sms",
            config=config,
            secret=data.get("secret", ""),
            enabled=data.get("enabled") == "on",
            summary=f"SMS gateway set to {url.split('?')[0]}",
        )

    @post("/gateway/whatsapp", opt=allow(OPERATOR_ADMINS))
    async def save_whatsapp(self, request: Request[Any, Any, Any], operator: Operator) -> Response[Any]:
        """The WhatsApp Cloud API: the phone number id and an access token (stored encrypted)."""
        data = await form_fields(request)
        phone_number_id = data.get("phone_number_id", "").strip()
        if not phone_number_id.isdigit():
            return see_other(
                request, "/panel/notifications/gateway?tested=" + quote("Enter the WhatsApp phone number id (digits).")
            )
        return await _save_gateway(
            request,
            operator,
            channel="whatsapp",
            kind="whatsapp_cloud",
            config={"phone_number_id": phone_number_id},
            secret=data.get("access_token", ""),
            enabled=data.get("enabled") == "on",
            summary=f"WhatsApp Cloud API number {phone_number_id}",
        )

    @post("/gateway/test", opt=allow(OPERATOR_ADMINS))
    async def test_gateway(self, request: Request[Any, Any, Any], operator: Operator) -> Response[Any]:
        """Send one message now, outside the outbox, and show the gateway's answer."""
        data = await form_fields(request)
        to = data.get("to", "").strip()
        secret_key = str(request.app.state.runtime.settings.secret_key)
        async with own_tenant_scope(request) as db:
            row = await db.connection.fetchrow("SELECT * FROM notify_gateway WHERE channel = 'sms'")
        if row is None or not to:
            return see_other(request, "/panel/notifications/gateway?tested=Set+up+the+gateway+and+enter+a+number+first")
        config = http_sms_config(
            json.loads(row["config"]), reveal(secret_key, row["secret_sealed"]) if row["secret_sealed"] else ""
        )
        text = f"Test message from {operator.require_tenant().name} (ISPB)"
        gateway = HttpSmsGateway(config)  # its own client, closed below
        try:
            # a fresh reference each time: a de-duplicating gateway must not swallow a second test
            result = await gateway.send(OutgoingMessage(to=to, text=text, reference=f"test-{secrets.token_hex(6)}"))
            outcome = f"Sent. The gateway answered: {result.raw[:200]}"
        except GatewayError as problem:
            outcome = f"Not sent: {type(problem).__name__}: {problem}"
        finally:
            await gateway.aclose()
        return see_other(request, f"/panel/notifications/gateway?tested={quote(outcome)}")

    @get("/sent", opt=allow(OPERATORS))
    async def sent_log(self, request: Request[Any, Any, Any], status: FromQuery[str] = "") -> Template:
        async with own_tenant_scope(request) as db:
            rows = await db.connection.fetch(
                "SELECT o.*, c.code, c.name FROM outbox o LEFT JOIN customer c ON c.id = o.customer_id"
                " WHERE ($1 = '' OR o.status = $1) ORDER BY o.id DESC LIMIT 200",
                status,
            )
            counts = {
                r["status"]: r["n"]
                for r in await db.connection.fetch("SELECT status, count(*) AS n FROM outbox GROUP BY status")
            }
        return _page("notify/sent.html", "/panel/notifications/sent", rows=rows, counts=counts, status=status)


ROUTES = [NotifyController]
