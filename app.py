"""gridmap: page config, sign-in, navigation and the shared sidebar.

Run: ``gridmap serve`` (or ``streamlit run server.py``: the same app plus the session cookie).
"""

import streamlit as st

from geo.i18n import t
from ui import errors, session
from ui.aggregate import aggregate_page
from ui.auth import current_viewer, sign_in_page_for
from ui.chrome import style_status_widget
from ui.mapview import setup_map_assets
from ui.navigation import page_path, signed_in_pages, signed_out_pages
from ui.session import lang
from ui.sidebar import render_sidebar

# no page/menu icons: Material icons are fetched from fonts.gstatic.com, and nothing may leave the machine
st.set_page_config(page_title=t("app_title", lang()), layout="wide")
setup_map_assets()
style_status_widget()  # no English "Stop" in the toolbar while a page runs

# Later pages register here: (file, title key), at their default URL paths (/map, /reports, ...).
PAGES = [
    ("pages/map.py", "ui_page_map"),
    ("pages/reports.py", "ui_page_reports"),
    ("pages/cases.py", "ui_page_cases"),
    ("pages/coverage.py", "ui_page_coverage"),
    ("pages/weekly.py", "ui_page_weekly"),
    ("pages/today.py", "ui_page_today"),
    ("pages/verify.py", "ui_page_verify"),
    ("pages/snap.py", "ui_page_snap"),
    ("pages/data.py", "ui_page_data"),
    ("pages/accounts.py", "ui_page_accounts"),
    ("pages/new_employment.py", "ui_page_new_employment"),
]
ADMIN_PAGES = [("pages/audit.py", "ui_page_audit")]
# roles that see a few pages only, the first one their home page: a department account works
# its cases on the case desk and changes its password (its scope holds no grid, household or
# other report, so the map and the other pages would only be empty)
ROLE_PAGES = {"department": ("pages/cases.py", "pages/accounts.py")}
# pages with their own aggregate form; the others are replaced by ui.aggregate for
# planner/meeting accounts and in meeting mode (their household and report rows are never loaded)
# (accounts holds no rows: everyone changes their own password there; the new-employment page
# loads no worker row when aggregate)
AGGREGATE_FORMS = {
    "pages/map.py",
    "pages/coverage.py",
    "pages/weekly.py",
    "pages/accounts.py",
    "pages/new_employment.py",
}
# every page's URL path but the default page's ("/"): a shared link to any of them works
PATHS = [page_path(path) for path, _ in PAGES[1:] + ADMIN_PAGES]

with errors.reported():  # no traceback reaches a browser: a message and a reference instead
    # sign-in before any page runs: until then every URL is the sign-in form
    viewer = current_viewer(session.store_location())
    if viewer is None:
        render_sidebar()
        navigation = st.navigation(signed_out_pages(PATHS, sign_in_page_for), position="hidden")
    else:
        effective = session.viewer()  # the meeting switch applied
        pages = []
        allowed = PAGES + (ADMIN_PAGES if viewer.role == "admin" else [])
        if viewer.role in ROLE_PAGES:
            allowed = [page for page in PAGES if page[0] in ROLE_PAGES[viewer.role]]
            allowed.sort(key=lambda page: ROLE_PAGES[viewer.role].index(page[0]))
        home = allowed[0][0]
        for path, title in allowed:
            if effective.aggregates_only and path not in AGGREGATE_FORMS:
                page = st.Page(
                    aggregate_page(title), title=t(title, lang()), url_path=page_path(path)
                )
            elif path == home:  # the default page lives at "/"
                page = st.Page(path, title=t(title, lang()), url_path="", default=True)
            else:
                page = st.Page(path, title=t(title, lang()))
            pages.append(page)
        refused = {
            page_path(p): title for p, title in PAGES + ADMIN_PAGES if (p, title) not in allowed
        }
        navigation = st.navigation(
            signed_in_pages(pages[1:], pages[0], refused, PATHS, page_path(home))
        )
        render_sidebar(viewer)
    navigation.run()
