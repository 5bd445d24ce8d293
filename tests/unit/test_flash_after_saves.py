"""Every panel and admin post that succeeds with a redirect tells the person what happened ("Package saved"):
a handler (or its helper) that redirects after a post also calls ``flash``. Sign-in, sign-out and the portal's
sign-in steps redirect to a page that says it by itself."""

import ast
from pathlib import Path

import ispb_platform

PLATFORM = Path(ispb_platform.__file__).parent
# redirects that are not the answer to a save: signing in and out, and the customer portal's sign-in steps
WITHOUT_MESSAGE = {"auth/routes.py", "portal/routes.py"}
# accepting a staff invitation signs the new person in: the redirect starts their first session, which has no
# message store yet, and lands on the panel they just joined
SIGN_IN_HANDLERS = {"staff/routes.py: accept"}
# a payment gateway sends the customer's browser back (GET, or SSLCommerz's POST): the result page it leads to
# says what happened to the payment, for a customer who may not be signed in (no message store)
GATEWAY_RETURNS = {"payments/online/routes.py: gateway_return", "subscriptions/routes.py: checkout_return"}
_REDIRECTS = {"see_other", "Redirect"}


def _calls(function: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Call):
            func = node.func
            names.add(func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else "")
    return names


def _is_get(function: ast.AsyncFunctionDef | ast.FunctionDef) -> bool:
    return any(
        isinstance(d, ast.Call) and isinstance(d.func, ast.Name) and d.func.id == "get" for d in function.decorator_list
    )


def _without_message(source: str, name: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source, name)):
        if isinstance(node, ast.AsyncFunctionDef | ast.FunctionDef) and not _is_get(node):
            calls = _calls(node)
            if calls & _REDIRECTS and "flash" not in calls:
                found.append(f"{name}: {node.name}")
    return found


def test_every_redirect_after_a_save_carries_a_message() -> None:
    routes = [p for p in sorted(PLATFORM.rglob("routes.py")) if str(p.relative_to(PLATFORM)) not in WITHOUT_MESSAGE]
    assert len(routes) >= 10
    found = [line for path in routes for line in _without_message(path.read_text(), str(path.relative_to(PLATFORM)))]
    assert [line for line in found if line not in SIGN_IN_HANDLERS | GATEWAY_RETURNS] == []


def test_the_rule_names_a_post_that_redirects_in_silence() -> None:
    sample = """
@get("/x")
async def page(request):
    return Redirect("/y")

@post("/x")
async def save(request):
    await service.save()
    return see_other(request, "/x")

@post("/z")
async def told(request):
    flash(request, "Saved")
    return Redirect("/z")
"""
    assert _without_message(sample, "sample.py") == ["sample.py: save"]
