"""Bills and Payments → Import payments: upload a bank or mobile-money statement, preview it, confirm it.

``/panel/payments/import`` (upload and recent imports), ``/panel/payments/import/{id}`` (the verdict on every
line, the confirm button, the job's progress, then what was recorded), ``.../progress`` (the progress alone, polled
while the job records) and ``.../refused.csv`` (the refused lines with their reasons, to fix and upload again).
"""

import csv
import io
from datetime import UTC, date, datetime
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from ispb_platform.auth.access import allow, provide_principal
from ispb_platform.auth.roles import OPERATORS, Principal
from ispb_platform.jobs.runs import local_today
from ispb_platform.payments.imports import queries, statement
from ispb_platform.payments.imports.forms import METHOD_CHOICES, validate_upload
from ispb_platform.payments.imports.queries import REFUSED, ImportSummary, LineStatus
from ispb_platform.payments.imports.service import (
    ImportNotFound,
    StatementRejected,
    preview_statement,
    request_confirmation,
)
from ispb_platform.web.flash import flash
from ispb_platform.web.forms import see_other
from ispb_platform.web.navigation import PANEL_NAV
from ispb_platform.web.requests import client_ip
from ispb_platform.web.scope import TenantScope, in_tenant_scope
from ispb_tenants import TenantRef

Operator = NamedDependency[Principal]
PER_PAGE = 100
SHOWN = {"refused": REFUSED, "ready": (LineStatus.READY,), "all": tuple(LineStatus)}
VERDICTS = {
    LineStatus.READY: "Ready",
    LineStatus.DUPLICATE: "Duplicate",
    LineStatus.UNKNOWN_CUSTOMER: "Unknown customer",
    LineStatus.INVALID: "Invalid",
}


def _today(tenant: TenantRef) -> date:
    return local_today(datetime.now(UTC), tenant)


def _page(template: str, context: dict[str, Any], status_code: int = 200) -> Template:
    return Template(
        template, context={"nav": PANEL_NAV, "active": "/panel/payments/import", **context}, status_code=status_code
    )


