"""gridmap's web server: the Streamlit app (app.py) plus the routes of the session cookie.

Run: ``gridmap serve``, or ``streamlit run server.py`` (Streamlit finds ``app`` below and
serves it). Compared with ``streamlit run app.py`` this adds what a deployment needs:

- ``/_gridmap/signin`` and ``/_gridmap/signout`` (``ui.web``): a secure, http-only session
  cookie, so a sign-in survives a refresh and a new tab;
- ``on_script_error``: an unexpected error shows a short message with a reference; the
  trace goes to the server log (``ui.errors``);
- the app's own navigation from the very first request (``ui.navigation``): Streamlit's
  legacy ``pages/`` routing is off before any session starts.
"""

import logging

import streamlit as st

from ui import errors, web
from ui.navigation import disable_legacy_pages_routing

# the error log: one line per error with its reference, then the trace (stderr: the server log)
_handler = logging.StreamHandler()
_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
logging.getLogger("gridmap").addHandler(_handler)

disable_legacy_pages_routing()

app = st.App("app.py", routes=web.routes(), on_script_error=errors.on_script_error)
