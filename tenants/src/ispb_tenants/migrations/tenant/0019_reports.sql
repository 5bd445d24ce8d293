-- Precomputed reports for the Overview (docs/reports.md): the pages read these small tables only, so they stay fast
-- at 100k customers; reports.bills_vs_payments (hourly) and reports.yearly_summary (daily) rebuild them from the
-- source tables with upserts. Money is bigint minor units of the tenant's currency, like the bills it sums.

-- One row per calendar month (the tenant's dates: bill.issue_date, payment.received_on, suspension_log.at in the
-- tenant's zone). Recomputed from the source tables by reports.bills_vs_payments.
CREATE TABLE report_month (
    month               date PRIMARY KEY CHECK (extract(day FROM month) = 1),
    invoices            integer NOT NULL DEFAULT 0,
    billed_minor        bigint NOT NULL DEFAULT 0,   -- invoices issued in the month (voided ones too: they were issued)
    credit_notes        integer NOT NULL DEFAULT 0,
    credited_minor      bigint NOT NULL DEFAULT 0,   -- credit notes issued in the month
    payments            integer NOT NULL DEFAULT 0,
    paid_minor          bigint NOT NULL DEFAULT 0,   -- payments received in the month
    new_customers       integer NOT NULL DEFAULT 0,  -- connection_date in the month
    suspensions         integer NOT NULL DEFAULT 0,  -- customers suspended at least once in the month
    refreshed_at        timestamptz NOT NULL DEFAULT now()
);

-- Customer states at the month's last snapshot (reports.yearly_summary takes one a day, overwriting the month's
-- row, so a past month keeps the state of its last day). Statuses have no history of their own, hence snapshots.
CREATE TABLE report_customer_month (
    month               date PRIMARY KEY CHECK (extract(day FROM month) = 1),
    taken_on            date NOT NULL,
    active              integer NOT NULL,
    suspended           integer NOT NULL,
    disabled            integer NOT NULL,
    refreshed_at        timestamptz NOT NULL DEFAULT now()
);

-- One row per calendar year: the sums of its months plus the customers at its last snapshot.
CREATE TABLE report_year (
    year                integer PRIMARY KEY,
    invoices            integer NOT NULL DEFAULT 0,
    billed_minor        bigint NOT NULL DEFAULT 0,
    credited_minor      bigint NOT NULL DEFAULT 0,
    payments            integer NOT NULL DEFAULT 0,
    paid_minor          bigint NOT NULL DEFAULT 0,
    new_customers       integer NOT NULL DEFAULT 0,
    suspensions         integer NOT NULL DEFAULT 0,
    refreshed_at        timestamptz NOT NULL DEFAULT now()
);

-- The customers owing most on bills past their due date, best first (replaced as a whole by each hourly run).
CREATE TABLE report_top_overdue (
    rank                integer PRIMARY KEY CHECK (rank >= 1),
    customer_id         integer NOT NULL REFERENCES customer (id) ON DELETE CASCADE,
    overdue_minor       bigint NOT NULL CHECK (overdue_minor > 0),
    overdue_bills       integer NOT NULL,
    oldest_due          date NOT NULL,
    refreshed_at        timestamptz NOT NULL DEFAULT now()
);
