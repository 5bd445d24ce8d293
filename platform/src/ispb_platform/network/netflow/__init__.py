"""NetFlow records: routers' flows collected by nfcapd, searched by customer, address and time (Logs → NetFlow),
and purged after the operator's retention window (docs/netflow.md)."""
