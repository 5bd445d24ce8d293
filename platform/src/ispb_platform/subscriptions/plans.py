"""Reading plans with their tiers into the pure ``pricing.Plan`` (one query for all plans a run needs)."""

from collections.abc import Iterable

import asyncpg

from ispb_platform.subscriptions.pricing import Plan, Pricing, Tier


async def load_plans(connection: asyncpg.Connection, plan_ids: Iterable[int] | None = None) -> dict[int, Plan]:
    ids = None if plan_ids is None else sorted(set(plan_ids))
    plans = await connection.fetch(
        "SELECT id, name, pricing, sms_price, trial_days FROM platform.subscription_plan"
        " WHERE $1::int[] IS NULL OR id = ANY($1::int[]) ORDER BY name",
        ids,
    )
    tiers = await connection.fetch(
        "SELECT plan_id, up_to, price FROM platform.subscription_tier"
        " WHERE $1::int[] IS NULL OR plan_id = ANY($1::int[]) ORDER BY plan_id, up_to NULLS LAST",
        ids,
    )
    by_plan: dict[int, list[Tier]] = {}
    for tier in tiers:
        by_plan.setdefault(tier["plan_id"], []).append(Tier(tier["up_to"], tier["price"]))
    return {
        p["id"]: Plan(
            p["name"], Pricing(p["pricing"]), tuple(by_plan.get(p["id"], ())), p["sms_price"], p["trial_days"]
        )
        for p in plans
    }
