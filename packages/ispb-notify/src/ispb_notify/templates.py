"""Message templates: operators write them, so they are checked when saved and rendered in a sandbox.

An operator types a template such as ``Dear {{ customer_name }}, {{ amount_due }} is due on {{ due_date }}.``
into the panel. Two things must hold: a typo (``amout_due``) is caught when the template is saved, with the
line and column, not at 09:00 when a thousand reminders fail; and a template can never reach into Python
objects (``{{ customer_name.__class__ }}``) or build a gigabyte string. So ``check_template`` is the save-time
guard, and ``render`` runs in Jinja2's immutable sandbox with undefined names as errors.

SMS is plain text: autoescaping is off (an ``&`` in a customer name must stay ``&``), and the result is
stripped so a trailing newline typed in a textarea does not cost a character.
"""

import operator
import re
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from types import MappingProxyType
from typing import Any

import jinja2
import jinja2.meta
import jinja2.nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

__all__ = ("VARIABLES", "TemplateProblem", "check_template", "render")

VARIABLES: Mapping[str, str] = MappingProxyType(
    {
        "customer_name": "The customer's name",
        "customer_id": "The customer's ID as the operator shows it",
        "package": "The customer's current package (internet plan)",
        "amount_due": "The amount the customer owes, with currency",
        "due_date": "The date the bill is due",
        "expiry_date": "The date (and time) the customer's service expires",
        "balance": "The customer's balance after the event, with currency",
        "payment_amount": "The amount just paid, with currency",
        "otp": "A one-time password",
        "operator_name": "The ISP's name",
        "portal_link": "The link to the customer portal",
        "operator_phone": "The ISP's support phone number",
        "reason": "Why the service was suspended",
        "old_package": "The package before a package change",
        "new_package": "The package after a package change",
        "username": "The customer's login (PPPoE or portal) name",
        "password": "The customer's password (only sent when an account is created)",
        "fup_speed": "The reduced speed once the data allowance is used (fair usage)",
        "reset_date": "The day full speed comes back (the next billing cycle)",
    }
)

# Longest text one template may produce. An SMS of 10 segments is about 1,500 characters; anything far
# beyond that is a mistake or an attack on the worker's memory (``{{ customer_name * 10**9 }}``).
_MAX_RESULT = 20_000
_MAX_EXPONENT = 64


class TemplateProblem(ValueError):
    """A template that cannot be saved or rendered; ``message`` is written for the operator.

    ``line`` and ``column`` (both from 1) point at the problem when it is known, so the panel can mark it.

    >>> problem = TemplateProblem("unknown variable 'x'", line=2, column=5)
    >>> problem.message
    "line 2: unknown variable 'x'"
    """

    def __init__(self, problem: str, *, line: int | None = None, column: int | None = None) -> None:
        self.line = line
        self.column = column
        self.message = f"line {line}: {problem}" if line is not None else problem
        super().__init__(self.message)