class PaymentImportController(Controller):
    path = "/panel/payments/import"
    dependencies = {"operator": Provide(provide_principal)}  # noqa: RUF012
    opt = allow(OPERATORS)

    @get("/")
    @in_tenant_scope
    async def upload_form(self, db: TenantScope) -> Template:
        form = {"method": METHOD_CHOICES[0][0], "received_on": _today(db.tenant).isoformat()}
        return await _upload_page(form, {})

    @post("/", request_max_body_size=statement.MAX_BYTES + 64 * 1024)
    @in_tenant_scope
    async def upload(
        self, db: TenantScope, request: Request[Any, Any, Any], operator: Operator
    ) -> Template | Response[Any]:
        """Step 1: read the file and judge every line; nothing is recorded yet."""
        form = await request.form()
        data = {key: value for key, value in form.items() if isinstance(value, str) and key != "_csrf_token"}
        today = _today(db.tenant)
        draft, errors = validate_upload(data, today)
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            errors["file"] = "Choose the statement's CSV file."
        if draft is None or errors or not isinstance(upload, UploadFile):
            return await _upload_page(data, errors, 422)
        try:
            import_id = await preview_statement(
                db,
                operator,
                file_name=upload.filename,
                content=await upload.read(),
                default_method=draft.method,
                default_date=draft.received_on,
                today=today,
            )
        except StatementRejected as rejected:
            return await _upload_page(data, {"file": " ".join(str(m) for m in rejected.args)}, 422)
        flash(request, "Statement read: nothing is recorded yet. Check the lines, then record the ready ones")
        return see_other(request, f"/panel/payments/import/{import_id}")

    @get("/{import_id:int}")
    @in_tenant_scope
    async def preview(
        self, db: TenantScope, import_id: FromPath[int], show: FromQuery[str] = "", page: FromQuery[int] = 1
    ) -> Template:
        summary = await _import_or_404(import_id)
        show = show if show in SHOWN else ("refused" if summary.refused else "ready")
        lines, total = await queries.import_lines(import_id, SHOWN[show], max(page, 1), PER_PAGE)
        context = {
            "summary": summary,
            "lines": lines,
            "total": total,
            "show": show,
            "page": max(page, 1),
            "pages": max((total + PER_PAGE - 1) // PER_PAGE, 1),
            "verdicts": {s.value: label for s, label in VERDICTS.items()},
            **(await _progress(db, summary) if summary.confirming else {}),
        }
        return _page("payments/imports/preview.html", context)

    @post("/{import_id:int}/confirm")
    @in_tenant_scope
    async def confirm(
        self, db: TenantScope, request: Request[Any, Any, Any], operator: Operator, import_id: FromPath[int]
    ) -> Response[Any]:
        """Step 2: ask the worker to record the ready lines; the page then shows its progress. A second click
        finds the import being recorded (or recorded) and asks nothing again."""
        try:
            asked = await request_confirmation(
                db, operator, import_id, queue=request.app.state.runtime.queue, ip=client_ip(request)
            )
        except ImportNotFound:
            raise NotFoundException() from None
        summary = asked.summary
        if summary.confirmed:
            flash(request, "This statement was already imported; nothing was recorded again")
        elif asked.already_requested:
            flash(request, "This statement is already being recorded; nothing was asked again")
        else:
            plural = "" if summary.ready == 1 else "s"
            flash(request, f"Recording {summary.ready:,} payment{plural}: this page shows how far it is")
        return see_other(request, f"/panel/payments/import/{import_id}")

    @get("/{import_id:int}/progress")
    @in_tenant_scope
    async def progress(
        self, db: TenantScope, request: Request[Any, Any, Any], import_id: FromPath[int]
    ) -> Template | Response[Any]:
        """The progress of a confirmation, polled by the page (htmx) while the job records; once it is done, the
        whole page again (with the result and the recorded lines)."""
        summary = await _import_or_404(import_id)
        if summary.confirming:
            return Template("payments/imports/_progress.html", context=await _progress(db, summary))
        return see_other(request, f"/panel/payments/import/{import_id}")

    @get("/{import_id:int}/refused.csv")
    @in_tenant_scope
    async def refused_lines(self, db: TenantScope, import_id: FromPath[int]) -> Response[bytes]:
        """The refused lines under the file's header, each with its line number and reason: fix them and upload
        this file again (the two added columns are ignored on upload, the lines recorded meanwhile are refused
        as duplicates)."""
        summary = await _import_or_404(import_id)
        lines, _ = await queries.import_lines(import_id, REFUSED, 1, statement.MAX_LINES)
        out = io.StringIO()
        out.write(summary.header + ",ISPB line,ISPB reason\r\n" if summary.header else "ISPB line,ISPB reason\r\n")
        writer = csv.writer(out)
        for line in lines:
            out.write(line["original"] + ("," if summary.header else ""))
            writer.writerow([line["line"], line["problem"]])
        name = summary.file_name.rsplit(".", 1)[0].replace('"', "") or "statement"
        return Response(
            ("\ufeff" + out.getvalue()).encode(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}-refused.csv"'},
        )


async def _progress(db: TenantScope, summary: ImportSummary) -> dict[str, Any]:
    """What the progress shows: the import's counts, and the job's failed attempt since it was asked for."""
    since = summary.confirm_requested_at or summary.uploaded_at
    return {"summary": summary, "failed": await queries.failed_attempt(db.connection, db.tenant.id, since)}


async def _import_or_404(import_id: int) -> ImportSummary:
    summary = await queries.get_import(import_id)
    if summary is None:
        raise NotFoundException()
    return summary


async def _upload_page(form: dict[str, str], errors: dict[str, str], status_code: int = 200) -> Template:
    context = {"form": form, "errors": errors, "methods": METHOD_CHOICES, "recent": await queries.recent_imports()}
    return _page("payments/imports/upload.html", context, status_code)
