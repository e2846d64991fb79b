"""The cookie routes' rules that need no server: where the browser may be sent."""

import pytest

from ui import web


@pytest.mark.parametrize(
    "target",
    ["//evil.example/x", "https://evil.example", "/\\evil.example", "/a/../b", "/x?y=1", "", None],
)
def test_no_open_redirect(target):
    assert web.safe_next(target) == "/"


@pytest.mark.parametrize("target", ["/", "/reports", "/no-such_page-2"])
def test_a_page_of_the_app_is_followed(target):
    assert web.safe_next(target) == target


def test_the_ticket_travels_quoted():
    url = web.signin_url("a b&c", "/reports")
    assert url == "/_gridmap/signin?ticket=a%20b%26c&next=/reports"
