"""A demo store whose every text field holds markup: links, images, raw HTML, autolinks.

Shared by the AppTest and the browser tests of "data is shown as text". Each payload
names ``evil.example`` (so an escape that failed shows as a live link, an image fetched
or a request leaving the machine) or calls ``alert`` (so a script that ran shows as a
JavaScript dialog).
"""

from __future__ import annotations

import re

from signin import ensure_user

from geo.demo.build import build_demo
from geo.store import open_store

PAYLOADS = [
    "[点我登录](https://evil.example/phish) ![t](http://evil.example/track.png)",
    "<script>alert('x1')</script>",
    "<img src=x onerror=alert('x2')>",
    "https://evil.example/auto www.evil.example mail@evil.example",
    ":red[**警告**] $x^2$ `code` ~~del~~ :material/home: <a href='https://evil.example'>a</a>",
]
GRID_ID = "G1[x](https://evil.example/g)"
COMMUNITY = "[社区](https://evil.example/c)"
STREET = "<img src=x onerror=alert('s')>街道"
HOUSEHOLD_ID = "H<img src=x onerror=alert('h')>"
ADMIN = "adm[x](https://evil.example/u)"  # an account name is data too
WORKER = "worker_hostile"
CLERK = "clerk_hostile"
PLANNER = "planner_hostile"

# markup that survived escaping in a Markdown body (escaped, each character is "\x")
UNESCAPED = re.compile(
    r"evil\.example|www\.evil|(?<!\\)<(?:script|img|a\b)|(?<!\\)\]\(|(?<!\\)!\[|(?<!\\):red|(?<!\\)\$x"
)
ESCAPED = "evil\\.example"  # how a payload reads once escaped: the data did reach the page


def payload(i: int) -> str:
    """The i-th payload (cycling)."""
    return PAYLOADS[i % len(PAYLOADS)]


def build_hostile_store(location: str, households: int = 300) -> str:
    """A demo store at ``location`` with markup in every text field; accounts for each role."""
    store = open_store(location)
    build_demo(store, households=households)
    grids = store.read("grids")
    old_id = grids["grid_id"].iloc[0]
    first_community = grids["community"].iloc[0]
    grids["grid_id"] = grids["grid_id"].replace(old_id, GRID_ID)
    grids["community"] = grids["community"].replace(first_community, COMMUNITY)
    grids["street"] = STREET
    grids["name"] = [f"{g}{payload(i)}" for i, g in enumerate(grids["name"].fillna(""))]
    # a grid without a party branch or worker appears in the coverage warnings by name
    grids["party_branch"] = [None if i % 4 == 3 else payload(i) for i in range(len(grids))]

    def regrid(frame):
        frame["grid_id"] = frame["grid_id"].replace(old_id, GRID_ID)
        return frame

    households_frame = regrid(store.read("households"))
    households_frame["household_id"] = households_frame["household_id"].replace(
        households_frame["household_id"].iloc[0], HOUSEHOLD_ID
    )
    for column in ("address", "building", "head_name"):
        households_frame[column] = [payload(i + len(column)) for i in range(len(households_frame))]
    households_frame.loc[households_frame.index[-2:], "grid_id"] = None  # unassigned: listed
    staff = regrid(store.read("staff"))
    staff["name"] = [payload(i) for i in range(len(staff))]
    staff["department"] = [payload(i + 1) for i in range(len(staff))]
    reports = regrid(store.read("reports"))
    reports["category"] = [payload(i) for i in range(len(reports))]
    reports["description"] = [payload(i + 2) for i in range(len(reports))]
    reports["reporter_id"] = [payload(i + 3) for i in range(len(reports))]
    steps = store.read("report_steps")
    steps["note"] = [payload(i) for i in range(len(steps))]
    steps["actor"] = [payload(i + 1) for i in range(len(steps))]
    visits = store.read("visits")
    visits["note"] = [payload(i) for i in range(len(visits))]
    boundary = store.read("boundary")
    if len(boundary):
        boundary["name"] = STREET
    with store.transaction() as tx:
        tx.replace("grids", grids)
        tx.replace("households", households_frame)
        tx.replace("staff", staff)
        tx.replace("reports", reports)
        tx.replace("report_steps", steps)
        tx.replace("visits", visits)
        if len(boundary):
            tx.replace("boundary", boundary)
    ensure_user(location, ADMIN, "admin")
    ensure_user(location, CLERK, "community_staff", community=COMMUNITY)
    ensure_user(location, WORKER, "grid_worker", grids=[GRID_ID])
    ensure_user(location, PLANNER, "planner")
    return location
