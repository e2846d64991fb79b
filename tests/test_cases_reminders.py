"""Reminders: the cases nearing their limit, each reminded once, through a hook that is given
the case id and the owner id only (tested against a local HTTP stub and a stub command)."""

import datetime as dt
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pytest

from geo.cases.hook import HookError, call_hook, check_hook_url, hook_payload
from geo.cases.limits import case_clock
from geo.cases.reminders import REMINDER_COLUMNS, reminders_due, send_reminders
from geo.cases.settings import HookSettings, case_settings
from geo.cases.timeline import empty_events, event_row

SETTINGS = case_settings()
AS_OF = dt.date(2026, 11, 24)  # judged at the end of 11-24


@pytest.fixture
def reports() -> pd.DataFrame:
    """R1 nears its limit (10 h left), R2 has 30 h left, R3 is overdue, R4 nears but has no
    owner, R5 nears but is resolved. Descriptions and phones are there to be left out."""
    return pd.DataFrame(
        {
            "report_id": ["R1", "R2", "R3", "R4", "R5"],
            "reported_at": [
                "2026-11-20 10:00:00",
                "2026-11-21 06:00:00",
                "2026-11-19 08:00:00",
                "2026-11-20 10:00:00",
                "2026-11-20 10:00:00",
            ],
            "resolved_at": [None, None, None, None, "2026-11-24 09:00:00"],
            "owner_kind": ["staff", "staff", "department", None, "staff"],
            "owner_id": ["S1", "S2", "police", None, "S1"],
            "description": ["楼下垃圾", "x", "y", "z", "w"],
            "phone": ["13800001111"] * 5,
        }
    )


def _none_sent() -> pd.DataFrame:
    return pd.DataFrame(columns=list(REMINDER_COLUMNS))


def test_only_open_owned_cases_nearing_their_limit(reports):
    clock = case_clock(reports, empty_events(), SETTINGS, AS_OF)
    due = reminders_due(reports, clock, _none_sent())
    assert due.to_dict("records") == [
        {
            "report_id": "R1",
            "due_at": "2026-11-25 10:00:00",
            "owner_kind": "staff",
            "owner_id": "S1",
        }
    ]


def test_each_limit_is_reminded_once_and_an_extension_arms_a_new_one(reports):
    calls = []
    clock = case_clock(reports, empty_events(), SETTINGS, AS_OF)
    first = send_reminders(
        reminders_due(reports, clock, _none_sent()),
        lambda c, o: calls.append((c, o)),
        dt.datetime(2026, 11, 24, 8),
    )
    assert calls == [("R1", "staff:S1")] and first["status"].tolist() == ["sent"]
    # the next run finds it recorded: nothing to send
    assert reminders_due(reports, clock, first).empty
    # an extension of 24 h moves R1's limit to 11-26 10:00: on 11-25 it nears that one
    events = pd.DataFrame(
        [
            event_row(
                "R1",
                2,
                "extended",
                dt.datetime(2026, 11, 24, 12),
                "街道刘",
                "street_leader",
                dt.datetime(2026, 11, 24, 12),
                hours=24,
                reason="x",
            )
        ]
    )
    later = case_clock(reports, events, SETTINGS, dt.date(2026, 11, 25))
    again = reminders_due(reports, later, first)
    assert again[["report_id", "due_at"]].values.tolist() == [
        ["R2", "2026-11-26 06:00:00"],  # R2's first reminder, now nearing too
        ["R1", "2026-11-26 10:00:00"],
    ]


def test_a_failed_reminder_is_tried_again(reports):
    clock = case_clock(reports, empty_events(), SETTINGS, AS_OF)

    def broken(case_id, owner_id):
        raise HookError("case_hook_http_status", status=503)

    failed = send_reminders(
        reminders_due(reports, clock, _none_sent()), broken, dt.datetime(2026, 11, 24, 8)
    )
    assert (
        failed["status"].tolist() == ["failed"]
        and failed["detail"].iloc[0] == "提醒通知接口返回了错误状态 503"  # the catalogue's
    )
    assert reminders_due(reports, clock, failed)["report_id"].tolist() == ["R1"]


def test_payload_is_the_case_id_and_owner_id_only():
    assert hook_payload("R1", "staff:S1") == {"case_id": "R1", "owner_id": "staff:S1"}
    with pytest.raises(HookError):
        hook_payload("R" * 500, "staff:S1")


