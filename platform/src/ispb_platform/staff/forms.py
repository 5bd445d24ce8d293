"""The staff form: name, e-mail, role and password, validated into a `StaffDraft` with per-field errors."""

from dataclasses import dataclass

from ispb_platform.auth.passwords import MIN_PASSWORD
from ispb_platform.web.forms import text_errors

ROLES = {"operator_admin": "Operator admin", "operator_staff": "Operator staff"}
NEW_STAFF = {"role": "operator_staff"}


@dataclass(frozen=True)
class StaffDraft:
    name: str
    email: str
    role: str
    password: str  # empty on edit: keep the current one


def validate_staff(data: dict[str, str], *, new: bool) -> tuple[StaffDraft | None, dict[str, str]]:
    errors = text_errors(data, ("user_name", "email"))
    name = data.get("user_name", "").strip()
    email = data.get("email", "").strip()
    role = data.get("role", "")
    password = data.get("password", "")
    if not name:
        errors["user_name"] = "Enter the person's name."
    elif len(name) > 120:
        errors["user_name"] = "Use at most 120 characters."
    if new and ("@" not in email or len(email) > 200 or " " in email):
        errors["email"] = "Enter an e-mail address such as rahim@example.com."
    if role not in ROLES:
        errors["role"] = "Choose operator admin or operator staff."
    if (new or password) and len(password) < MIN_PASSWORD:
        errors["password"] = f"Use at least {MIN_PASSWORD} characters."
    if errors:
        return None, errors
    return StaffDraft(name, email, role, password), {}


@dataclass(frozen=True)
class InvitationDraft:
    """Who the operator admin invites: the person sets their own password through the invitation link."""

    name: str
    email: str
    role: str


def validate_invitation(data: dict[str, str]) -> tuple[InvitationDraft | None, dict[str, str]]:
    """Name, e-mail and role; every error at once. Whether the e-mail has an account is not a form error."""
    errors = text_errors(data, ("user_name", "email"))
    name = data.get("user_name", "").strip()
    email = data.get("email", "").strip()
    role = data.get("role", "")
    if not name:
        errors["user_name"] = "Enter the person's name."
    elif len(name) > 120:
        errors["user_name"] = "Use at most 120 characters."
    if "@" not in email or len(email) > 200 or len(email) < 3 or any(c.isspace() or ord(c) < 32 for c in email):
        errors["email"] = "Enter an e-mail address such as rahim@example.com."
    if role not in ROLES:
        errors["role"] = "Choose operator admin or operator staff."
    if errors:
        return None, errors
    return InvitationDraft(name, email, role), {}


def check_new_password(password: str, again: str) -> dict[str, str]:
    """The password an invited person chooses, typed twice."""
    if len(password) < MIN_PASSWORD:
        return {"password": f"Use at least {MIN_PASSWORD} characters."}
    if len(password) > 1000:
        return {"password": "Use at most 1,000 characters."}
    if password != again:
        return {"password_again": "The two passwords differ."}
    return {}
