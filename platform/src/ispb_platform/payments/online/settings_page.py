"""Bills and Payments → Payment Gateways: read and validate the operator's gateway forms.

A credential left empty keeps the stored one (the page never shows a stored secret back). Switching a gateway
on needs its merchant id and every credential; a base URL, when given, must be an http(s) URL (empty: the
provider's published address for the mode).
"""

from dataclasses import dataclass
from urllib.parse import urlsplit

from ispb_platform.payments.online import nagad
from ispb_platform.payments.online.accounts import FIELD_LABELS, IMPLEMENTED, SECRET_FIELDS, GatewayAccount
from ispb_platform.payments.online.gateway import PROVIDER_LABELS, Provider
from ispb_platform.web.forms import text_problem


@dataclass(frozen=True)
class ProviderForm:
    provider: Provider
    label: str
    values: dict[str, str]
    errors: dict[str, str]
    stored: frozenset[str]
    """Credentials stored already (shown as "leave empty to keep")."""

    @property
    def secret_fields(self) -> tuple[str, ...]:
        return SECRET_FIELDS[self.provider]

    @property
    def labels(self) -> dict[str, str]:
        return FIELD_LABELS[self.provider]


def form_of(provider: Provider, account: GatewayAccount | None) -> ProviderForm:
    values = {"mode": "sandbox", "base_url": "", "merchant_id": "", "enabled": ""}
    stored: frozenset[str] = frozenset()
    if account is not None:
        values = {
            "mode": account.mode,
            "base_url": account.base_url,
            "merchant_id": account.merchant_id,
            "enabled": "on" if account.enabled else "",
        }
        stored = frozenset(name for name, value in account.secrets.items() if value)
    return ProviderForm(provider, PROVIDER_LABELS[provider], values, {}, stored)


def read_form(
    provider: Provider, fields: dict[str, str], stored: GatewayAccount | None
) -> tuple[GatewayAccount | None, ProviderForm]:
    """The account the form describes (None with errors in the form)."""
    errors: dict[str, str] = {}
    values = {name: fields.get(name, "").strip() for name in ("mode", "base_url", "merchant_id")}
    values["enabled"] = "on" if fields.get("enabled") else ""
    for name, value in (*values.items(), *((n, fields.get(n, "")) for n in SECRET_FIELDS[provider])):
        if problem := text_problem(value):
            errors[name] = problem
    if values["mode"] not in ("sandbox", "live"):
        errors["mode"] = "Choose sandbox or live."
    url = urlsplit(values["base_url"])
    if values["base_url"] and (url.scheme not in ("http", "https") or not url.hostname):
        errors["base_url"] = "Enter an http(s) address such as https://tokenized.sandbox.bka.sh/v1.2.0-beta."
    secrets = dict(stored.secrets) if stored else {}
    secrets |= {name: fields[name] for name in SECRET_FIELDS[provider] if fields.get(name)}
    if values["enabled"]:
        if not values["merchant_id"]:
            errors["merchant_id"] = (
                f"Enter the {FIELD_LABELS[provider]['merchant_id'].lower()} to switch this gateway on."
            )
        for name in SECRET_FIELDS[provider]:
            if not secrets.get(name):
                errors[name] = f"Enter the {FIELD_LABELS[provider][name].lower()} to switch this gateway on."
    if provider is Provider.NAGAD:
        for name, load in (("merchant_private_key", nagad.private_key), ("nagad_public_key", nagad.public_key)):
            if fields.get(name):
                try:
                    load(fields[name])
                except ValueError as error:
                    errors[name] = f"This key does not load: {error}."
    stored_names = frozenset(n for n, v in secrets.items() if v)
    form = ProviderForm(provider, PROVIDER_LABELS[provider], values, errors, stored_names)
    if errors:
        return None, form
    account = GatewayAccount(
        provider, bool(values["enabled"]), values["mode"], values["base_url"], values["merchant_id"], secrets
    )
    return account, form


def implemented(raw: str) -> Provider | None:
    try:
        provider = Provider(raw)
    except ValueError:
        return None
    return provider if provider in IMPLEMENTED else None
