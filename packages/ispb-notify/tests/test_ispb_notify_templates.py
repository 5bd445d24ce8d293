"""Templates are checked when an operator saves them and rendered in a sandbox (ispb_notify.templates)."""

import pytest

from ispb_notify import (
    DEFAULT_TEMPLATES,
    EVENT_VARIABLES,
    TEMPLATE_VARIABLES,
    VARIABLES,
    Event,
    TemplateProblem,
    check_template,
    count_sms,
    render,
)

SAMPLE_VALUES = {
    "customer_name": "Rahim Uddin",
    "customer_id": "C-1042",
    "package": "Home 20 Mbps",
    "amount_due": "৳1,050.00",
    "due_date": "10 May 2026",
    "expiry_date": "10 May 2026",
    "balance": "৳0.00",
    "payment_amount": "৳1,050.00",
    "otp": "482913",
    "operator_name": "Dhaka Net",
    "portal_link": "https://portal.example.net",
    "operator_phone": "01711000000",
    "reason": "unpaid bill",
    "old_package": "Home 10 Mbps",
    "new_package": "Home 20 Mbps",
    "username": "rahim42",
    "password": "x7Kp2q",
    "fup_speed": "1 Mbps down, 512 kbps up",
    "reset_date": "1 Jun 2026",
}


def test_sample_values_cover_every_variable() -> None:
    assert set(SAMPLE_VALUES) == set(VARIABLES)


def test_every_event_and_reminder_has_a_default_template() -> None:
    assert set(DEFAULT_TEMPLATES) == {event.value for event in Event} | {"due_date", "expiration"}
    assert set(TEMPLATE_VARIABLES) == set(DEFAULT_TEMPLATES)
    assert set(EVENT_VARIABLES) == set(Event)


@pytest.mark.parametrize("key", sorted(DEFAULT_TEMPLATES))
def test_default_template_passes_its_check_and_renders_in_one_segment(key: str) -> None:
    allowed = TEMPLATE_VARIABLES[key]
    assert allowed <= set(VARIABLES)
    check_template(DEFAULT_TEMPLATES[key], allowed)
    text = render(DEFAULT_TEMPLATES[key], {name: SAMPLE_VALUES[name] for name in allowed})
    assert "{{" not in text
    assert count_sms(text).segments <= 2  # ৳ makes the sample UCS-2; the English texts stay short


def test_payment_template_refuses_a_variable_its_event_does_not_provide() -> None:
    with pytest.raises(TemplateProblem, match="unknown variable 'otp'"):
        check_template("Your code {{ otp }}", EVENT_VARIABLES[Event.PAYMENT_RECEIVED])


def test_unknown_variable_is_reported_with_line_column_and_the_known_names() -> None:
    with pytest.raises(TemplateProblem) as caught:
        check_template("Dear {{ customer_name }},\nyou owe {{ amout_due }} (amout_due)")
    problem = caught.value
    assert (problem.line, problem.column) == (2, 12)
    assert problem.message.startswith("line 2: unknown variable 'amout_due'; known: amount_due, balance,")
    assert str(problem) == problem.message


def test_several_unknown_variables_point_at_the_first_and_name_the_rest() -> None:
    with pytest.raises(TemplateProblem, match=r"'amout' \(also unknown: zz\)") as caught:
        check_template("{{ amout }} {{ zz }}")
    assert caught.value.column == 4


def test_syntax_error_gives_line_and_column() -> None:
    with pytest.raises(TemplateProblem) as caught:
        check_template("Dear {{ customer_name }},\npay {{ amount_due }")
    assert (caught.value.line, caught.value.column) == (2, 19)
    assert caught.value.message == "line 2: unexpected '}'"


def test_unclosed_block_is_a_syntax_error() -> None:
    with pytest.raises(TemplateProblem, match="line 1: Unexpected end of template"):
        check_template("{% if balance %}You are in credit.")


def test_unknown_filter_is_refused_at_save_time() -> None:
    with pytest.raises(TemplateProblem, match="No filter named 'shout'") as caught:
        check_template("{{ customer_name|shout }}")
    assert caught.value.line == 1


@pytest.mark.parametrize(
    "source",
    [
        "{{ customer_name.__class__.__mro__ }}",
        "{{ customer_name['__class__'] }}",
        "{{ customer_name.format.__globals__ }}",
        "{{ customer_name._secret }}",
        "{{ range(10) }}",
        "{{ lipsum.__globals__ }}",
        "{{ cycler.__init__.__globals__.os }}",
        "{{ customer_name * 100000 }}",
        "{{ 9 ** 99999 }}",
    ],
)
def test_sandbox_escape_attempt_is_refused_when_saved(source: str) -> None:
    with pytest.raises(TemplateProblem):
        check_template(source)


def test_sandbox_refuses_an_escape_at_render_time_too() -> None:
    with pytest.raises(TemplateProblem, match="not allowed"):
        render("{{ customer_name.__class__ }}", {"customer_name": "x"})


def test_harmless_jinja_features_are_allowed() -> None:
    source = "{% if balance != '৳0.00' %}Balance {{ balance }}. {% endif %}Hi {{ customer_name|upper }}"
    check_template(source)
    assert render(source, {"balance": "৳10.00", "customer_name": "rahim"}) == "Balance ৳10.00. Hi RAHIM"


def test_bangla_template_renders() -> None:
    source = "প্রিয় {{ customer_name }}, আপনার বিল {{ amount_due }} টাকা {{ due_date }} এর মধ্যে পরিশোধ করুন।"
    check_template(source)
    values = {"customer_name": "রহিম", "amount_due": "১,০৫০", "due_date": "১০ মে"}
    assert render(source, values) == "প্রিয় রহিম, আপনার বিল ১,০৫০ টাকা ১০ মে এর মধ্যে পরিশোধ করুন।"


def test_render_does_not_escape_and_strips_surrounding_whitespace() -> None:
    assert render("  {{ customer_name }} <ok>\n\n", {"customer_name": "Rahim & Sons"}) == "Rahim & Sons <ok>"


def test_missing_value_at_render_is_a_template_problem() -> None:
    with pytest.raises(TemplateProblem, match="no value for 'amount_due'"):
        render("You owe {{ amount_due }}", {"customer_name": "Rahim"})


def test_render_reports_a_syntax_error_with_its_line() -> None:
    with pytest.raises(TemplateProblem) as caught:
        render("ok\n{{ oops", {})
    assert caught.value.line == 2
