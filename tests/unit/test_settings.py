"""Every bad ISPB_* variable stops start-up with one line that names it."""

from pathlib import Path

import pytest

from ispb_platform.settings import SettingsError, load_settings, parse_settings

KEY = {"ISPB_SECRET_KEY": "s" * 40}


def test_defaults_mean_embedded_database_and_postgres_queue(tmp_path: Path):
    settings = parse_settings({"ISPB_DATA_DIR": str(tmp_path)})
    assert settings.embedded_database and settings.redis_url is None
    assert (settings.host, settings.port, settings.data_dir) == ("127.0.0.1", 8000, tmp_path.resolve())


def test_outbound_requests_go_to_public_addresses_unless_the_administrator_allows_more():
    assert parse_settings({}).outbound.refusal("127.0.0.1", "127.0.0.1", 6379) is not None
    outbound = parse_settings({"ISPB_OUTBOUND_ALLOW": "10.20.0.0/16, kannel.lan:13013"}).outbound
    assert [str(entry) for entry in outbound.allow] == ["10.20.0.0/16", "kannel.lan:13013"]
    assert outbound.refusal("10.20.0.9", "10.20.0.9", 80) is None
    assert outbound.refusal("127.0.0.1", "127.0.0.1", 6379) is not None


def test_full_configuration_is_read():
    settings = parse_settings(
        {
            **KEY,
            "ISPB_DATABASE_URL": "postgresql://ispb@db.internal:5432/ispb",
            "ISPB_REDIS_URL": "redis://r:6379/1",
            "ISPB_PORT": "9000",
            "ISPB_DB_POOL_MAX": "40",
            "ISPB_LOG_LEVEL": "WARNING",
            "ISPB_NETFLOW_HOST": "10.0.0.5",
            "ISPB_NETFLOW_PORT": "2055",
            "ISPB_PUBLIC_IPV4": " 203.0.113.10 ",
            "ISPB_PUBLIC_URL": "https://billing.example.net/",
        }
    )
    assert settings.public_url == "https://billing.example.net"
    assert settings.public_ipv4 == "203.0.113.10"
    assert settings.port == 9000 and settings.db_pool_max == 40 and settings.log_level == "warning"
    assert (settings.netflow_host, settings.netflow_port) == ("10.0.0.5", 2055)
    assert not settings.embedded_database


@pytest.mark.parametrize(
    ("env", "variable", "says"),
    [
        ({"ISPB_DATABASE_URL": "mysql://db/ispb"}, "ISPB_DATABASE_URL", "postgresql:// or postgres:// URL"),
        ({"ISPB_DATABASE_URL": "postgresql:///ispb"}, "ISPB_DATABASE_URL", "has no host"),
        ({"ISPB_REDIS_URL": "http://cache:6379"}, "ISPB_REDIS_URL", "redis:// or rediss:// URL"),
        ({"ISPB_PORT": "eighty"}, "ISPB_PORT", "whole number"),
        ({"ISPB_PORT": "70000"}, "ISPB_PORT", "from 1 to 65535"),
        ({"ISPB_DB_POOL_MIN": "0"}, "ISPB_DB_POOL_MIN", "from 1 to 100"),
        ({"ISPB_DB_POOL_MIN": "8", "ISPB_DB_POOL_MAX": "4"}, "ISPB_DB_POOL_MAX", "at least ISPB_DB_POOL_MIN"),
        ({"ISPB_WORKER_CONCURRENCY": "-1"}, "ISPB_WORKER_CONCURRENCY", "from 1 to 1000"),
        ({"ISPB_LOG_LEVEL": "loud"}, "ISPB_LOG_LEVEL", "one of debug, info, warning, error"),
        ({"ISPB_QUEUE_NAME": "my queue"}, "ISPB_QUEUE_NAME", "letters, digits"),
        ({"ISPB_SECRET_KEY": "short"}, "ISPB_SECRET_KEY", "at least 32 characters"),
        ({"ISPB_DATABASE_URL": "postgresql://db/ispb"}, "ISPB_SECRET_KEY", "required when ISPB_DATABASE_URL"),
        ({"ISPB_OUTBOUND_ALLOW": "10.0.0.0/8, 10.0.0.1/24"}, "ISPB_OUTBOUND_ALLOW", "'10.0.0.1/24': 10.0.0.1/24 has"),
        ({"ISPB_OUTBOUND_ALLOW": "http://kannel.lan"}, "ISPB_OUTBOUND_ALLOW", "without a scheme"),
        ({"ISPB_OUTBOUND_ALLOW": "kannel.lan:0"}, "ISPB_OUTBOUND_ALLOW", "bad port"),
        ({"ISPB_NETFLOW_HOST": "collector.lan"}, "ISPB_NETFLOW_HOST", "must be an IP address"),
        ({"ISPB_NETFLOW_PORT": "99999"}, "ISPB_NETFLOW_PORT", "from 1 to 65535"),
        ({"ISPB_PUBLIC_IPV4": "2001:db8::1"}, "ISPB_PUBLIC_IPV4", "public IPv4 address"),
        ({"ISPB_PUBLIC_IPV4": "isp.example"}, "ISPB_PUBLIC_IPV4", "public IPv4 address"),
        ({"ISPB_PUBLIC_URL": "billing.example.net"}, "ISPB_PUBLIC_URL", "such as https://billing.example.net"),
        ({"ISPB_PUBLIC_URL": "https://billing.example.net/?x=1"}, "ISPB_PUBLIC_URL", "the platform's address"),
    ],
)
def test_each_bad_variable_gets_its_own_clear_message(env: dict[str, str], variable: str, says: str):
    with pytest.raises(SettingsError) as caught:
        parse_settings(env)
    message = str(caught.value)
    assert message.startswith(variable + " ") and says in message and "\n" not in message
    assert caught.value.variable == variable


def test_unwritable_data_dir_is_reported(tmp_path: Path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(SettingsError, match=r"^ISPB_DATA_DIR cannot be created"):
        load_settings({"ISPB_DATA_DIR": str(blocker / "var")})


def test_embedded_mode_generates_a_secret_key_once_and_keeps_it(tmp_path: Path):
    first = load_settings({"ISPB_DATA_DIR": str(tmp_path)})
    second = load_settings({"ISPB_DATA_DIR": str(tmp_path)})
    assert first.secret_key and len(first.secret_key) >= 32 and first.secret_key == second.secret_key
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
