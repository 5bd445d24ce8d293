"""Typed settings from ``ISPB_*`` environment variables, validated once at start-up.

Every bad value stops start-up with one line that names the variable, what it must be and what it got, so an
operator fixes it without reading a traceback. Parsing is pure (`parse_settings` takes a mapping); only
`load_settings` touches the environment and the data directory.
"""

import ipaddress
import os
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlparse, urlsplit

from ispb_notify import OutboundPolicy
from ispb_platform.secrets_box import accept_old_keys

_LOG_LEVELS = ("debug", "info", "warning", "error")
MIN_SECRET_KEY_LENGTH = 32


class SettingsError(ValueError):
    """A bad setting. ``str(error)`` is the whole message an operator needs."""

    def __init__(self, variable: str, message: str) -> None:
        super().__init__(f"{variable} {message}")
        self.variable = variable


@dataclass(frozen=True)
class Settings:
    database_url: str | None
    """PostgreSQL URL; None means the embedded PostgreSQL under ``data_dir``."""
    redis_url: str | None
    """Redis URL for the job queue; None means SAQ's PostgreSQL queue."""
    secret_key: str | None
    """Signs sessions and links. Required with an external database; generated and kept in ``data_dir``
    otherwise (see `load_settings`)."""
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8000
    db_pool_min: int = 2
    db_pool_max: int = 10
    worker_concurrency: int = 10
    job_heartbeat_s: int = 60
    """``ISPB_JOB_HEARTBEAT_S``: a running job proves every third of this that its worker lives; a job silent for
    longer is a dead worker's and is swept back into the queue (``jobs/worker.py``). Lower means a killed worker's
    jobs are retried sooner, at the cost of a queue write per job every third of it."""
    log_level: str = "info"
    queue_name: str = "ispb"
    """Separates deployments (staging, production) that share one Redis."""
    cookie_secure: bool = True
    """Session and CSRF cookies only over HTTPS. Turn off only for plain-HTTP loopback use (``ispb demo``)."""
    outbound: OutboundPolicy = field(default_factory=OutboundPolicy)
    """Where URLs that operators type (SMS and WhatsApp gateways) may lead: public addresses, plus the
    addresses, networks and host names of ``ISPB_OUTBOUND_ALLOW`` (``ispb_notify.OutboundPolicy``)."""
    rrdcached_socket: Path | None = None
    """``ISPB_RRDCACHED_SOCKET``: traffic graphs written through rrdcached (Debian ``rrdcached``) listening on this
    unix socket. A worker process starts it when nothing answers there and stops it (flushing) when it stops;
    web processes only use it. Unset: each process writes the files directly."""
    netflow_host: str = "0.0.0.0"  # noqa: S104 - routers export from elsewhere; nfcapd drops unknown exporters
    """``ISPB_NETFLOW_HOST``: the address ``ispb netflow collect`` receives NetFlow/IPFIX on (UDP)."""
    netflow_port: int = 9995
    """``ISPB_NETFLOW_PORT``: its UDP port (9995 is nfcapd's and many routers' default)."""
    log_to_files: bool = False
    """``ISPB_LOG_TO_FILES``: also log to ``ISPB_DATA_DIR/logs/<command>-<date>.log``, a file per day;
    ``maintenance.clear_app_logs`` removes days older than a week."""
    public_url: str | None = None
    """``ISPB_PUBLIC_URL``: the address customers and gateways reach this platform at (https://billing.example.net),
    used in links that leave the page (gateway return addresses, invitation and invoice links); unset, each
    request's Host header is used (``web/requests.py``, ``site_url``)."""
    public_ipv4: str | None = None
    """``ISPB_PUBLIC_IPV4``: the public IPv4 address this server's requests to payment gateways come from. Nagad
    whitelists it for the merchant and wants it in every request (``X-KM-IP-V4``); unset, Nagad checkouts are
    refused with a message naming this setting (``ispb demo`` sets 127.0.0.1 for its local gateways)."""
    old_secret_keys: tuple[str, ...] = ()
    """``ISPB_OLD_SECRET_KEYS`` (comma-separated): earlier secret keys, during a rotation only. Values sealed
    with them still open (never seal); ``ispb secrets reseal`` moves them to ``secret_key``, then remove them."""

    @property
    def embedded_database(self) -> bool:
        return self.database_url is None


