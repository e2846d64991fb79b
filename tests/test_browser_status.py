"""Streamlit's status widget in a real server (marker ``browser``): while a page runs, the
toolbar keeps its running icon but shows no English "Stop" button (ui/chrome.py).

A run on the test server is usually over before the widget appears (after 500 ms), so the
rule is checked on a widget of Streamlit's shape (``stStatusWidget`` holding the icon and a
header button) put on the page; the real widget was looked at on a slow run (30,000
households), where it holds exactly these two."""

from __future__ import annotations

import pytest
from conftest import ADMIN
from signin import sign_in_form

pytestmark = pytest.mark.browser

_SHOWN = """() => {
  const widget = document.createElement("div");
  widget.setAttribute("data-testid", "stStatusWidget");
  widget.innerHTML = '<div><div data-testid="stStatusWidgetRunningIcon">&#x1F3C3;</div>' +
    '<div><button kind="header">Stop</button></div></div>';
  document.querySelector('[data-testid="stToolbar"]').appendChild(widget);
  const shown = (e) => getComputedStyle(e).display !== "none" && e.offsetParent !== null;
  const result = {
    icon: shown(widget.querySelector('[data-testid="stStatusWidgetRunningIcon"]')),
    stop: shown(widget.querySelector("button")),
  };
  widget.remove();
  return result;
}"""


def test_the_running_status_shows_no_english_stop_button(page, app_server):
    page.goto(app_server.url)
    page.get_by_label("用户名").wait_for(timeout=60_000)
    assert page.evaluate(_SHOWN) == {"icon": True, "stop": False}  # signed out already
    sign_in_form(page, app_server.url, ADMIN)
    # drawn after the rule in the same run; the page's own buttons are not touched by it
    page.get_by_role("button", name="退出登录").wait_for(timeout=60_000)
    # the signed-in run's elements replace the sign-in run's one by one: wait for the rule
    page.wait_for_function(f"() => !({_SHOWN})().stop", timeout=30_000)
    assert page.evaluate(_SHOWN) == {"icon": True, "stop": False}
