"""Synthetic packages and customers for the demo, ``ispb seed`` and benchmarks.

Set-based on purpose: one ``INSERT ... SELECT FROM generate_series`` per call, with every field derived from
the row number by hashing, so 100,000 customers take seconds and the same seed always gives the same people.
The data looks like a Dhaka ISP's: Bangladeshi names, Dhaka areas, ``+8801`` mobile numbers, BDT prices.
Customers of a validity package (the 1-day hotspot) are on a daily prepaid billing profile, where each bill
covers the package's validity at its price (``billing/validity.py``: a monthly profile cannot bill them).
"""

from dataclasses import dataclass

from ispb_billing import MONTH_VALIDITY_DAYS
from ispb_tenants import TenantScope


@dataclass(frozen=True)
class PackageSpec:
    name: str
    service_type: str
    price_minor: int
    """BDT paisa: 50000 is 500.00 BDT."""
    download_kbps: int
    upload_kbps: int
    validity_days: int = 30


DEMO_PACKAGES: tuple[PackageSpec, ...] = (
    PackageSpec("Home 10 Mbps", "pppoe", 50_000, 10_000, 10_000),
    PackageSpec("Home 20 Mbps", "pppoe", 80_000, 20_000, 20_000),
    PackageSpec("Family 40 Mbps", "pppoe", 120_000, 40_000, 40_000),
    PackageSpec("Gamer 60 Mbps", "pppoe", 160_000, 60_000, 60_000),
    PackageSpec("Business 100 Mbps", "static", 350_000, 100_000, 100_000),
    PackageSpec("Daily Hotspot 1 Day", "hotspot", 3_000, 5_000, 5_000, validity_days=1),
)

FIRST_NAMES = (
    "Rahim",
    "Karim",
    "Abdul",
    "Mohammad",
    "Tanvir",
    "Sajid",
    "Rafiq",
    "Jamal",
    "Kamal",
    "Shakil",
    "Imran",
    "Arif",
    "Fahim",
    "Nayeem",
    "Sabbir",
    "Mehedi",
    "Rakib",
    "Shohel",
    "Habib",
    "Mizanur",
    "Anisur",
    "Touhid",
    "Rashed",
    "Nusrat",
    "Farhana",
    "Sadia",
    "Tasnim",
    "Sharmin",
    "Ayesha",
    "Fatema",
    "Nasrin",
    "Rokeya",
    "Jannatul",
    "Sumaiya",
    "Mahmuda",
    "Shirin",
    "Taslima",
    "Rumana",
    "Afsana",
    "Lamia",
    "Nabila",
    "Tahmina",
    "Moushumi",
)
SURNAMES = (
    "Uddin",
    "Hossain",
    "Ahmed",
    "Akter",
    "Chowdhury",
    "Rahman",
    "Islam",
    "Khan",
    "Sarker",
    "Mia",
    "Begum",
    "Talukder",
    "Bhuiyan",
    "Mollah",
    "Sheikh",
    "Haque",
    "Kabir",
    "Alam",
    "Siddique",
    "Majumder",
    "Karim",
    "Das",
)
AREAS = (
    "Mirpur-10",
    "Mirpur-1",
    "Dhanmondi",
    "Uttara Sector 7",
    "Uttara Sector 11",
    "Mohammadpur",
    "Banani",
    "Gulshan-1",
    "Badda",
    "Rampura",
    "Bashundhara R/A",
    "Khilgaon",
    "Jatrabari",
    "Farmgate",
    "Motijheel",
    "Shyamoli",
    "Tejgaon",
)

# h(k): a deterministic non-negative 63-bit hash of (seed, customer number, field k).
_INSERT_CUSTOMERS = """
WITH base AS (
    SELECT coalesce(max(substring(code FROM '^C([0-9]+)$')::bigint), 0) AS last_number FROM customer
), packages AS (
    -- home PPPoE packages first, cheapest first: the skew below makes them the most common
    SELECT array_agg(id ORDER BY service_type <> 'pppoe', price_minor, id) AS ids FROM package WHERE is_active
), numbered AS (
    SELECT base.last_number + g AS n, packages.ids
    FROM generate_series(1, $1::int) AS g, base, packages
), hashed AS (
    SELECT n, ids,
           abs(hashtextextended($2::text || ':' || n || ':first', 0)) AS h_first,
           abs(hashtextextended($2::text || ':' || n || ':last', 0)) AS h_last,
           abs(hashtextextended($2::text || ':' || n || ':area', 0)) AS h_area,
           abs(hashtextextended($2::text || ':' || n || ':house', 0)) AS h_house,
           abs(hashtextextended($2::text || ':' || n || ':package', 0)) AS h_package,
           abs(hashtextextended($2::text || ':' || n || ':status', 0)) AS h_status,
           abs(hashtextextended($2::text || ':' || n || ':contact', 0)) AS h_contact
    FROM numbered
), named AS (
    SELECT *, ($3::text[])[1 + h_first % cardinality($3::text[])] AS first_name,
              ($4::text[])[1 + h_last % cardinality($4::text[])] AS surname,
              ($5::text[])[1 + h_area % cardinality($5::text[])] AS area
    FROM hashed
)
INSERT INTO customer (code, name, phone, email, address, area, package_id, status, pppoe_username, connection_date)
SELECT
    -- lpad truncates to its width: widen it past C999999 so codes stay unique
    'C' || lpad(n::text, greatest(6, length(n::text)), '0'),
    first_name || ' ' || surname,
    -- n -> n * 48271 mod 10^8 is a bijection (48271 is coprime with 10^8): phones are unique per tenant
    '+8801' || (3 + h_contact % 7)::text || lpad(((n * 48271) % 100000000)::text, 8, '0'),
    CASE WHEN h_contact / 7 % 10 < 4 THEN lower(first_name) || '.' || n || '@example.com' END,
    'House ' || (1 + h_house % 120) || ', Road ' || (1 + h_house / 120 % 30) || ', ' || area,
    area,
    -- squaring a uniform number skews the choice towards the cheaper packages, as in real ISPs
    ids[1 + floor(cardinality(ids) * power((h_package % 10007) / 10007.0, 2))::int],
    CASE WHEN h_status % 100 < 90 THEN 'active' WHEN h_status % 100 < 97 THEN 'suspended' ELSE 'disabled' END,
    lower(first_name) || n,
    current_date - (h_status / 100 % 1095)::int
FROM named
"""


