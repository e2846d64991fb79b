"""The pages ``st.navigation`` gets in app.py: every URL lands on a page of ours.

Signed out, every known page path is the sign-in form (which then opens the page the URL
named); signed in, the viewer's pages (the aggregate form in place of row-level pages for
planner and meeting accounts, and in meeting mode). A known path the viewer may not open,
``/map`` (the default page's own name) and any other single-segment path get a hidden page
of their own, so Streamlit's English "Page not found" dialog never shows.

Streamlit keeps its legacy ``pages/`` directory routing until some session has run an
``st.navigation``: on a freshly started server the first request for ``/reports`` would
run ``pages/reports.py`` alone. server.py switches that off at start-up
(``disable_legacy_pages_routing``); every page file also calls ``use_app_navigation``
(``ui.auth.location``), in case the app was started without server.py.
"""

from __future__ import annotations

import re
import types
from collections.abc import Callable
from pathlib import Path

import streamlit as st

from geo.i18n import t
from ui.session import lang

DEFAULT_PATH = "map"  # the default page's own name: /map opens the default page ("/")
_EXTRA_KEY = "nav_unknown_path"  # a URL path that names no page, asked for in this session
_PATH = re.compile(r"[^/\\\x00-\x1f\x7f]{1,100}")  # what a page path may be (one segment)


def disable_legacy_pages_routing() -> None:
    """Route every request through app.py's ``st.navigation`` from now on (server start-up)."""
    from streamlit.runtime.pages_manager import PagesManager

    # a class attribute: None until the first session decides from the pages/ folder, and
    # set to False by Streamlit itself once any session has called st.navigation
    PagesManager.uses_pages_directory = False


def use_app_navigation() -> None:
    """In a page file: run app.py instead when Streamlit's legacy routing started the page.

    Returns when the run is app.py's own. Otherwise turns the legacy routing off, runs
    app.py in this same run (its navigation resolves the same page, now inside the app's
    sign-in, sidebar and error handling; widget events of this run are kept, which a rerun
    would drop) and stops the page file that the legacy routing started. In a widget
    callback it only turns the routing off: the page itself follows.
    """
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.runtime.scriptrunner import get_script_run_ctx
    from streamlit.runtime.scriptrunner_utils.script_run_context import RunLocation, ThreadState

    if not PagesManager.uses_pages_directory:
        return
    disable_legacy_pages_routing()
    ctx = get_script_run_ctx()
    if ctx is None or ThreadState.get().run_location is RunLocation.CALLBACK:
        return
    entry = ctx.pages_manager.main_script_path
    module = types.ModuleType("__main__")
    module.__dict__["__file__"] = entry
    exec(ctx.pages_manager.get_page_script_byte_code(entry), module.__dict__)  # noqa: S102
    st.stop()


def requested_path() -> str:
    """The page path the browser asked for in this run ('' for none, or a widget rerun)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    name = ctx.pages_manager.intended_page_name if ctx is not None else None
    return name or ""


def page_path(file: str) -> str:
    """The URL path of a page file (its stem), as Streamlit names it."""
    return Path(file).stem


def _extra_paths(known: list[str]) -> list[str]:
    """The requested path when it names no page here but can be one (a single segment).

    Kept in the session: a rerun (after signing in) asks by page hash, not by name.
    """
    wanted = requested_path() or st.session_state.get(_EXTRA_KEY, "")
    if wanted and wanted not in known and wanted != DEFAULT_PATH and _PATH.fullmatch(wanted):
        st.session_state[_EXTRA_KEY] = wanted
        return [wanted]
    return []


def signed_out_pages(paths: list[str], sign_in: Callable[[str], Callable[[], None]]) -> list:
    """One sign-in page per page path (``sign_in(path)`` draws the form, then opens ``path``)."""
    title = t("auth_title", lang())
    pages = [st.Page(sign_in(""), title=title, url_path="", default=True)]
    for path in [DEFAULT_PATH, *paths, *_extra_paths(paths)]:
        target = "" if path == DEFAULT_PATH else path  # an unknown one: says so once signed in
        pages.append(st.Page(sign_in(target), title=title, url_path=path, visibility="hidden"))
    return pages


def signed_in_pages(
    pages: list,
    default: st.Page,
    unavailable: dict[str, str],
    all_paths: list[str],
    default_path: str = DEFAULT_PATH,
) -> list:
    """The viewer's ``pages`` (``default`` first), plus hidden pages for every other path.

    ``unavailable``: page path -> title key of pages this viewer may not open (a notice);
    ``default_path`` (the default page's own name, ``/map`` unless the role's home is
    another page) reopens the default page; an unknown path says so, with a link home.
    """
    current = lang()
    out = [default, *pages]
    out.append(
        st.Page(_go_to(default), title=default.title, url_path=default_path, visibility="hidden")
    )
    for path, title_key in unavailable.items():
        out.append(
            st.Page(
                _notice(title_key, "nav_not_for_role", default),
                title=t(title_key, current),
                url_path=path,
                visibility="hidden",
            )
        )
    for path in _extra_paths(all_paths):
        out.append(
            st.Page(
                _notice("nav_not_found_title", "nav_not_found", default),
                title=t("nav_not_found_title", current),
                url_path=path,
                visibility="hidden",
            )
        )
    return out


def _go_to(page: st.Page) -> Callable[[], None]:
    def go() -> None:
        st.switch_page(page)

    go.__name__ = "go_to_default"
    return go


def _notice(title_key: str, text_key: str, home: st.Page) -> Callable[[], None]:
    """A page that says why there is nothing here, with a link to the default page."""

    def page() -> None:
        current = lang()
        st.title(t(title_key, current))
        st.info(t(text_key, current))
        st.page_link(home, label=t("nav_home", current))

    page.__name__ = f"notice_{text_key}"
    return page
