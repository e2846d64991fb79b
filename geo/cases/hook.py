"""The outgoing notification hook: tell an SMS gateway or WeChat Work bot on the intranet that
a case nears its limit.

The deployment configures either a command (argv, run without a shell; ``{case_id}`` and
``{owner_id}`` in its arguments are replaced, and the same two values arrive as JSON on its
standard input) or a URL that receives ``POST {"case_id": ..., "owner_id": ...}``. Nothing
else is ever sent: no name, phone, address or description. By default the URL's host must
be loopback or a private (intranet) address, so a mistyped URL cannot carry case ids out.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import subprocess
import urllib.error
import urllib.parse
import urllib.request

from geo.cases.rules import CaseError
from geo.cases.settings import HookSettings

PAYLOAD_KEYS = ("case_id", "owner_id")
MAX_ID_CHARS = 200
_DETAIL_CHARS = 300  # of a failing hook's output kept for the log


class HookError(CaseError):
    """The hook could not be called or answered with a failure; nothing counts as sent."""


def hook_payload(case_id: str, owner_id: str) -> dict[str, str]:
    """The only data a hook receives: the case id and the owner id (``kind:id``)."""
    case_id, owner_id = str(case_id), str(owner_id)
    if len(case_id) > MAX_ID_CHARS or len(owner_id) > MAX_ID_CHARS:
        raise HookError("case_hook_id_too_long", max=MAX_ID_CHARS)
    return {"case_id": case_id, "owner_id": owner_id}


def _private(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    return ip.is_loopback or ip.is_private or ip.is_link_local


def check_hook_url(url: str, allow_public_hosts: bool = False) -> None:
    """Refuse a URL that is not http(s), or whose host is not loopback/private (unless allowed)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise HookError("case_hook_bad_url", url=url[:MAX_ID_CHARS])
    if allow_public_hosts:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 80, proto=socket.IPPROTO_TCP)
    except OSError as error:
        raise HookError("case_hook_unreachable", detail=str(error)[:_DETAIL_CHARS]) from None
    public = sorted({info[4][0] for info in infos if not _private(info[4][0])})
    if public:
        raise HookError("case_hook_public_host", host=parts.hostname, addresses=", ".join(public))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is a failure: the payload goes to the configured URL or nowhere."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001, ANN201
        raise urllib.error.HTTPError(req.full_url, code, f"redirect to {newurl}", headers, fp)


def _post(hook: HookSettings, payload: dict[str, str]) -> None:
    check_hook_url(hook.url, hook.allow_public_hosts)
    request = urllib.request.Request(
        hook.url,
        data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
        headers={"Content-Type": "application/json; charset=utf-8"},
        method="POST",
    )
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=hook.timeout_seconds) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        raise HookError("case_hook_http_status", status=error.code) from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise HookError("case_hook_unreachable", detail=str(reason)[:_DETAIL_CHARS]) from None
    if not 200 <= status < 300:
        raise HookError("case_hook_http_status", status=status)


def _run(hook: HookSettings, payload: dict[str, str]) -> None:
    argv = [
        arg.replace("{case_id}", payload["case_id"]).replace("{owner_id}", payload["owner_id"])
        for arg in hook.command
    ]
    try:
        done = subprocess.run(  # noqa: S603 - argv from the deployment's configuration, no shell
            argv,
            input=json.dumps(payload, ensure_ascii=False),
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=hook.timeout_seconds,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise HookError("case_hook_timeout", seconds=f"{hook.timeout_seconds:g}") from None
    except OSError as error:
        raise HookError("case_hook_unreachable", detail=str(error)[:_DETAIL_CHARS]) from None
    if done.returncode != 0:
        detail = (done.stderr or done.stdout or "").strip()[-_DETAIL_CHARS:]
        raise HookError("case_hook_command_failed", code=done.returncode, detail=detail)


def call_hook(hook: HookSettings, case_id: str, owner_id: str) -> None:
    """Notify ``owner_id`` that case ``case_id`` nears its limit; HookError when it fails."""
    if not hook.configured:
        raise HookError("case_hook_not_configured")
    payload = hook_payload(case_id, owner_id)
    if hook.command:
        _run(hook, payload)
    else:
        _post(hook, payload)
