"""Render invoice PDFs from async code in recycled worker processes.

WeasyPrint is CPU-bound (tens of milliseconds an invoice) and never gives memory back (DESIGN 9), so
the web app must not render in its own process or thread pool. :class:`InvoiceRenderer` sends each
document to a ``ProcessPoolExecutor`` and replaces the pool after a fixed number of renders, so a
worker's memory stays bounded however many invoices the app prints.

Why the recycling is ours and not ``max_tasks_per_child``: on Python 3.11-3.13 an executor with
``max_tasks_per_child`` deadlocks when a worker exits at its limit while renders are queued
(CPython gh-115634: the replacement is skipped, queued futures never finish). Replacing the whole
executor after ``recycle_after x workers`` renders gives the same memory bound without that bug:
the retired pool finishes what it already holds, then its processes exit.

Why forkserver: a spawned worker imports WeasyPrint from scratch (~1.3 s); a worker forked from a
forkserver that has preloaded the renderer starts in ~15 ms, so recycling costs one warm-up render.
"""

import asyncio
import gc
import logging
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from types import TracebackType
from typing import Literal, Self

from ispb_platform.billing.invoices.document import InvoiceDocument

log = logging.getLogger(__name__)

StartMethod = Literal["forkserver", "spawn"]

# Imported by the workers only: the web process never loads WeasyPrint (~25 MB and ~1 s of start-up).
_RENDER_MODULE = "ispb_platform.billing.invoices.render"


class RendererClosed(RuntimeError):
    """``render()`` was called before ``start()`` or after ``close()``."""


class RendererCrashed(RuntimeError):
    """A worker process died while rendering, and again on a fresh worker: the document itself is the
    likely cause (or the machine is out of memory). Also raised when workers cannot start at all."""


@dataclass(frozen=True, slots=True)
class RendererStats:
    """Counters for logs and health pages: PDFs rendered, pools started (1 + recycles + crash
    replacements) and worker crashes seen."""

    rendered: int
    pools_started: int
    crashes: int


def _start_worker() -> None:
    """Executor initializer: warm the worker up before it takes its first invoice.

    Then ``gc.freeze()``: what warming up loaded (fonts, Pango and WeasyPrint caches, the template) lives as long
    as the worker, and a full collection would scan it again each time; frozen, it is left out. Measured with
    ``gc.callbacks`` over 200 invoices: collection time per invoice 13.8 -> 10.1 ms on a loaded machine.
    """
    from ispb_platform.billing.invoices.render import warm_up

    warm_up()
    gc.freeze()


def _render_in_worker(doc: InvoiceDocument) -> bytes:
    from ispb_platform.billing.invoices.render import render_invoice_pdf

    return render_invoice_pdf(doc)


def _worker_pid() -> int:
    return os.getpid()


