"""Monitoring: status checks every minute, incidents, public status pages, the Zabbix dashboard (issue 16)."""