async def ensure_packages(scope: TenantScope) -> list[int]:
    """Insert the demo packages that are missing; return the ids of all demo packages."""
    connection = scope.connection
    for spec in DEMO_PACKAGES:
        await connection.execute(
            "INSERT INTO package (name, service_type, price_minor, download_kbps, upload_kbps, validity_days)"
            " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO NOTHING",
            spec.name,
            spec.service_type,
            spec.price_minor,
            spec.download_kbps,
            spec.upload_kbps,
            spec.validity_days,
        )
    rows = await connection.fetch(
        "SELECT id FROM package WHERE name = ANY($1::text[]) ORDER BY id", [p.name for p in DEMO_PACKAGES]
    )
    return [row["id"] for row in rows]


PREPAID_PROFILE = "Prepaid daily"
"""The demo's billing profile for validity packages: daily cycle, due the day it is issued, one grace day."""

# Customers of a validity package who follow the default (monthly) profile move to the prepaid one.
_ASSIGN_PREPAID = """
UPDATE customer c SET billing_profile_id = $1
FROM package p
WHERE p.id = c.package_id AND NOT (p.validity_days BETWEEN $2 AND $3)
  AND (c.billing_profile_id IS NULL OR c.billing_profile_id IN (SELECT id FROM billing_profile WHERE cycle = 'monthly'))
"""


async def assign_prepaid_profile(scope: TenantScope) -> int:
    """Put every customer of a validity package on the prepaid daily profile (made when first needed); returns
    how many moved. Idempotent: the demo runs it on every start, so data seeded before the rule is fixed too."""
    connection = scope.connection
    low, high = MONTH_VALIDITY_DAYS[0], MONTH_VALIDITY_DAYS[-1]
    needed = await connection.fetchval(
        "SELECT EXISTS (SELECT 1 FROM customer c JOIN package p ON p.id = c.package_id"
        " LEFT JOIN billing_profile bp ON bp.id = c.billing_profile_id"
        " WHERE NOT (p.validity_days BETWEEN $1 AND $2) AND coalesce(bp.cycle, 'monthly') = 'monthly')",
        low,
        high,
    )
    if not needed:
        return 0
    await connection.execute(
        "INSERT INTO billing_profile (name, cycle, due_days, grace_days, prorata) VALUES ($1, 'daily', 0, 1, 'none')"
        " ON CONFLICT (name) DO NOTHING",
        PREPAID_PROFILE,
    )
    profile_id = await connection.fetchval(
        "SELECT id FROM billing_profile WHERE name = $1 AND cycle = 'daily'", PREPAID_PROFILE
    )
    if profile_id is None:  # an operator renamed another profile to it and made it monthly: leave theirs alone
        return 0
    status = await connection.execute(_ASSIGN_PREPAID, profile_id, low, high)
    return int(status.split()[-1])


async def seed_customers(scope: TenantScope, count: int, *, seed: int = 1) -> int:
    """Add ``count`` customers after the tenant's existing ones (codes continue from the highest ``C<n>``).

    Needs at least one active package (see `ensure_packages`). Returns the number of customers inserted.
    Connection dates count back from today, so they shift from one day to the next. Customers of a validity
    package go on the prepaid daily profile (`assign_prepaid_profile`).
    """
    if count <= 0:
        return 0
    if not await scope.connection.fetchval("SELECT count(*) FROM package WHERE is_active"):
        raise ValueError(f"tenant {scope.tenant.slug} has no active package to give its customers")
    status = await scope.connection.execute(
        _INSERT_CUSTOMERS, count, str(seed), list(FIRST_NAMES), list(SURNAMES), list(AREAS)
    )
    await assign_prepaid_profile(scope)
    return int(status.split()[-1])
