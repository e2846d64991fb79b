"""The ``gridmap`` command line (see the data contract, section 5)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from geo.i18n import DEFAULT_LANGUAGE, LANGUAGES, MessageError, process_language, t
from geo.store import open_store, resolve_location
from geo.timeutil import parse_day, today

IMPORT_KINDS = (
    *("grids", "households", "visits", "staff", "reports", "boundary", "buildings"),
    *("firms", "outlets", "workers", "stations"),  # contract section 7
)


def _day(text: str):
    try:
        return parse_day(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _language_of(argv: Sequence[str]) -> str:
    """The language asked for by ``--lang X`` / ``--lang=X`` anywhere in ``argv``, else the default."""
    choice = None
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            choice = argv[i + 1]
        elif arg.startswith("--lang="):
            choice = arg.split("=", 1)[1]
    return process_language(choice)


def build_parser(lang: str = DEFAULT_LANGUAGE) -> argparse.ArgumentParser:
    """The argument parser of every subcommand (help texts in ``lang``)."""

    def h(key: str) -> str:
        return t(f"cli_help_{key}", lang)

    parser = argparse.ArgumentParser(prog="gridmap", description=t("cli_description", lang))
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser, db: bool = True) -> argparse.ArgumentParser:
        if db:
            p.add_argument("--db", help=h("db"))
        p.add_argument("--lang", choices=LANGUAGES, default=None, help=h("lang"))
        return p

    demo = common(sub.add_parser("demo", help=h("demo")))
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--households", type=int, default=None, help=h("households"))
    demo.add_argument("--as-of", type=_day, default=None, help=h("demo_as_of"))
    demo.add_argument("--with-users", action="store_true", help=h("with_users"))
    demo.add_argument("--city", action="store_true", help=h("demo_city"))
    demo.add_argument("--boundaries", default=None, help=h("demo_boundaries"))

    imp = common(sub.add_parser("import", help=h("import")))
    imp.add_argument("kind", choices=IMPORT_KINDS)
    imp.add_argument("file")
    imp.add_argument("--replace", action="store_true", help=h("replace"))
    imp.add_argument("--encoding", help=h("encoding"))
    imp.add_argument("--crs", help=h("crs"))
    imp.add_argument(
        "--coords", choices=("wgs84", "gcj02", "bd09"), default="wgs84", help=h("coords")
    )

    met = common(sub.add_parser("metrics", help=h("metrics")))
    met.add_argument("--as-of", type=_day, default=None, help=h("as_of"))
    met.add_argument("--by", choices=("grid",), default=None)
    met.add_argument("--json", action="store_true", help=h("json"))

    chk = common(sub.add_parser("check", help=h("check")))
    chk.add_argument("--as-of", type=_day, default=None, help=h("as_of"))
    chk.add_argument("--json", action="store_true", help=h("json"))

    srv = common(sub.add_parser("serve", help=h("serve")))
    srv.add_argument("--port", type=int, default=8501, help=h("port"))
    srv.add_argument("--address", default="127.0.0.1", help=h("address"))

    usr = sub.add_parser("user", help=h("user"))
    usr_sub = usr.add_subparsers(dest="user_command", required=True)
    ua = common(usr_sub.add_parser("add", help=h("user_add")))
    ua.add_argument("name")
    ua.add_argument("--role", required=True, help=h("role"))
    ua.add_argument("--community", help=h("community"))
    ua.add_argument("--grid", action="append", default=[], help=h("grid"))
    ua.add_argument("--department", help=h("department"))
    ua.add_argument("--district", help=h("district"))
    ua.add_argument(
        "--password-stdin", action="store_true", required=True, help=h("password_stdin")
    )
    up = common(usr_sub.add_parser("passwd", help=h("passwd")))
    up.add_argument("name")
    up.add_argument(
        "--password-stdin", action="store_true", required=True, help=h("password_stdin")
    )
    ud = common(usr_sub.add_parser("disable", help=h("disable")))
    ud.add_argument("name")
    ue = common(usr_sub.add_parser("enable", help=h("enable")))
    ue.add_argument("name")
    ur = common(usr_sub.add_parser("role", help=h("user_role")))
    ur.add_argument("name")
    ur.add_argument("--role", required=True, help=h("role"))
    ur.add_argument("--community", help=h("community"))
    ur.add_argument("--grid", action="append", default=[], help=h("grid"))
    ur.add_argument("--department", help=h("department"))
    ur.add_argument("--district", help=h("district"))
    common(usr_sub.add_parser("list", help=h("list")))

    aud = common(sub.add_parser("audit", help=h("audit")))
    aud.add_argument("--since", type=_day, default=None)
    aud.add_argument("--actor")
    aud.add_argument("--action")
    aud.add_argument("--json", action="store_true", help=h("json"))
    aud.add_argument("--verify", action="store_true", help=h("audit_verify"))

    wk = common(sub.add_parser("weekly", help=h("weekly")))
    wk.add_argument("--as-of", type=_day, default=None, help=h("as_of"))
    wk.add_argument("--out", required=True, help=h("weekly_out"))

    mig = common(sub.add_parser("migrate", help=h("migrate")), db=False)
    mig.add_argument("--from", dest="source", required=True, help=h("from"))
    mig.add_argument("--to", dest="target", required=True, help=h("to"))
    mig.add_argument("--as-of", type=_day, default=None, help=h("as_of"))
    mig.add_argument("--merge", action="store_true", help=h("merge"))
    mig.set_defaults(db=None)

    cas = sub.add_parser("cases", help=h("cases"))
    cas_sub = cas.add_subparsers(dest="cases_command", required=True)
    common(cas_sub.add_parser("remind", help=h("cases_remind")))

    bak = common(sub.add_parser("backup", help=h("backup")))
    bak.add_argument("--out", required=True, help=h("backup_out"))

    res = common(sub.add_parser("restore", help=h("restore")))
    res.add_argument("file", help=h("restore_file"))

    tpl = common(sub.add_parser("template", help=h("template")), db=False)
    tpl.add_argument("kind", choices=IMPORT_KINDS)
    tpl.add_argument("--out", required=True, help=h("template_out"))
    tpl.set_defaults(db=None)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    _quiet_third_party_warnings()
    args = build_parser(_language_of(argv)).parse_args(argv)
    args.lang = process_language(getattr(args, "lang", None))
    store = open_store(resolve_location(args.db))
    handler = {
        "demo": _demo,
        "import": _import,
        "metrics": _metrics,
        "check": _check,
        "weekly": _weekly,
        "migrate": _migrate,
        "serve": _serve,
        "user": _user,
        "audit": _audit,
        "backup": _backup,
        "restore": _restore,
        "template": _template,
        "cases": _cases,
    }[args.command]
    try:
        return handler(store, args)
    except MessageError as refused:
        print(
            t("cli_refused", args.lang, command=args.command, reason=refused.message(args.lang)),
            file=sys.stderr,
        )
        return 1


def _quiet_third_party_warnings() -> None:
    """Keep library chatter (matplotlib's font search, pandas/openpyxl notices) off a clerk's terminal."""
    import logging
    import warnings

    logging.getLogger("matplotlib").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module="openpyxl")
    warnings.filterwarnings("ignore", module="matplotlib")


def _counts(counts: dict[str, int], lang: str) -> str:
    return t("map_list_separator", lang).join(f"{k} {v}" for k, v in counts.items())


def _demo(store, args) -> int:
    if args.city:
        from geo.hierarchy.citydemo import boundaries_folder, build_city_demo
        from geo.hierarchy.districts import BoundariesMissing

        folder = boundaries_folder(args.boundaries)
        try:
            counts = build_city_demo(
                store, folder, seed=args.seed, households=args.households, as_of=args.as_of
            )
        except BoundariesMissing as exc:
            files = ", ".join(exc.files)
            print(
                t("cli_demo_no_boundaries", args.lang, folder=exc.path, files=files),
                file=sys.stderr,
            )
            return 1
    else:
        from geo.demo.build import build_demo

        counts = build_demo(store, seed=args.seed, households=args.households, as_of=args.as_of)
    print(
        t("cli_demo_written", args.lang, location=store.location, counts=_counts(counts, args.lang))
    )
    if args.with_users:
        _demo_users(store, args.lang)
    return 0


def _demo_users(store, lang: str) -> None:
    """Create the demo accounts and print their password once (it is stored only as a hash)."""
    import os
    import secrets

    from geo.access import auth

    password = os.environ.get(auth.DEMO_PASSWORD_ENV) or secrets.token_urlsafe(9)
    created = auth.add_demo_users(store, password)
    print(t("cli_demo_accounts", lang))
    for name, role, scope in created:
        print(f"  {name}\t{role}\t{scope}")
    print(t("cli_demo_password", lang, password=password))


def _import(store, args) -> int:
    from geo.inputs.importers.core import import_file

    report = import_file(
        store,
        args.kind,
        args.file,
        replace=args.replace,
        encoding=args.encoding,
        crs=args.crs,
        coords=args.coords,
        lang=args.lang,
    )
    for warning in report.warnings:
        print(t("cli_import_warning", args.lang, warning=warning), file=sys.stderr)
    if report.problems:
        for line in report.problem_lines():
            print(line, file=sys.stderr)
        print(t("cli_import_refused", args.lang, count=report.problem_count), file=sys.stderr)
        return 1
    if args.kind == "reports":  # the reports that arrived are dispatched at once
        from geo.cases.actions import dispatch_new

        dispatch_new(store)
    print(
        t(
            "cli_import_done",
            args.lang,
            kind=args.kind,
            count=report.written,
            location=store.location,
        )
    )
    return 0


def _cases(store, args) -> int:
    """``gridmap cases remind``: dispatch what arrived, then remind the cases nearing their limit."""
    from geo.cases.actions import dispatch_new, run_reminders

    dispatched = dispatch_new(store)
    rows = run_reminders(store)
    failed = rows[rows["status"] == "failed"]
    for row in failed.itertuples():
        print(
            t(
                "cli_cases_failed",
                args.lang,
                id=row.report_id,
                owner=row.owner_kind + ":" + row.owner_id,
                reason=row.detail,
            ),
            file=sys.stderr,
        )
    print(
        t(
            "cli_cases_reminded",
            args.lang,
            dispatched=dispatched,
            sent=int((rows["status"] == "sent").sum()),
            failed=len(failed),
        )
    )
    return 1 if len(failed) else 0


def _metrics(store, args) -> int:
    from geo.metrics.contract import compute_metrics
    from geo.metrics.text import format_metrics

    as_of = args.as_of or today()
    result = compute_metrics(store, as_of, by=args.by)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        print(format_metrics(result, args.lang))
    return 0


def _check(store, args) -> int:
    from geo.metrics.check import run_checks

    findings = run_checks(store, args.as_of or today(), args.lang)
    if args.json:
        print(json.dumps([f.to_dict() for f in findings], ensure_ascii=False, indent=2))
    else:
        for finding in findings:
            print(str(finding))
        if not findings:
            print(t("cli_check_none", args.lang))
    return 0


def _weekly(store, args) -> int:
    from geo.access.audit import log_event
    from geo.outputs.weekly.pack import write_weekly

    as_of = args.as_of or today()
    path = write_weekly(store, as_of, args.out, lang=args.lang)
    # every export is audited, the command line's as much as the web page's download
    log_event(
        store, "cli", "export", f"weekly {as_of.isoformat()} {path.suffix.lstrip('.')} {path}"
    )
    print(t("cli_weekly_done", args.lang, path=path))
    return 0


def _template(store, args) -> int:
    from geo.inputs.templates import write_template

    path = write_template(args.kind, args.out, lang=args.lang)
    print(t("cli_template_done", args.lang, path=path))
    if Path(args.out).suffix.lower() != path.suffix:
        # a polygon kind: a spreadsheet cannot hold its shapes
        print(t("cli_template_geojson", args.lang, kind=args.kind))
    return 0


def _read_password() -> str:
    line = sys.stdin.readline()
    return line.rstrip("\r\n")


def _user(store, args) -> int:
    from geo.access import auth

    try:
        if args.user_command == "add":
            auth.add_user(
                store,
                args.name,
                args.role,
                _read_password(),
                community=args.community,
                grids=args.grid,
                department=args.department,
                district=args.district,
            )
            print(t("cli_user_created", args.lang, name=args.name, role=args.role))
        elif args.user_command == "passwd":
            auth.set_password(store, args.name, _read_password())
            print(t("cli_user_passwd", args.lang, name=args.name))
        elif args.user_command == "role":
            auth.set_role(
                store,
                args.name,
                args.role,
                community=args.community,
                grids=args.grid,
                department=args.department,
                district=args.district,
            )
            print(t("cli_user_role", args.lang, name=args.name, role=args.role))
        elif args.user_command in ("disable", "enable"):
            auth.set_disabled(store, args.name, args.user_command == "disable")
            print(t(f"cli_user_{args.user_command}d", args.lang, name=args.name))
        else:
            users = auth.list_users(store)
            if users.empty:
                print(t("cli_user_none", args.lang))
            for row in users.itertuples():
                state = t(
                    "cli_user_inactive" if int(row.disabled or 0) else "cli_user_active", args.lang
                )
                community = (
                    row.community if isinstance(row.community, str) else ""
                )  # NaN when unset
                grids = row.grids if isinstance(row.grids, str) else ""
                department = getattr(row, "department", None)
                department = department if isinstance(department, str) else ""
                district = getattr(row, "district", None)
                district = district if isinstance(district, str) else ""
                scope = district or community or grids.replace(";", ",") or department or "-"
                print(f"{row.username}\t{row.role}\t{scope}\t{state}")
    except auth.AuthError as exc:
        print(t("cli_user_refused", args.lang, reason=exc.message(args.lang)), file=sys.stderr)
        return 1
    return 0


def _audit(store, args) -> int:
    from geo.access.audit import read_audit

    if args.verify:
        return _verify_audit(store, args.lang)
    events = read_audit(store, since=args.since, actor=args.actor, action=args.action)
    if args.json:
        print(events.to_json(orient="records", force_ascii=False))
        return 0
    for row in events.itertuples():
        print(f"{row.at}\t{row.actor}\t{row.action}\t{row.detail}\t{row.records}")
    return 0


def _verify_audit(store, lang: str) -> int:
    from geo.access.audit import verify_audit
    from geo.i18n import t

    check = verify_audit(store)
    if check.unchained:
        print(t("audit_verify_unchained", lang, n=check.entries), file=sys.stderr)
        return 1
    if check.broken_at is not None:
        entry = check.broken_entry or {}
        print(
            t(
                "audit_verify_broken",
                lang,
                n=check.broken_at,
                total=check.entries,
                at=entry.get("at") or "",
                actor=entry.get("actor") or "",
                action=entry.get("action") or "",
            ),
            file=sys.stderr,
        )
        return 1
    print(t("audit_verify_ok", lang, n=check.entries, head=check.head))
    return 0


def _serve(store, args) -> int:
    import os
    from pathlib import Path

    if not store.exists():
        from geo.demo.build import build_demo

        print(t("cli_serve_building", args.lang, location=store.location))
        counts = build_demo(store)
        print(t("cli_serve_demo", args.lang, counts=_counts(counts, args.lang)))
        _demo_users(
            store, args.lang
        )  # a store built here is a demo: give it demo accounts to sign in with
    root = Path(__file__).resolve().parent.parent
    env = dict(
        os.environ,
        GRIDMAP_DB=str(Path(store.location).resolve())
        if "://" not in store.location
        else store.location,
    )
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(root / "server.py"),  # the app plus its session cookie and error handling
        "--server.port",
        str(args.port),
        "--server.address",
        args.address,
        "--server.headless",
        "true",
    ]
    print(
        f"gridmap: open http://{args.address}:{args.port}/ in a browser (Ctrl+C stops)", flush=True
    )
    # become Streamlit (same PID): SIGTERM from systemd, supervisord or a container runtime
    # reaches the server itself, and nothing is left behind when it stops
    os.chdir(root)
    os.execve(sys.executable, cmd, env)
    return 0  # not reached


def _migrate(store, args) -> int:
    from geo.metrics.contract import compute_metrics
    from geo.store.copy import copy_store, metric_differences

    source, target = open_store(args.source), open_store(args.target)
    written = copy_store(source, target, merge=args.merge)
    print(
        t(
            "cli_migrate_copied",
            args.lang,
            source=source.location,
            target=args.target.split("@")[-1],
            counts=_counts(written, args.lang),
        )
    )
    as_of = args.as_of or today()
    differences = []
    for by in (None, "grid"):
        before, after = compute_metrics(source, as_of, by=by), compute_metrics(target, as_of, by=by)
        if by is None:
            print(json.dumps(after, ensure_ascii=False, indent=2))
        differences += metric_differences(before, after)
    if differences:
        print(t("cli_migrate_differ", args.lang), file=sys.stderr)
        for line in differences:
            print(f"  {line}", file=sys.stderr)
        return 1
    print(t("cli_migrate_same", args.lang, as_of=as_of))
    return 0


def _backup(store, args) -> int:
    from geo.store.backup import backup_store

    path = backup_store(store, args.out)
    size = f"{path.stat().st_size / (1024 * 1024):.1f}"
    print(t("cli_backup_done", args.lang, location=store.location, path=path, size=size))
    return 0


def _restore(store, args) -> int:
    from geo.access.audit import log_event
    from geo.store.backup import restore_store

    aside = restore_store(store, args.file)
    log_event(store, "cli", "restore", f"{args.file}")
    print(t("cli_restore_done", args.lang, location=store.location, path=args.file))
    if aside is not None:
        print(t("cli_restore_aside", args.lang, aside=aside))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
