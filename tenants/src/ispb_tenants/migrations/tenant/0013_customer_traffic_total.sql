-- Each customer's traffic since ISPB started counting, only ever growing: the counters the customer's RRD graph
-- derives rates from (netsync.rrd_update). The daily usage cannot serve: its old days are dropped with the
-- accounting retention, and summing a customer's whole history every 5 minutes for every customer would not
-- scale. The usage rollup adds to both tables in the same statement.
CREATE TABLE customer_traffic_total (
    customer_id     integer PRIMARY KEY REFERENCES customer (id) ON DELETE CASCADE,
    download_octets bigint NOT NULL DEFAULT 0 CHECK (download_octets >= 0),
    upload_octets   bigint NOT NULL DEFAULT 0 CHECK (upload_octets >= 0)
);
INSERT INTO customer_traffic_total (customer_id, download_octets, upload_octets)
SELECT customer_id, sum(download_octets), sum(upload_octets) FROM customer_usage_daily GROUP BY customer_id;
