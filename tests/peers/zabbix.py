"""The Zabbix API peer for tests: ``ispb_monitor.zabbix_simulator`` (JSON-RPC over HTTP as the published API
reference describes it for 6.0 LTS and 7.0: apiinfo.version, user.login/logout, API tokens in the auth member or
a Bearer header by version, host.get, problem.get, trigger.get, and their errors).

It lives in the library so ``ispb demo`` can run a Zabbix for the Monitoring dashboard too; tests import it
from here, next to the other peers.
"""

from ispb_monitor.zabbix import Severity
from ispb_monitor.zabbix_simulator import ZabbixSimulator

__all__ = ("Severity", "ZabbixSimulator")
