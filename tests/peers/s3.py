"""A real S3-compatible server for tests: moto in server mode (``moto_server``), on a free loopback port.

It speaks the S3 REST API over HTTP (signatures, multipart uploads, ranged gets), so backups go through
obstore exactly as they would to AWS or MinIO.
"""

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def s3_server() -> Iterator[str]:
    """Start moto's S3 server; yield its endpoint URL; stop it after."""
    port = _free_port()
    binary = Path(sys.executable).parent / "moto_server"
    process = subprocess.Popen(
        [str(binary), "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(endpoint, timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("moto_server did not start") from None
                time.sleep(0.2)
        yield endpoint
    finally:
        process.terminate()
        process.wait(timeout=10)


def create_bucket(endpoint: str, bucket: str) -> None:
    """CreateBucket (moto accepts it unsigned)."""
    httpx.put(f"{endpoint}/{bucket}", timeout=10).raise_for_status()


def object_keys(endpoint: str, bucket: str) -> list[str]:
    """The bucket's keys (ListObjectsV2, parsed without an XML dependency beyond the standard library)."""
    import xml.etree.ElementTree as ET

    answer = httpx.get(f"{endpoint}/{bucket}?list-type=2", timeout=10)
    answer.raise_for_status()
    root = ET.fromstring(answer.text)
    return sorted(el.text or "" for el in root.iter() if el.tag.endswith("}Key"))
