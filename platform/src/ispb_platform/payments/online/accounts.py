"""The operator's gateway accounts (Bills and Payments → Payment Gateways): which providers are switched on,
sandbox or live, and their credentials, sealed at rest with the secrets box (``payments.gateway_secret``,
bound to the tenant and the provider). ``adapter_for`` turns a stored account into a working adapter."""

import json
from dataclasses import dataclass, field

from ispb_notify import OutboundPolicy
from ispb_platform.payments.online import bkash, nagad, sslcommerz, stripe
from ispb_platform.payments.online.gateway import PaymentGateway, Provider
from ispb_platform.secrets_box import Binding, Purpose, reveal, seal
from ispb_tenants import Connection

IMPLEMENTED = (Provider.BKASH, Provider.NAGAD, Provider.SSLCOMMERZ, Provider.STRIPE)
"""Providers with an adapter; the settings page offers only these."""

SECRET_FIELDS: dict[Provider, tuple[str, ...]] = {
    Provider.BKASH: ("app_secret", "username", "password"),
    Provider.NAGAD: ("merchant_private_key", "nagad_public_key"),
    Provider.SSLCOMMERZ: ("store_password",),
    Provider.STRIPE: ("secret_key", "webhook_secret"),
}
"""The sealed credentials of each provider, besides its public merchant id."""

FIELD_LABELS: dict[Provider, dict[str, str]] = {
    Provider.BKASH: {
        "merchant_id": "App key",
        "app_secret": "App secret",
        "username": "Username",
        "password": "Password",
    },
    Provider.NAGAD: {
        "merchant_id": "Merchant id",
        "merchant_private_key": "Merchant private key (base64 or PEM)",
        "nagad_public_key": "Nagad public key (base64 or PEM)",
    },
    Provider.SSLCOMMERZ: {"merchant_id": "Store id", "store_password": "Store password"},
    Provider.STRIPE: {
        "merchant_id": "Account name (shown to you only)",
        "secret_key": "Secret key (sk_...)",
        "webhook_secret": "Webhook signing secret (whsec_...)",
    },
}

PUBLISHED_URLS: dict[Provider, dict[str, str]] = {
    Provider.BKASH: {"sandbox": bkash.SANDBOX_URL, "live": bkash.LIVE_URL},
    Provider.NAGAD: {"sandbox": nagad.SANDBOX_URL, "live": nagad.LIVE_URL},
    Provider.SSLCOMMERZ: {"sandbox": sslcommerz.SANDBOX_URL, "live": sslcommerz.LIVE_URL},
    Provider.STRIPE: {"sandbox": stripe.API_URL, "live": stripe.API_URL},  # test or live: the key decides
}


class GatewayNotSetUp(LookupError):
    """The operator has not switched this provider on (or its credentials are incomplete)."""


@dataclass(frozen=True)
class GatewayAccount:
    provider: Provider
    enabled: bool
    mode: str
    base_url: str
    merchant_id: str
    secrets: dict[str, str] = field(repr=False)

    @property
    def api_url(self) -> str:
        """The address adapters call: the one set on the page, else the provider's published one."""
        return self.base_url or PUBLISHED_URLS[self.provider][self.mode]

    @property
    def complete(self) -> bool:
        return bool(self.merchant_id) and all(self.secrets.get(name) for name in SECRET_FIELDS[self.provider])


def binding(tenant_id: int, provider: Provider) -> Binding:
    return Binding(tenant_id, Purpose.PAYMENT_GATEWAY_SECRET, provider.value)


PLATFORM_ACCOUNTS = 0
"""The tenant id the platform's own gateway accounts (``platform.payment_gateway``) are sealed for."""


def _table(tenant_id: int) -> str:
    return "platform.payment_gateway" if tenant_id == PLATFORM_ACCOUNTS else "payment_gateway"


async def accounts(connection: Connection, tenant_id: int, secret_key: str) -> dict[Provider, GatewayAccount]:
    """Every stored account of the operator (of the platform for `PLATFORM_ACCOUNTS`), credentials opened."""
    rows = await connection.fetch(
        f"SELECT provider, enabled, mode, base_url, merchant_id, secret_sealed FROM {_table(tenant_id)}"  # noqa: S608
    )
    found = {}
    for row in rows:
        provider = Provider(row["provider"])
        sealed = row["secret_sealed"]
        secrets = json.loads(reveal(secret_key, sealed, binding(tenant_id, provider))) if sealed else {}
        found[provider] = GatewayAccount(
            provider, row["enabled"], row["mode"], row["base_url"], row["merchant_id"], secrets
        )
    return found


async def save_account(connection: Connection, tenant_id: int, secret_key: str, account: GatewayAccount) -> None:
    """Store an account; the credentials are sealed for this tenant and provider."""
    sealed = seal(secret_key, json.dumps(account.secrets, sort_keys=True), binding(tenant_id, account.provider))
    await connection.execute(
        f"INSERT INTO {_table(tenant_id)} (provider, enabled, mode, base_url, merchant_id, secret_sealed)"  # noqa: S608
        " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (provider) DO UPDATE SET enabled = EXCLUDED.enabled,"
        " mode = EXCLUDED.mode, base_url = EXCLUDED.base_url, merchant_id = EXCLUDED.merchant_id,"
        " secret_sealed = EXCLUDED.secret_sealed, updated_at = now()",
        account.provider.value,
        account.enabled,
        account.mode,
        account.base_url,
        account.merchant_id,
        sealed,
    )


def enabled_providers(found: dict[Provider, GatewayAccount]) -> list[Provider]:
    """What the portal offers: switched on, complete, with an adapter."""
    return [p for p in IMPLEMENTED if p in found and found[p].enabled and found[p].complete]


def adapter_for(account: GatewayAccount, policy: OutboundPolicy, public_ipv4: str | None) -> PaymentGateway:
    """A working adapter for the account; raises `GatewayNotSetUp` for a provider without one. ``public_ipv4``
    is ``ISPB_PUBLIC_IPV4``, the address gateways that whitelist the merchant's server expect (Nagad)."""
    url, key, secrets = account.api_url, account.merchant_id, account.secrets
    match account.provider:
        case Provider.BKASH:
            credentials = bkash.BkashAccount(url, key, secrets["app_secret"], secrets["username"], secrets["password"])
            return bkash.Bkash(credentials, policy)
        case Provider.NAGAD:
            keys = (secrets["merchant_private_key"], secrets["nagad_public_key"])
            return nagad.Nagad(nagad.NagadAccount(url, key, *keys, server_ip=public_ipv4), policy)
        case Provider.SSLCOMMERZ:
            return sslcommerz.Sslcommerz(sslcommerz.SslcommerzAccount(url, key, secrets["store_password"]), policy)
        case Provider.STRIPE:
            account_ = stripe.StripeAccount(url, key, secrets["secret_key"], secrets["webhook_secret"])
            return stripe.Stripe(account_, policy)
    raise GatewayNotSetUp(f"{account.provider.value} has no adapter yet")
