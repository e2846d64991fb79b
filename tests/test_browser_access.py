"""Browser tests of access (marker ``browser``): what reaches a planner's and a grid worker's browser.

Everything the server sends is captured twice: the websocket frames (Streamlit's protobuf
messages, the map script included) and the HTML of the map iframe.
"""

import pytest
from test_browser import MAP_IFRAME, READY, open_map

from geo.access.privacy import mask_name
from geo.i18n import catalogue
from geo.store import open_store

pytestmark = pytest.mark.browser


def capture_frames(page) -> list[bytes]:
    """Every websocket frame the page receives from now on, as bytes."""
    frames: list[bytes] = []

    def on_socket(socket) -> None:
        socket.on(
            "framereceived",
            lambda payload: frames.append(
                payload if isinstance(payload, bytes) else payload.encode("utf-8")
            ),
        )

    page.on("websocket", on_socket)
    return frames


def personal_texts(location: str) -> tuple[list[str], list[str]]:
    """(household ids, full and masked names and phones) of the demo store."""
    households = open_store(location).read_attributes(
        "households", ["household_id", "head_name", "phone"]
    )
    # a two-character name can occur inside UI text ("属于敏感" holds 于敏): those are no evidence
    ui_text = " ".join(text for entry in catalogue().values() for text in entry.values())
    names = [n for n in households["head_name"].dropna() if len(n) >= 2 and n not in ui_text]
    masked = sorted({mask_name(n) for n in names})
    return households["household_id"].tolist(), names + masked + households[
        "phone"
    ].dropna().tolist()


def test_the_page_sent_to_a_planner_holds_no_household_data(page, app_server, tmp_path):
    frames = capture_frames(page)
    frame = open_map(page, app_server.url, app_server.location, "planner")
    page.get_by_text("各网格汇总").first.wait_for(timeout=30_000)
    stats = frame.evaluate("window.gridmapStats")
    assert stats["markers"] == 0
    assert stats["grids"] == open_store(app_server.location).count("grids")
    page.screenshot(path=str(tmp_path / "planner.png"), full_page=True)

    ids, personal = personal_texts(app_server.location)
    html = frame.content()
    received = b"".join(frames)
    assert len(received) > 10_000 and "gridmapDraw" in received.decode("utf-8", "replace")
    assert b"H000" not in received and "H000" not in html  # demo ids are H0000001 ...
    assert not any(i in html for i in ids)
    # household coordinates travel as the payload's "x"/"y" offsets: there are none
    assert '"x":[]' in html and '"y":[]' in html
    text = received.decode("utf-8", "replace") + html
    leaked = [p for p in personal if p in text]
    assert leaked == []


def test_a_grid_workers_map_shows_only_their_grid(page, app_server):
    store = open_store(app_server.location)
    grid = store.read_attributes("grids", ["grid_id"])["grid_id"].iloc[3]
    frames = capture_frames(page)
    frame = open_map(
        page,
        app_server.url,
        app_server.location,
        "grid_worker",
        name="test_worker_browser",
        grids=[grid],
    )
    households = store.read_attributes("households", ["household_id", "grid_id"])
    own = households.loc[households["grid_id"] == grid, "household_id"]
    others = households.loc[households["grid_id"] != grid, "household_id"]
    frame.wait_for_function(f"window.gridmapStats.markers === {len(own)}", timeout=30_000)
    assert frame.evaluate("window.gridmapStats.grids") == 1
    html = frame.content()
    received = b"".join(frames).decode("utf-8", "replace")
    assert all(i in html for i in own)
    assert not any(i in html or i in received for i in others)


def test_wrong_password_is_refused_in_the_browser(page, app_server):
    from signin import sign_in_form

    sign_in_form(page, app_server.url, "test_admin", "wrong password!")
    page.get_by_text("用户名或密码错误，或账号因连续登录失败已暂时锁定").wait_for(timeout=30_000)
    assert page.locator(MAP_IFRAME).count() == 0
    assert READY  # the map never loads for a refused sign-in
