"""gridmap: page config, navigation and the shared sidebar. Run: streamlit run app.py"""

import streamlit as st

from geo.i18n import t
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

navigation = st.navigation(
    [st.Page(path, title=t(title, lang())) for path, title in PAGES]
)
render_sidebar()
navigation.run()
