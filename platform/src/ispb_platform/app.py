"""The Litestar application factory.

The app opens its runtime (database pool, queue) in its lifespan, so ``ispb web`` with several uvicorn
processes gives each its own pool. ``run_worker=True`` also runs the SAQ worker in the same event loop: that
is ``ispb demo``'s single-process mode; production runs ``ispb worker`` processes beside the web nodes.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager

from litestar import Litestar
from litestar.config.compression import CompressionConfig
from litestar.config.csrf import CSRFConfig
from litestar.exceptions import HTTPException
from litestar.logging.config import LoggingConfig
from litestar.template.config import TemplateConfig
from litestar.types import ControllerRouterHandler

from ispb_platform.activity import routes as activity_routes
from ispb_platform.admin.routes import AdminController
from ispb_platform.auth import routes as auth_routes
from ispb_platform.auth.access import access_guard
from ispb_platform.auth.middleware import SessionMiddleware
from ispb_platform.backups.admin_routes import BackupAdminController
from ispb_platform.backups.routes import BackupSettingsController
from ispb_platform.billing.bills.routes import BillController, shared_invoice
from ispb_platform.billing.discounts.routes import DiscountController
from ispb_platform.billing.invoices.service import close_renderer, warm_up_renderer
from ispb_platform.billing.profiles.routes import BillingProfileController
from ispb_platform.billing.suspension import routes as suspension_routes
from ispb_platform.catalog.routes import PackageController
from ispb_platform.customers.routes import CustomerController
from ispb_platform.jobs import routes as automation_routes
from ispb_platform.jobs.worker import build_worker
from ispb_platform.logs import logger_levels
from ispb_platform.monitoring import routes as monitoring_routes
from ispb_platform.network.netflow import routes as netflow_routes
from ispb_platform.network.olts.routes import OltController
from ispb_platform.network.radius import routes as online_routes
from ispb_platform.network.routers.routes import RouterController
from ispb_platform.network.traffic.files import rrd_files
from ispb_platform.notify import routes as notify_routes
from ispb_platform.panel import routes as panel_routes
from ispb_platform.payments.imports.routes import PaymentImportController
from ispb_platform.payments.online import routes as online_payment_routes
from ispb_platform.payments.online import sms_routes as sms_credit_routes
from ispb_platform.payments.routes import PaymentController
from ispb_platform.portal.routes import PortalController
from ispb_platform.reports import routes as report_routes
from ispb_platform.runtime import Runtime, open_runtime
from ispb_platform.settings import Settings
from ispb_platform.staff.routes import InvitationController, StaffController
from ispb_platform.subscriptions import admin_routes as subscription_admin_routes
from ispb_platform.subscriptions import routes as subscription_routes
from ispb_platform.web import home as front_door
from ispb_platform.web.assets import favicon, static_file
from ispb_platform.web.errors import http_error, server_error
from ispb_platform.web.health import healthz
from ispb_platform.web.requests import FormRequest, refuse_impossible_ids
from ispb_platform.web.security import SecurityHeadersMiddleware
from ispb_platform.web.templating import page_templates

log = logging.getLogger(__name__)


async def _cancel(task: "asyncio.Task[object]") -> None:
    """Cancel ``task`` (if still running) and wait for it to end."""
    task.cancel()
    await _wait_for(task)


async def _wait_for(task: "asyncio.Task[object]") -> None:
    with contextlib.suppress(asyncio.CancelledError):
        await task


def create_app(
    settings: Settings,
    *,
    run_worker: bool = False,
    runtime: Runtime | None = None,
    lifespans: Sequence[Callable[[Litestar], AbstractAsyncContextManager[None]]] = (),
    extra_routes: Sequence[ControllerRouterHandler] = (),
    warm_renderer: bool = False,
) -> Litestar:
    """Build the app. Pass ``runtime`` to share an already open one (tests); the app then leaves it open.
    ``lifespans`` run inside the app's own (the runtime is open), e.g. the demo's simulated routers.
    ``warm_renderer`` starts the invoice PDF worker in the background at start-up (``ispb web``), so the first
    customer to download a bill does not wait for WeasyPrint to load (seconds on a busy machine)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        own = runtime is None
        active = runtime or await open_runtime(settings)
        app.state.runtime = active
        async with contextlib.AsyncExitStack() as stack:
            if own:
                stack.push_async_callback(active.close)
            # the worker owns rrdcached when one is configured (started here, flushed and stopped last)
            await stack.enter_async_context(rrd_files(settings.rrdcached_socket, settings.data_dir, owner=run_worker))
            stack.push_async_callback(close_renderer, app)
            if warm_renderer:
                warming = asyncio.create_task(warm_up_renderer(app), name="ispb-invoice-renderer")
                stack.push_async_callback(_cancel, warming)
            if run_worker:
                worker = build_worker(
                    active.db,
                    active.queue,
                    secret_key=settings.secret_key or "",
                    outbound=settings.outbound,
                    public_ipv4=settings.public_ipv4,
                    data_dir=settings.data_dir,
                    concurrency=settings.worker_concurrency,
                    heartbeat_s=settings.job_heartbeat_s,
                    embedded=True,
                )
                worker_task = asyncio.create_task(worker.start(), name="ispb-worker")
                stack.push_async_callback(_wait_for, worker_task)  # after worker.stop() below
                stack.push_async_callback(worker.stop)
            yield

    assert settings.secret_key, "settings.load_settings() provides the secret key"
    app = Litestar(
        route_handlers=[
            *front_door.ROUTES,
            healthz,
            static_file,
            favicon,
            *auth_routes.ROUTES,
            *panel_routes.ROUTES,
            *automation_routes.ROUTES,
            *activity_routes.ROUTES,
            CustomerController,
            BackupSettingsController,
            BackupAdminController,
            PackageController,
            BillingProfileController,
            BillController,
            PaymentController,
            PaymentImportController,
            DiscountController,
            shared_invoice,
            StaffController,
            InvitationController,
            RouterController,
            OltController,
            *suspension_routes.ROUTES,
            *online_payment_routes.ROUTES,
            *sms_credit_routes.ROUTES,
            *subscription_routes.ROUTES,
            *subscription_admin_routes.ROUTES,
            *online_routes.ROUTES,
            *netflow_routes.ROUTES,
            *notify_routes.ROUTES,
            *monitoring_routes.ROUTES,
            *report_routes.ROUTES,
            *extra_routes,
            AdminController,
            PortalController,
        ],
        template_config=TemplateConfig(instance=page_templates()),
        middleware=[SecurityHeadersMiddleware(), SessionMiddleware(secure_cookies=settings.cookie_secure)],
        csrf_config=CSRFConfig(
            secret=settings.secret_key,
            cookie_secure=settings.cookie_secure,
            cookie_httponly=True,
            cookie_samesite="lax",
            header_name="x-csrftoken",
            exclude=["/static/", "/healthz"],
        ),
        # brotli for browsers that accept it (all current ones), gzip (level 6) for the rest: htmx goes from 52 KB
        # to 15 KB, a page to a fifth. Quality 5 compresses a page in about a millisecond (11 would take tens).
        compression_config=CompressionConfig(
            backend="brotli", brotli_quality=5, brotli_gzip_fallback=True, gzip_compress_level=6, minimum_size=1024
        ),
        guards=[access_guard],
        request_class=FormRequest,
        before_request=refuse_impossible_ids,
        openapi_config=None,  # no public API yet; when there is one, its schema route declares its access too
        exception_handlers={HTTPException: http_error, Exception: server_error},
        lifespan=[lifespan, *lifespans],
        logging_config=LoggingConfig(  # Litestar's default, at ISPB_LOG_LEVEL; SAQ's chatter only at debug
            root={"handlers": ["queue_listener"], "level": settings.log_level.upper()},
            loggers={name: {"level": level} for name, level in logger_levels(settings.log_level).items()},
        ),
        debug=False,
    )
    if runtime is not None:  # usable at once, also by ASGI test transports that send no lifespan events
        app.state.runtime = runtime
    return app