class InvoiceRenderer:
    """Async invoice rendering in a small pool of recycled worker processes.

    Create one per application (in the lifespan), ``await start()`` once, then ``await render(doc)``
    from request handlers or jobs; ``await close()`` on shutdown. ``start()`` waits until every worker
    has imported WeasyPrint and rendered a warm-up page, so start-up problems (missing system
    libraries, unreadable fonts) surface at boot, not on the first customer's download.

    >>> async with InvoiceRenderer(workers=1, recycle_after=200) as renderer:  # doctest: +SKIP
    ...     pdf = await renderer.render(document)

    Args:
        workers: worker processes rendering in parallel (each holds ~60-70 MB once warm).
        recycle_after: renders per worker before its pool is replaced (the pool is replaced after
            ``recycle_after * workers`` renders).
        start_method: ``"forkserver"`` (default; fast recycling, preloads the renderer into the
            forkserver if this process has not started one yet) or ``"spawn"`` (fully independent
            workers, ~1.5 s per recycle).
    """

    def __init__(self, *, workers: int = 1, recycle_after: int = 200, start_method: StartMethod = "forkserver") -> None:
        if workers < 1 or recycle_after < 1:
            raise ValueError("workers and recycle_after must be at least 1")
        self._workers = workers
        self._recycle_after = recycle_after
        self._start_method = start_method
        self._executor: ProcessPoolExecutor | None = None
        self._submitted = 0  # renders sent to the current executor
        self._retiring: set[asyncio.Future[None]] = set()
        self._rendered = 0
        self._pools_started = 0
        self._crashes = 0

    @property
    def stats(self) -> RendererStats:
        return RendererStats(self._rendered, self._pools_started, self._crashes)

    async def start(self) -> None:
        """Start the workers and wait until each has rendered its warm-up page."""
        if self._executor is not None:
            return
        executor = self._executor = self._new_executor()
        # Each submit finds no idle worker and spawns one, so this starts all of them. The first spawn starts the
        # forkserver, which imports WeasyPrint before it answers: seconds in which the event loop would stand
        # still (a web process answered nothing, not even /healthz), so the submits happen in a thread.
        try:
            started = await asyncio.to_thread(lambda: [executor.submit(_worker_pid) for _ in range(self._workers)])
            await asyncio.gather(*(asyncio.wrap_future(future) for future in started))
        except BrokenProcessPool as exc:
            await self.close()
            raise RendererCrashed("the PDF workers could not start; their traceback is on stderr") from exc

    async def close(self) -> None:
        """Let queued renders finish, then stop every worker (also those of retired pools)."""
        executor, self._executor = self._executor, None
        if executor is not None:
            self._retire(executor)
        if self._retiring:
            await asyncio.gather(*self._retiring)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def render(self, doc: InvoiceDocument) -> bytes:
        """Render ``doc`` in a worker and return the PDF bytes (see ``render.render_invoice_pdf``).

        If the worker dies (killed, out of memory, a crash in a C library) the pool is replaced and the
        document rendered once more; a second death raises :class:`RendererCrashed`.
        """
        loop = asyncio.get_running_loop()
        executor = self._executor_for_next_render()
        try:
            pdf = await loop.run_in_executor(executor, _render_in_worker, doc)
        except BrokenProcessPool:
            self._replace_broken(executor)
            executor = self._executor_for_next_render()
            try:
                pdf = await loop.run_in_executor(executor, _render_in_worker, doc)
            except BrokenProcessPool as exc:
                self._replace_broken(executor)  # later invoices get a healthy pool
                raise RendererCrashed(
                    f"the PDF worker crashed twice rendering {doc.kind.lower()} {doc.invoice_number}"
                ) from exc
        self._rendered += 1
        return pdf

    def _executor_for_next_render(self) -> ProcessPoolExecutor:
        if self._executor is None:
            raise RendererClosed("InvoiceRenderer is not running: call start() first")
        if self._submitted >= self._recycle_after * self._workers:
            log.debug("recycling the invoice PDF pool after %d renders", self._submitted)
            self._retire(self._executor)
            self._executor = self._new_executor()
        self._submitted += 1
        return self._executor

    def _replace_broken(self, broken: ProcessPoolExecutor) -> None:
        """Swap in a new pool unless a concurrent render already replaced this one."""
        if self._executor is broken:
            self._crashes += 1
            log.warning("an invoice PDF worker died; starting a new pool")
            self._retire(broken)
            self._executor = self._new_executor()

    def _new_executor(self) -> ProcessPoolExecutor:
        context = multiprocessing.get_context(self._start_method)
        if isinstance(context, multiprocessing.context.ForkServerContext):
            # The forkserver imports these once and every worker is forked from it ready to render.
            # "__main__" is the stdlib default: without it each worker would re-import the main script.
            # Takes effect only if this process has no forkserver yet; otherwise workers import lazily.
            context.set_forkserver_preload(["__main__", _RENDER_MODULE])
        self._submitted = 0
        self._pools_started += 1
        return ProcessPoolExecutor(self._workers, mp_context=context, initializer=_start_worker)

    def _retire(self, executor: ProcessPoolExecutor) -> None:
        """Shut ``executor`` down in a thread: it finishes the renders it holds, then its workers exit."""
        retiring = asyncio.get_running_loop().run_in_executor(None, executor.shutdown, True)
        self._retiring.add(retiring)
        retiring.add_done_callback(self._retiring.discard)
