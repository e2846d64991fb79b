"""Browser test of the coverage page's visit form (marker ``browser``): a table row picks the
household; after a save nothing is picked or filled in. Offline, as every browser test."""

import pytest
from conftest import ADMIN
from signin import sign_in_form

from geo.store import open_store

pytestmark = pytest.mark.browser

HOUSEHOLD_INPUT = 'input[aria-label="户编号"]'
_WATCH_RUNS = """() => {
  window.__gmSawRun = false;
  const app = document.querySelector('[data-testid="stApp"]');
  new MutationObserver(() => {
    if (app.getAttribute('data-test-script-state') === 'running') window.__gmSawRun = true;
  }).observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
}"""
_RUN_DONE = """() => window.__gmSawRun && !['running', 'rerunRequested'].includes(
  document.querySelector('[data-testid="stApp"]').getAttribute('data-test-script-state'))"""


def rerun_after(page, action) -> None:
    """Do ``action`` (which reruns the script) and wait until that rerun has finished."""
    page.evaluate(_WATCH_RUNS)
    action()
    page.wait_for_function(_RUN_DONE, timeout=60_000)


def test_after_logging_a_visit_nothing_is_picked_or_filled_in(page, app_server):
    store = open_store(app_server.location)
    sign_in_form(page, app_server.url, ADMIN)
    page.get_by_role("link", name="覆盖与走访").click()
    worklist = page.locator(
        'xpath=//h3[contains(., "走访工作清单")]/following::*[@data-testid="stDataFrame"][1]'
    )
    worklist.wait_for(timeout=60_000)
    worklist.scroll_into_view_if_needed()
    box = worklist.bounding_box()
    # tick the first row (the selection column at the left of the first body row)
    rerun_after(page, lambda: page.mouse.click(box["x"] + 18, box["y"] + 35 + 17))
    household = page.locator(HOUSEHOLD_INPUT).input_value()
    assert household.startswith("H")
    visits = store.read("visits", ["household_id"], where={"household_id": household})

    rerun_after(page, lambda: page.get_by_role("button", name="登记走访").click())
    page.locator('[data-testid="stAlertContentSuccess"]', has_text=household).wait_for()
    assert page.locator(HOUSEHOLD_INPUT).input_value() == ""
    after = store.read("visits", ["household_id"], where={"household_id": household})
    assert len(after) == len(visits) + 1
    # a second click records nothing: there is no household to record
    total = store.count("visits")
    rerun_after(page, lambda: page.get_by_role("button", name="登记走访").click())
    assert page.locator(HOUSEHOLD_INPUT).input_value() == ""
    assert store.count("visits") == total
