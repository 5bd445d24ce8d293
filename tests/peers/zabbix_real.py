"""A real Zabbix 6.0 LTS from Debian for the slow test: its own PostgreSQL database (the packaged schema, images
and data), ``zabbix_server`` in the foreground on a free trapper port, and the packaged frontend copied to a
temporary directory (its configuration path, which Debian points at /etc/zabbix, turned to the copy's own)
served by ``php -S`` on loopback. Everything is stopped and dropped when the block ends.

    with running_zabbix(database_server_url) as zabbix:
        ...  # zabbix.api_url, zabbix.trapper_port, zabbix.config (for zabbix_server -R and zabbix_sender)

Needs ``apt-get install zabbix-server-pgsql zabbix-frontend-php php-cli php-pgsql php-gd php-bcmath php-mbstring
php-xml php-ldap zabbix-sender``.
"""

import gzip
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

SQL = Path("/usr/share/zabbix-server-pgsql")
FRONTEND = Path("/usr/share/zabbix")


@dataclass(frozen=True)
class RealZabbix:
    api_url: str
    trapper_port: int
    config: Path


def _free_port(low: int = 20000, high: int = 32767) -> int:
    """A free port in Zabbix's range for ListenPort (1024-32767; the kernel's ephemeral ports lie above)."""
    for _ in range(200):
        port = low + secrets.randbelow(high - low)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port between {low} and {high}")


def installed() -> bool:
    return all(shutil.which(b) for b in ("zabbix_server", "php", "zabbix_sender", "psql")) and FRONTEND.is_dir()


def _psql(url: str, sql: bytes) -> None:
    subprocess.run(
        ["psql", "-q", "-v", "ON_ERROR_STOP=1", url], input=sql, check=True, capture_output=True, timeout=300
    )


_LAST_ANSWER: list[bytes] = [b""]


def _api_answers(url: str) -> bool:
    body = b'{"jsonrpc":"2.0","method":"apiinfo.version","params":[],"id":1}'
    request = urllib.request.Request(url, body, {"Content-Type": "application/json-rpc"})
    try:
        with urllib.request.urlopen(request, timeout=2) as answer:
            _LAST_ANSWER[0] = answer.read()
            return b'"result"' in _LAST_ANSWER[0]
    except OSError:
        return False


@contextmanager
def running_zabbix(server_url: str, *, start_within: float = 60.0) -> Iterator[RealZabbix]:
    """Zabbix server and frontend on loopback, with a fresh database on ``server_url``'s PostgreSQL."""
    if not installed():
        pytest.fail(
            "the real-Zabbix test needs Debian's zabbix-server-pgsql, zabbix-frontend-php, php and zabbix-sender"
        )
    parts = urlsplit(server_url)
    name = f"ispb_zabbix_{secrets.token_hex(3)}"
    admin = server_url
    database = server_url.rsplit("/", 1)[0] + "/" + name
    _psql(admin, f'CREATE DATABASE "{name}"'.encode())
    processes: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory(prefix="ispb-zabbix-") as tmp:
        try:
            for part in ("schema", "images", "data"):
                _psql(database, gzip.decompress((SQL / f"{part}.sql.gz").read_bytes()))
            trapper, web = _free_port(), _free_port()
            config = Path(tmp) / "zabbix_server.conf"
            config.write_text(
                f"DBHost={parts.hostname}\nDBPort={parts.port or 5432}\nDBName={name}\n"
                f"DBUser={parts.username or 'postgres'}\n"
                f"ListenPort={trapper}\nListenIP=127.0.0.1\nLogType=console\nPidFile={tmp}/zabbix.pid\n"
                f"SocketDir={tmp}\nAllowRoot=1\nStartPollers=1\nStartPollersUnreachable=1\nStartTrappers=2\n"
                "StartPingers=0\nStartDiscoverers=0\nStartHTTPPollers=0\nStartTimers=1\nStartEscalators=1\n"
                "StartAlerters=1\nStartPreprocessors=1\nStartLLDProcessors=1\nTimeout=4\n"
            )
            logs = Path(tmp) / "server.log", Path(tmp) / "web.log"
            with logs[0].open("wb") as out:
                processes.append(subprocess.Popen(["zabbix_server", "-f", "-c", str(config)], stdout=out, stderr=out))
            root = Path(tmp) / "frontend"
            shutil.copytree(FRONTEND, root, symlinks=True)
            example = (FRONTEND / "conf" / "zabbix.conf.php.example").read_text()
            conf = (
                example.replace("'MYSQL'", "'POSTGRESQL'")
                .replace("= 'localhost'", f"= '{parts.hostname}'")
                .replace("$DB['PORT']				= '0'", f"$DB['PORT']				= '{parts.port or 5432}'")
                .replace("= 'zabbix';", f"= '{name}';", 1)
                .replace(
                    "$DB['USER']				= 'zabbix'",
                    f"$DB['USER']				= '{parts.username or 'postgres'}'",
                )
                .replace("// $ZBX_SERVER			= '';", "$ZBX_SERVER			= '127.0.0.1';")
                .replace("// $ZBX_SERVER_PORT		= '';", f"$ZBX_SERVER_PORT		= '{trapper}';")
            )
            (root / "conf" / "zabbix.conf.php").write_text(conf)
            # Debian's frontend reads /etc/zabbix/zabbix.conf.php; the copy reads its own
            core = root / "include" / "classes" / "core" / "CConfigFile.php"
            core.write_text(
                core.read_text().replace("'/etc/zabbix/zabbix.conf.php'", repr(str(root / "conf" / "zabbix.conf.php")))
            )
            command = ["php", "-d", "memory_limit=256M", "-S", f"127.0.0.1:{web}", "-t", str(root)]
            with logs[1].open("wb") as out:
                processes.append(subprocess.Popen(command, stdout=out, stderr=out))
            url = f"http://127.0.0.1:{web}/api_jsonrpc.php"
            deadline = time.monotonic() + start_within
            while not _api_answers(url):
                if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
                    said = "".join(log.read_text(errors="replace")[-1000:] for log in logs)
                    said += "\nthe API said: " + _LAST_ANSWER[0][:1000].decode(errors="replace")
                    pytest.fail(f"Zabbix did not start within {start_within:g} s:\n{said}")
                time.sleep(0.5)
            yield RealZabbix(url, trapper, config)
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            _psql(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())