class _Stub(BaseHTTPRequestHandler):
    """Records every POST; answers with the status the test sets."""

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append((self.path, self.headers["Content-Type"], body))
        if self.server.status == 302:
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.1:9/elsewhere")
        else:
            self.send_response(self.server.status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def stub():
    """A local HTTP stub on a free port (stopped after the test)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Stub)
    server.received, server.status = [], 200
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_http_hook_posts_once_per_reminder(stub, reports):
    hook = HookSettings(url=f"http://127.0.0.1:{stub.server_port}/notify", timeout_seconds=5)
    clock = case_clock(reports, empty_events(), SETTINGS, AS_OF)
    due = reminders_due(reports, clock, _none_sent())
    sent = send_reminders(due, lambda c, o: call_hook(hook, c, o), dt.datetime(2026, 11, 24, 8))
    assert sent["status"].tolist() == ["sent"]
    # a second run: already sent, the stub hears nothing more
    send_reminders(
        reminders_due(reports, clock, sent),
        lambda c, o: call_hook(hook, c, o),
        dt.datetime(2026, 11, 24, 9),
    )
    assert len(stub.received) == 1
    path, content_type, body = stub.received[0]
    assert path == "/notify" and content_type.startswith("application/json")
    assert json.loads(body) == {"case_id": "R1", "owner_id": "staff:S1"}
    assert b"13800001111" not in body and "楼下垃圾".encode() not in body


@pytest.mark.parametrize(
    ("status", "key"), [(500, "case_hook_http_status"), (302, "case_hook_http_status")]
)
def test_http_hook_failure_and_redirect_are_errors(stub, status, key):
    stub.status = status
    hook = HookSettings(url=f"http://127.0.0.1:{stub.server_port}/notify", timeout_seconds=5)
    with pytest.raises(HookError) as caught:
        call_hook(hook, "R1", "staff:S1")
    assert caught.value.key == key and len(stub.received) == 1


def test_unreachable_hook_is_an_error():
    hook = HookSettings(url="http://127.0.0.1:9/notify", timeout_seconds=2)  # discard port, closed
    with pytest.raises(HookError) as caught:
        call_hook(hook, "R1", "staff:S1")
    assert caught.value.key == "case_hook_unreachable"


@pytest.mark.parametrize(
    ("url", "allow", "key"),
    [
        ("ftp://127.0.0.1/x", False, "case_hook_bad_url"),
        ("file:///etc/passwd", False, "case_hook_bad_url"),
        ("http://8.8.8.8/notify", False, "case_hook_public_host"),
        ("http://[2001:4860:4860::8888]/notify", False, "case_hook_public_host"),
    ],
)
def test_hook_url_refusals(url, allow, key):
    with pytest.raises(HookError) as caught:
        check_hook_url(url, allow)
    assert caught.value.key == key


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8080/x", "http://10.1.2.3/x", "https://192.168.0.5/x", "http://[::1]/x"],
)
def test_intranet_hook_urls_pass(url):
    check_hook_url(url)


def test_public_host_allowed_when_configured():
    check_hook_url("http://8.8.8.8/notify", allow_public_hosts=True)


def _stub_command(tmp_path: Path, exit_code: int = 0) -> tuple[tuple[str, ...], Path]:
    log = tmp_path / "calls.jsonl"
    script = tmp_path / "notify.py"
    script.write_text(
        "import json, sys\n"
        f"with open({str(log)!r}, 'a', encoding='utf-8') as f:\n"
        "    f.write(json.dumps({'argv': sys.argv[1:], 'stdin': sys.stdin.read()}) + '\\n')\n"
        f"sys.exit({exit_code})\n",
        encoding="utf-8",
    )
    return (sys.executable, str(script), "--case", "{case_id}", "--owner={owner_id}"), log


def test_command_hook_gets_ids_as_arguments_and_json(tmp_path, reports):
    command, log = _stub_command(tmp_path)
    hook = HookSettings(command=command, timeout_seconds=20)
    clock = case_clock(reports, empty_events(), SETTINGS, AS_OF)
    sent = send_reminders(
        reminders_due(reports, clock, _none_sent()),
        lambda c, o: call_hook(hook, c, o),
        dt.datetime(2026, 11, 24, 8),
    )
    send_reminders(
        reminders_due(reports, clock, sent),
        lambda c, o: call_hook(hook, c, o),
        dt.datetime(2026, 11, 24, 9),
    )
    calls = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert len(calls) == 1
    assert calls[0]["argv"] == ["--case", "R1", "--owner=staff:S1"]
    assert json.loads(calls[0]["stdin"]) == {"case_id": "R1", "owner_id": "staff:S1"}


def test_command_hook_failure_is_an_error(tmp_path):
    command, _ = _stub_command(tmp_path, exit_code=3)
    with pytest.raises(HookError) as caught:
        call_hook(HookSettings(command=command, timeout_seconds=20), "R1", "staff:S1")
    assert caught.value.key == "case_hook_command_failed" and caught.value.values["code"] == 3


def test_hostile_case_id_reaches_the_command_as_one_argument(tmp_path):
    command, log = _stub_command(tmp_path)
    call_hook(HookSettings(command=command, timeout_seconds=20), "R1; rm -rf / $(id)", "staff:S1")
    call = json.loads(log.read_text(encoding="utf-8"))
    assert call["argv"][1] == "R1; rm -rf / $(id)"


def test_no_hook_configured_is_an_error():
    with pytest.raises(HookError) as caught:
        call_hook(HookSettings(), "R1", "staff:S1")
    assert caught.value.key == "case_hook_not_configured"


def test_a_reminder_claimed_by_another_run_is_left_to_it_unless_stale(reports):
    from geo.cases.reminders import claim_rows

    clock = case_clock(reports, empty_events(), SETTINGS, AS_OF)
    claimed_at = dt.datetime(2026, 11, 24, 8, 0)
    claimed = claim_rows(reminders_due(reports, clock, _none_sent()), claimed_at)
    assert claimed["status"].tolist() == ["sending"]
    soon = claimed_at + dt.timedelta(minutes=5)
    assert reminders_due(reports, clock, claimed, soon).empty
    much_later = claimed_at + dt.timedelta(minutes=16)  # that run died before recording
    assert reminders_due(reports, clock, claimed, much_later)["report_id"].tolist() == ["R1"]
