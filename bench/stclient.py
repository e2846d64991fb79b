"""A Streamlit session without a browser: Streamlit's own websocket protocol, for load tests.

A browser tab speaks to a Streamlit server over one websocket (``/_stcore/stream``): it
sends ``BackMsg`` (rerun the script with these widget values, on this page) and receives
``ForwardMsg`` (the page's elements as deltas, then ``script_finished``). ``Session`` does
the same with the protobuf classes Streamlit ships, so a hundred sessions cost a hundred
sockets instead of a hundred Chromium tabs. What it measures is the server's side of a page
(from the request to the last element sent, including the transfer); drawing in a browser
is not included, and a load report must say so.

Widgets are found by their ``key`` (the end of Streamlit's element id), values are set as
the browser would send them (a selectbox's formatted option text, a multiselect's list of
them, a toggle's bool, a button's trigger).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

_VALUE_FIELDS = {
    "selectbox": "string_value",
    "radio": "string_value",
    "text_input": "string_value",
    "text_area": "string_value",
    "multiselect": "string_array_value",
    "checkbox": "bool_value",
    "button": "trigger_value",
    "form_submit_button": "trigger_value",
    "date_input": "string_array_value",
    "number_input": "double_value",
    "time_input": "string_value",
}


@dataclass
class Widget:
    """A widget seen on the last page: its element type, label, options (if any)."""

    id: str
    kind: str
    label: str
    options: list[str] = field(default_factory=list)


@dataclass
class Page:
    """The result of one script run as the session received it."""

    seconds: float
    bytes: int
    status: int  # ScriptFinishedStatus (0 = finished successfully)
    widgets: dict[str, Widget]
    texts: list[str]  # markdown/text/headings/alerts shown, for checks
    exceptions: list[str]
    pages: dict[str, str]  # url path -> page script hash


class Session:
    """One simulated browser tab of a Streamlit app at ``url`` (``http://host:port``)."""

    def __init__(self, url: str, cookies: dict[str, str] | None = None) -> None:
        self.url = url.rstrip("/")
        self.cookies = dict(cookies or {})
        self.ws = None
        self.states: dict[str, WidgetState] = {}
        self.widgets: dict[str, Widget] = {}
        self.pages: dict[str, str] = {}
        self.page_hash = ""

    async def __aenter__(self) -> Session:
        headers = {}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        self.ws = await websockets.connect(
            self.url.replace("http", "ws", 1) + "/_stcore/stream",
            subprotocols=["streamlit"],
            additional_headers=headers,
            max_size=None,
            open_timeout=60,
            ping_interval=None,
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.ws is not None:
            await self.ws.close()

    def widget(self, key: str) -> Widget:
        """The widget whose key is ``key`` on the last page (KeyError when absent)."""
        for widget_id, widget in self.widgets.items():
            if widget_id.endswith(f"-{key}"):
                return widget
        raise KeyError(key)

    def set(self, key: str, value: object) -> None:
        """Give widget ``key`` a value for the next run (as the browser would send it)."""
        widget = self.widget(key)
        state = WidgetState(id=widget.id)
        kind = _VALUE_FIELDS.get(widget.kind)
        if kind == "string_array_value":
            state.string_array_value.data.extend([str(v) for v in value])  # type: ignore[union-attr]
        elif kind is None:
            raise ValueError(f"cannot set a {widget.kind} widget")
        else:
            setattr(state, kind, value)
        self.states[widget.id] = state

    async def run(self, page: str | None = None, timeout: float = 120.0) -> Page:
        """Rerun the script (on page ``page``: a url path, '' for the default) with the widget
        values set so far; returns once the script has finished. Triggers fire once."""
        message = BackMsg()
        rerun = message.rerun_script
        rerun.query_string = ""
        if page is not None:
            self.page_hash = self.pages.get(page, "")
            rerun.page_name = page
        rerun.page_script_hash = self.page_hash
        rerun.widget_states.widgets.extend(self.states.values())
        start = time.perf_counter()
        await self.ws.send(message.SerializeToString())
        # a trigger (button) is true for one run only, as in the browser
        self.states = {k: v for k, v in self.states.items() if not v.HasField("trigger_value")}
        received = 0
        widgets: dict[str, Widget] = {}
        texts: list[str] = []
        exceptions: list[str] = []
        while True:
            raw = await asyncio.wait_for(self.ws.recv(), timeout)
            received += len(raw)
            forward = ForwardMsg()
            forward.ParseFromString(raw)
            kind = forward.WhichOneof("type")
            if kind == "navigation":
                self.pages = {
                    p.url_pathname: p.page_script_hash for p in forward.navigation.app_pages
                }
                self.page_hash = forward.navigation.page_script_hash or self.page_hash
            elif kind == "delta" and forward.delta.WhichOneof("type") == "new_element":
                _collect(forward.delta.new_element, widgets, texts, exceptions)
            elif kind == "script_finished":
                seconds = time.perf_counter() - start
                self.widgets = widgets
                return Page(
                    round(seconds, 4),
                    received,
                    int(forward.script_finished),
                    widgets,
                    texts,
                    exceptions,
                    dict(self.pages),
                )


def _collect(element, widgets: dict[str, Widget], texts: list[str], exceptions: list[str]) -> None:
    kind = element.WhichOneof("type")
    body = getattr(element, kind)
    if kind == "exception":
        exceptions.append(f"{body.type}: {body.message}")
        return
    if kind in ("markdown", "text", "heading", "alert", "metric"):
        texts.append(getattr(body, "body", "") or getattr(body, "label", ""))
    widget_id = getattr(body, "id", "") if hasattr(body, "id") else ""
    if widget_id:
        options = list(getattr(body, "options", [])) if hasattr(body, "options") else []
        widgets[widget_id] = Widget(widget_id, kind, getattr(body, "label", ""), options)
