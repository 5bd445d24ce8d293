"""The staff form: name, e-mail, role and password, validated into a `StaffDraft` with per-field errors."""

from dataclasses import dataclass

from ispb_platform.auth.passwords import MIN_PASSWORD

ROLES = {"operator_admin": "Operator admin", "operator_staff": "Operator staff"}
NEW_STAFF = {"role": "operator_staff"}


@dataclass(frozen=True)
class StaffDraft:
    name: str
    email: str
    role: str
    password: str  # empty on edit: keep the current one


def validate_staff(data: dict[str, str], *, new: bool) -> tuple[StaffDraft | None, dict[str, str]]:
    errors: dict[str, str] = {}
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
