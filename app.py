"""gridmap: page config, sign-in, navigation and the shared sidebar. Run: streamlit run app.py"""

from pathlib import Path

import streamlit as st

from geo.i18n import t
from ui import session
from ui.aggregate import aggregate_page
from ui.auth import current_viewer, sign_in_page
from ui.mapview import setup_map_assets
from ui.session import lang
from ui.sidebar import render_sidebar

# no page/menu icons: Material icons are fetched from fonts.gstatic.com, and nothing may leave the machine
st.set_page_config(page_title=t("app_title", lang()), layout="wide")
setup_map_assets()

# Later pages register here: (file, title key), at their default URL paths (/map, /reports, ...).
PAGES = [
    ("pages/map.py", "ui_page_map"),
    ("pages/reports.py", "ui_page_reports"),
    ("pages/coverage.py", "ui_page_coverage"),
    ("pages/weekly.py", "ui_page_weekly"),
]
ADMIN_PAGES = [("pages/audit.py", "ui_page_audit")]
# pages with their own aggregate form; the others are replaced by ui.aggregate for
# planner/meeting accounts and in meeting mode (their household and report rows are never loaded)
AGGREGATE_FORMS = {"pages/map.py", "pages/coverage.py", "pages/weekly.py"}

# sign-in before any page runs: until then the sign-in form is the only page there is
viewer = current_viewer(session.store_location())
if viewer is None:
    render_sidebar()
    navigation = st.navigation(
        [st.Page(sign_in_page, title=t("auth_title", lang()), url_path="signin", default=True)],
        position="hidden",
    )
else:
    effective = session.viewer()  # the meeting switch applied
    pages = []
    for path, title in PAGES + (ADMIN_PAGES if viewer.role == "admin" else []):
        if effective.aggregates_only and path not in AGGREGATE_FORMS:
            pages.append(
                st.Page(aggregate_page(title), title=t(title, lang()), url_path=Path(path).stem)
            )
        else:
            pages.append(st.Page(path, title=t(title, lang())))
    navigation = st.navigation(pages)
    render_sidebar(viewer)
navigation.run()
