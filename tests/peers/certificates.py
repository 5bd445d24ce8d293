"""Self-signed certificates for TLS peers on loopback (a router's api-ssl service, a gateway on an operator's LAN).

The ``certificate`` fixture in tests/conftest.py calls `self_signed_certificate`; a library's own tests keep
their copy because they run without this repository (tests/slow/test_library_isolation.py).
"""

import shutil
import subprocess
from pathlib import Path

__all__ = ("self_signed_certificate",)


def self_signed_certificate(directory: Path, host: str = "127.0.0.1") -> tuple[Path, Path]:
    """Write a one-day self-signed certificate for the IP address ``host`` into ``directory``; (key, cert)."""
    if shutil.which("openssl") is None:
        raise RuntimeError("the TLS tests need the openssl command to make a certificate (apt-get install openssl)")
    key, cert = directory / "key.pem", directory / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", f"/CN={host}",
         "-addext", f"subjectAltName=IP:{host}", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    return key, cert
