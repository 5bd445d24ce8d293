-- NetFlow records (issue 14).
--
-- "Which customer had address X at time T": the NetFlow page and regulators' questions look up the accounting
-- sessions that held an address around a time. By address and start time this is an index range per monthly
-- partition instead of a scan of every session; created on the parent, PostgreSQL builds it on every partition
-- (and on the ones radacct_add_month creates later).
CREATE INDEX radacct_framed_start_idx ON radacct (FramedIPAddress, AcctStartTime);

-- The address a router exports NetFlow from, when it is neither its NAS address nor its (IP) host: the collector
-- (ispb netflow collect) files a router's flows under the tenant by this address.
ALTER TABLE router ADD COLUMN netflow_address inet;
