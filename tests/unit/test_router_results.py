"""Router command results in words (the customer and router pages show these, not JSON)."""

import doctest

import pytest

from ispb_platform.network.routers import results
from ispb_platform.network.routers.results import describe_result


def test_the_examples_in_the_docstring_hold():
    assert doctest.testmod(results).failed == 0


@pytest.mark.parametrize(
    ("result", "words"),
    [
        (None, ""),
        ({}, ""),
        (
            {"secret": "updated", "listed": ["10.0.0.5"], "disconnected": 1},
            "PPP secret updated · blocked 10.0.0.5 · 1 session disconnected",
        ),
        (
            {"secret": "unchanged", "unlisted": [], "disconnected": 0},
            "PPP secret already right · no session to disconnect",
        ),
        ({"skipped": "no PPPoE username"}, "Nothing to do: no PPPoE username"),
        ({"sessions": 0, "acked": 0, "nak": 0}, "not online now"),
        ({"sessions": 2, "acked": 1, "nak": 1}, "2 live sessions changed by RADIUS (1 acknowledged, 1 refused)"),
        ({"fair_usage": False, "live_queue": "removed"}, "Full package speed · fair-usage queue removed"),
        ({"profile": "p", "change": "created"}, "profile p · created"),
        ({"secret": "no PPP secret on the router"}, "no PPP secret on the router"),
        ({"unknown": 3}, "unknown: 3"),
        ("odd", "odd"),
    ],
)
def test_results_read_as_sentences(result, words):
    assert describe_result(result) == words