class _NotifySandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, plus a bound on ``*`` and ``**`` so a template cannot exhaust memory or CPU."""

    intercepted_binops = frozenset({"*", "**"})

    def __init__(self) -> None:
        super().__init__(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=False)
        # Jinja's globals (range, lipsum, namespace, ...) are not message variables: without them every name
        # a template uses is one check_template can see and the operator can look up in VARIABLES.
        self.globals.clear()

    def call_binop(self, context: Any, operator_name: str, left: Any, right: Any) -> Any:
        if operator_name == "**":
            if isinstance(right, int) and abs(right) > _MAX_EXPONENT:
                raise SecurityError(f"exponent {right} is too large for a message template")
            return operator.pow(left, right)
        for sized, times in ((left, right), (right, left)):
            if isinstance(sized, str | list | tuple) and isinstance(times, int) and len(sized) * times > _MAX_RESULT:
                raise SecurityError("the repeated text would be too long for a message")
        return operator.mul(left, right)


_ENVIRONMENT = _NotifySandbox()


def check_template(source: str, allowed: Iterable[str] = VARIABLES) -> None:
    """Refuse a template that would fail or misbehave when rendered: the guard to run when it is saved.

    Raises `TemplateProblem` for a syntax error (with line and column), an unknown filter, a variable
    outside ``allowed`` (with the first one's position and the known names), and anything the sandbox
    would refuse at render time, such as attributes that start with ``_``.

    >>> check_template("Dear {{ customer_name }}, {{ amount_due }} is due.")
    >>> check_template("Dear {{ customer_name }}, {{ amout_due }} is due.")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ispb_notify.templates.TemplateProblem: line 1: unknown variable 'amout_due'; known: amount_due, ...
    """
    allowed_names = frozenset(allowed)
    try:
        tree = _ENVIRONMENT.parse(source)
        _ENVIRONMENT.compile(source)  # unknown filters and tests are only found when compiling
    except jinja2.TemplateSyntaxError as error:
        raise _syntax_problem(source, error) from None
    unknown = jinja2.meta.find_undeclared_variables(tree) - allowed_names
    if unknown:
        raise _unknown_variable_problem(source, tree, unknown, allowed_names)
    _refuse_private_access(source, tree)
    _trial_render(source, allowed_names)


def render(source: str, values: Mapping[str, object]) -> str:
    """Render a template with ``values`` in the sandbox; the text is stripped of surrounding whitespace.

    A variable without a value raises `TemplateProblem` (a message with a hole in it must not go out);
    so does anything the sandbox refuses. Compiled templates are cached per source text.

    >>> render("Dear {{ customer_name }}, we received {{ payment_amount }}.\\n",
    ...        {"customer_name": "Rahim & Sons", "payment_amount": "৳500.00"})
    'Dear Rahim & Sons, we received ৳500.00.'
    >>> render("Dear {{ customer_name }}", {})
    Traceback (most recent call last):
    ...
    ispb_notify.templates.TemplateProblem: no value for 'customer_name'
    """
    try:
        template = _compiled(source)
        return template.render(values).strip()
    except jinja2.UndefinedError as error:
        raise TemplateProblem(_missing_value(error.message or "")) from None
    except jinja2.TemplateSyntaxError as error:
        raise _syntax_problem(source, error) from None
    except SecurityError as error:
        raise TemplateProblem(f"not allowed in a template: {error}") from None


def _missing_value(jinja_message: str) -> str:
    """Jinja says "'x' is undefined"; the operator needs to hear which value was missing."""
    quoted = re.match(r"^('[^']*') is undefined$", jinja_message)
    return f"no value for {quoted.group(1)}" if quoted else f"missing value: {jinja_message}"


@lru_cache(maxsize=512)
def _compiled(source: str) -> jinja2.Template:
    """One compiled template per source text: a reminder run renders the same few templates thousands of times."""
    return _ENVIRONMENT.from_string(source)


def _syntax_problem(source: str, error: jinja2.TemplateSyntaxError) -> TemplateProblem:
    """Jinja reports only the line; the column is where the shortest prefix of that line shows the same error."""
    problem = error.message or "syntax error"
    return TemplateProblem(problem, line=error.lineno, column=_error_column(source, error.lineno, problem))


def _error_column(source: str, line: int, problem: str) -> int | None:
    lines = source.splitlines(keepends=True)
    if not 1 <= line <= len(lines):
        return None
    before = "".join(lines[: line - 1])
    text = lines[line - 1]
    for end in range(1, min(len(text), 2_000) + 1):
        try:
            _ENVIRONMENT.compile(before + text[:end])
        except jinja2.TemplateSyntaxError as error:
            if error.message == problem:
                return end
    return None


def _unknown_variable_problem(
    source: str, tree: jinja2.nodes.Template, unknown: set[str], allowed: frozenset[str]
) -> TemplateProblem:
    """Point at the unknown name that comes first in the text, and list what the operator may use instead."""
    places = [
        (node.lineno, _column_of(source, node.lineno, node.name) or 0, node.name)
        for node in tree.find_all(jinja2.nodes.Name)
        if node.name in unknown
    ]
    line, column, name = min(places)
    others = sorted(unknown - {name})
    also = f" (also unknown: {', '.join(others)})" if others else ""
    known = ", ".join(sorted(allowed)) or "none"
    return TemplateProblem(f"unknown variable {name!r}{also}; known: {known}", line=line, column=column or None)


_TAG = re.compile(r"\{[{%].*?(?:[%}]\}|$)", re.DOTALL)


def _column_of(source: str, line: int, name: str) -> int | None:
    """The column of ``name`` inside a ``{{ }}`` or ``{% %}`` tag on ``line`` (plain text may hold the same word)."""
    lines = source.splitlines()
    if not 1 <= line <= len(lines):
        return None
    text = lines[line - 1]
    word = re.compile(rf"(?<!\w){re.escape(name)}(?!\w)")
    for tag in _TAG.finditer(text):
        found = word.search(text, tag.start(), tag.end())
        if found:
            return found.start() + 1
    found = word.search(text)
    return found.start() + 1 if found else None


def _trial_render(source: str, allowed: frozenset[str]) -> None:
    """Render once with a sample value for every variable, to meet the sandbox's runtime refusals now.

    Only refusals count: a filter that fails on the sample "1" says nothing about real values.
    """
    try:
        _compiled(source).render(dict.fromkeys(allowed, "1"))
    except SecurityError as error:
        raise TemplateProblem(f"not allowed in a template: {error}") from None
    except Exception:  # only the sandbox's refusals are problems here (see above)
        return


def _refuse_private_access(source: str, tree: jinja2.nodes.Template) -> None:
    """Refuse ``x._y`` and ``x['_y']`` at save time; the sandbox would only refuse them at render time."""
    checks: list[tuple[type[jinja2.nodes.Node], Callable[[Any], object]]] = [
        (jinja2.nodes.Getattr, lambda node: node.attr),
        (jinja2.nodes.Getitem, lambda node: node.arg.value if isinstance(node.arg, jinja2.nodes.Const) else None),
    ]
    for kind, attribute in checks:
        for node in tree.find_all(kind):
            name = attribute(node)
            if isinstance(name, str) and name.startswith("_"):
                raise TemplateProblem(
                    f"access to {name!r} is not allowed in a template",
                    line=node.lineno,
                    column=_column_of(source, node.lineno, name),
                )
