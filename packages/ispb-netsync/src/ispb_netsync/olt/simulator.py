"""Simulated OLTs for tests and demos: snmpsim serving ``.snmprec`` recordings on loopback.

snmpsim (PyPI, a development dependency, not one of this package's) is started as a subprocess of the current
interpreter. It refuses to run as root, so as root it drops to ``nobody``/``nogroup``; then it can no longer
import modules from a private interpreter directory (``/root/.pyenv``), so the few standard modules it imports
late (``dbm.dumb`` for its index, the Latin-1 codec, pysnmp's SNMPv3 ciphers with ``cryptography``) are imported
before it drops. Each recording is served
under its file name as SNMPv2c community, and as SNMPv3 user ``simulator`` (snmpsim's own defaults, context
name = file name).

snmpsim reads its recordings when it starts: write every state an OLT should go through as its own file
(``olt-a.snmprec``, ``olt-a-later.snmprec``) before `start`, or `restart`.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

from pyasn1.codec.ber import encoder
from pysnmp.proto import api

from ispb_netsync.olt.client import SYS_DESCR

_LAUNCH = (
    "import sys, dbm, dbm.dumb, encodings.latin_1, encodings.ascii, encodings.utf_8\n"
    # SNMPv3 privacy: pysnmp's ciphers import `cryptography` when first used, after the drop to nobody
    "import pysnmp.proto.secmod.rfc3414.priv.des, pysnmp.proto.secmod.rfc3826.priv.aes\n"
    "import pysnmp.proto.secmod.eso.priv.des3, pysnmp.proto.secmod.eso.priv.aes192\n"
    "import pysnmp.proto.secmod.eso.priv.aes256\n"
    "try:\n"
    "    import cryptography.hazmat.backends.openssl, cryptography.hazmat.primitives.ciphers.algorithms\n"
    "    import cryptography.hazmat.decrepit.ciphers.algorithms, cryptography.hazmat.decrepit.ciphers.modes\n"
    "except ImportError:\n"
    "    pass\n"
    "from snmpsim.commands.responder import main\n"
    "sys.argv[0] = 'snmpsim-command-responder'\n"
    "sys.exit(main())\n"
)
V3_USER, V3_AUTH_KEY, V3_PRIV_KEY = "simulator", "auctoritas", "privatus"
"""snmpsim's default SNMPv3 user (MD5 authentication, DES privacy) unless `OltSimulator` is given others."""


class SimulatorUnavailable(RuntimeError):
    """snmpsim is not installed (``pip install snmpsim pysmi``) or did not start; the message says which."""


def available() -> bool:
    return importlib.util.find_spec("snmpsim") is not None


def free_udp_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def get_request(community: str, oid: str = SYS_DESCR, request_id: int = 1) -> bytes:
    """An SNMPv2c GET as bytes (for readiness probes and test peers)."""
    v2c = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]
    pdu = v2c.GetRequestPDU()
    v2c.apiPDU.set_defaults(pdu)
    v2c.apiPDU.set_request_id(pdu, request_id)
    v2c.apiPDU.set_varbinds(pdu, [(oid, v2c.Null(""))])
    message = v2c.Message()
    v2c.apiMessage.set_defaults(message)
    v2c.apiMessage.set_community(message, community)
    v2c.apiMessage.set_pdu(message, pdu)
    return bytes(encoder.encode(message))


class OltSimulator:
    """snmpsim on ``host:port`` serving every ``*.snmprec`` of ``data_dir``.

    ``v3`` = (user, auth key, priv key) switches snmpsim's SNMPv3 user (SHA authentication, AES privacy).
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        v3: tuple[str, str, str] | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.host = host
        self.port = port or free_udp_port(host)
        self.v3 = v3
        self._process: subprocess.Popen[bytes] | None = None
        self._cache: Path | None = None
        self._log: Path | None = None

    def __enter__(self) -> OltSimulator:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    def command(self) -> list[str]:
        assert self._cache is not None
        line = [
            sys.executable,
            "-c",
            _LAUNCH,
            f"--data-dir={self.data_dir}",
            f"--cache-dir={self._cache}",
            f"--agent-udpv4-endpoint={self.host}:{self.port}",
            "--log-level=error",
        ]
        if self.v3 is not None:
            user, auth_key, priv_key = self.v3
            line += [f"--v3-user={user}", f"--v3-auth-key={auth_key}", "--v3-auth-proto=SHA"]
            line += [f"--v3-priv-key={priv_key}", "--v3-priv-proto=AES"]
        if os.geteuid() == 0:
            line += ["--process-user=nobody", "--process-group=nogroup"]
        return line

    def start(self, *, ready_within: float = 30.0) -> None:
        """Start snmpsim and wait until it answers; `SimulatorUnavailable` with its output otherwise."""
        if not available():
            raise SimulatorUnavailable("snmpsim is not installed (pip install snmpsim pysmi)")
        self.data_dir.chmod(0o755)
        self._cache = Path(tempfile.mkdtemp(prefix="ispb-snmpsim-"))
        self._log = self._cache / "snmpsim.log"
        if os.geteuid() == 0:
            shutil.chown(self._cache, "nobody", "nogroup")
        log = self._log.open("wb")
        self._process = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT, cwd=self._cache)  # noqa: S603
        log.close()
        communities = sorted(path.stem for path in self.data_dir.glob("*.snmprec"))
        if not communities:
            self.stop()
            raise SimulatorUnavailable(f"no recordings in {self.data_dir}")
        self._wait(communities[0], ready_within)

    def _wait(self, community: str, ready_within: float) -> None:
        deadline = time.monotonic() + ready_within
        request = get_request(community)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.settimeout(0.25)
            while time.monotonic() < deadline:
                if self._process is None or self._process.poll() is not None:
                    break
                probe.sendto(request, (self.host, self.port))
                with contextlib.suppress(OSError):
                    probe.recvfrom(65535)
                    return
        output = self.output()
        self.stop()
        raise SimulatorUnavailable(f"snmpsim did not answer on {self.host}:{self.port}: {output[-2000:]}")

    def output(self) -> str:
        return self._log.read_text(errors="replace") if self._log is not None and self._log.exists() else ""

    def restart(self) -> None:
        """Stop and start again, reading the recordings anew (snmpsim indexes them at start)."""
        self.stop()
        self.start()

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        if self._cache is not None:
            shutil.rmtree(self._cache, ignore_errors=True)
            self._cache = None
