"""Opens what a process needs from settings: the database (external or embedded) and the job queue."""

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ispb_platform.embedded_postgres import start_embedded_postgres
from ispb_platform.settings import Settings
from ispb_tenants import Database, migrate_platform

if TYPE_CHECKING:
    from saq import Queue


@dataclass
class Runtime:
    settings: Settings
    database_url: str
    db: Database
    queue: "Queue"

    async def close(self) -> None:
        await self.queue.disconnect()
        await self.db.close()


async def resolve_database_url(settings: Settings) -> str:
    if settings.database_url is not None:
        return settings.database_url
    return await asyncio.to_thread(start_embedded_postgres, settings.data_dir)


async def open_database(settings: Settings) -> tuple[str, Database]:
    """Connect the pool and bring the platform schema up to date (idempotent, locked)."""
    url = await resolve_database_url(settings)
    db = await Database.connect(url, min_size=settings.db_pool_min, max_size=settings.db_pool_max)
    try:
        await migrate_platform(db)
    except BaseException:
        await db.close()
        raise
    return url, db


async def open_runtime(settings: Settings) -> Runtime:
    from ispb_platform.jobs.queue import make_queue  # the queue (SAQ, psycopg, redis) only where it is used

    url, db = await open_database(settings)
    queue = make_queue(settings.redis_url, url, name=settings.queue_name)
    try:
        await queue.connect()
    except BaseException:
        await db.close()
        raise
    return Runtime(settings, url, db, queue)