def _url(env: Mapping[str, str], name: str, schemes: tuple[str, ...], example: str) -> str | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    parsed = urlparse(raw)
    if parsed.scheme not in schemes:
        raise SettingsError(
            name, f"must be a {' or '.join(s + '://' for s in schemes)} URL such as {example}, got {raw!r}"
        )
    if not (parsed.hostname or "host=" in parsed.query):
        raise SettingsError(name, f"has no host: {raw!r} (example: {example})")
    return raw


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(name, f"must be a whole number from {low} to {high}, got {raw!r}") from None
    if not low <= value <= high:
        raise SettingsError(name, f"must be from {low} to {high}, got {value}")
    return value


def _choice(env: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env.get(name, "").strip().lower() or default
    if value not in choices:
        raise SettingsError(name, f"must be one of {', '.join(choices)}, got {value!r}")
    return value


def _secret(env: Mapping[str, str], database_url: str | None) -> str | None:
    raw = env.get("ISPB_SECRET_KEY", "")
    if raw and len(raw) < MIN_SECRET_KEY_LENGTH:
        raise SettingsError(
            "ISPB_SECRET_KEY",
            f"must be at least {MIN_SECRET_KEY_LENGTH} characters, got "
            f"{len(raw)}; generate one with: python3 -c 'import secrets; "
            "print(secrets.token_urlsafe(48))'",
        )
    if not raw and database_url is not None:
        raise SettingsError(
            "ISPB_SECRET_KEY",
            "is required when ISPB_DATABASE_URL is set (every web node must "
            "share it); generate one with: python3 -c 'import secrets; "
            "print(secrets.token_urlsafe(48))'",
        )
    return raw or None


def _old_secrets(env: Mapping[str, str]) -> tuple[str, ...]:
    keys = tuple(k.strip() for k in env.get("ISPB_OLD_SECRET_KEYS", "").split(",") if k.strip())
    if any(len(k) < MIN_SECRET_KEY_LENGTH for k in keys):
        raise SettingsError(
            "ISPB_OLD_SECRET_KEYS",
            f"must list earlier ISPB_SECRET_KEY values (each {MIN_SECRET_KEY_LENGTH}+ characters)",
        )
    return keys


def parse_settings(env: Mapping[str, str]) -> Settings:
    """Build `Settings` from a mapping of environment variables, or raise `SettingsError`."""
    database_url = _url(env, "ISPB_DATABASE_URL", ("postgresql", "postgres"), "postgresql://user@127.0.0.1/ispb")
    redis_url = _url(env, "ISPB_REDIS_URL", ("redis", "rediss"), "redis://127.0.0.1:6379/0")
    data_dir = env.get("ISPB_DATA_DIR", "").strip() or "./var"
    pool_min = _int(env, "ISPB_DB_POOL_MIN", 2, 1, 100)
    pool_max = _int(env, "ISPB_DB_POOL_MAX", 10, 1, 500)
    if pool_max < pool_min:
        raise SettingsError("ISPB_DB_POOL_MAX", f"must be at least ISPB_DB_POOL_MIN ({pool_min}), got {pool_max}")
    return Settings(
        database_url=database_url,
        redis_url=redis_url,
        secret_key=_secret(env, database_url),
        data_dir=Path(data_dir).expanduser().resolve(),
        host=env.get("ISPB_HOST", "").strip() or "127.0.0.1",
        port=_int(env, "ISPB_PORT", 8000, 1, 65535),
        db_pool_min=pool_min,
        db_pool_max=pool_max,
        worker_concurrency=_int(env, "ISPB_WORKER_CONCURRENCY", 10, 1, 1000),
        job_heartbeat_s=_int(env, "ISPB_JOB_HEARTBEAT_S", 60, 2, 600),
        log_level=_choice(env, "ISPB_LOG_LEVEL", "info", _LOG_LEVELS),
        queue_name=_queue_name(env),
        cookie_secure=_bool(env, "ISPB_COOKIE_SECURE", default=True),
        outbound=_outbound(env),
        old_secret_keys=_old_secrets(env),
        rrdcached_socket=_socket(env, "ISPB_RRDCACHED_SOCKET"),
        netflow_host=_netflow_host(env),
        netflow_port=_int(env, "ISPB_NETFLOW_PORT", 9995, 1, 65535),
        log_to_files=_bool(env, "ISPB_LOG_TO_FILES", default=False),
        public_ipv4=_public_ipv4(env),
        public_url=_public_url(env),
    )


_SOCKET_PATH_MAX = 107  # sun_path holds 108 bytes with the closing NUL (Linux)


def _socket(env: Mapping[str, str], name: str) -> Path | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    path = Path(raw).expanduser()
    if not path.is_absolute():
        raise SettingsError(name, f"must be an absolute path such as /run/ispb/rrdcached.sock, got {raw!r}")
    if len(str(path).encode()) > _SOCKET_PATH_MAX:
        raise SettingsError(name, f"must be at most {_SOCKET_PATH_MAX} bytes long (a unix socket path), got {raw!r}")
    return path


def _netflow_host(env: Mapping[str, str]) -> str:
    raw = env.get("ISPB_NETFLOW_HOST", "").strip() or "0.0.0.0"  # noqa: S104 - see Settings.netflow_host
    try:
        ipaddress.ip_address(raw)
    except ValueError:
        raise SettingsError(
            "ISPB_NETFLOW_HOST", f"must be an IP address such as 0.0.0.0 or 10.0.0.5, got {raw!r}"
        ) from None
    return raw


def _public_url(env: Mapping[str, str]) -> str | None:
    raw = env.get("ISPB_PUBLIC_URL", "").strip()
    if not raw:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.query or parts.fragment:
        raise SettingsError(
            "ISPB_PUBLIC_URL", f"must be the platform's address such as https://billing.example.net, got {raw!r}"
        )
    return raw.rstrip("/")


def _public_ipv4(env: Mapping[str, str]) -> str | None:
    raw = env.get("ISPB_PUBLIC_IPV4", "").strip()
    if not raw:
        return None
    try:
        return str(ipaddress.IPv4Address(raw))
    except ValueError:
        raise SettingsError(
            "ISPB_PUBLIC_IPV4", f"must be this server's public IPv4 address, such as 203.0.113.10, got {raw!r}"
        ) from None


def _outbound(env: Mapping[str, str]) -> OutboundPolicy:
    try:
        return OutboundPolicy.parse(env.get("ISPB_OUTBOUND_ALLOW", ""))
    except ValueError as error:
        raise SettingsError(
            "ISPB_OUTBOUND_ALLOW",
            f"must list addresses, networks or host names, each optionally with :port, separated by commas "
            f"(such as 10.0.0.0/8, kannel.lan:13013); {error}",
        ) from None


def _bool(env: Mapping[str, str], name: str, *, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise SettingsError(name, f"must be true or false, got {raw!r}")


def _queue_name(env: Mapping[str, str]) -> str:
    value = env.get("ISPB_QUEUE_NAME", "").strip() or "ispb"
    if not re.fullmatch(r"[A-Za-z0-9_.:-]{1,64}", value):
        raise SettingsError("ISPB_QUEUE_NAME", f"must be 1-64 letters, digits or _ . : -, got {value!r}")
    return value


def load_settings(
    env: Mapping[str, str] | None = None, *, token: Callable[[], str] = lambda: secrets.token_urlsafe(48)
) -> Settings:
    """Settings for this process. With the embedded database and no ISPB_SECRET_KEY, a key is generated
    once and kept in ``<data_dir>/secret_key`` (mode 600) so sessions survive restarts. The old secret keys
    are handed to ``secrets_box`` for the whole process (they only ever open values)."""
    settings = parse_settings(os.environ if env is None else env)
    accept_old_keys(settings.old_secret_keys)
    if settings.secret_key is not None:
        return settings
    _prepare_data_dir(settings.data_dir)
    key_file = settings.data_dir / "secret_key"
    if not key_file.exists():
        key_file.touch(mode=0o600)
        key_file.write_text(token(), encoding="utf-8")
    key = key_file.read_text(encoding="utf-8").strip()
    if len(key) < MIN_SECRET_KEY_LENGTH:
        raise SettingsError("ISPB_SECRET_KEY", f"is unset and {key_file} holds a key that is too short; delete it")
    return replace(settings, secret_key=key)


def _prepare_data_dir(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise SettingsError("ISPB_DATA_DIR", f"cannot be created at {path}: {error.strerror}") from None
    if not os.access(path, os.W_OK):
        raise SettingsError("ISPB_DATA_DIR", f"is not writable: {path}")
