"""The ``gridmap`` command line (see the data contract, section 5)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from geo.store import open_store, resolve_location
from geo.timeutil import parse_day, today

IMPORT_KINDS = ("grids", "households", "visits", "staff", "reports", "boundary")


def _day(text: str):
    try:
        return parse_day(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(prog="gridmap", description="网格民情地图 gridmap")
    sub = parser.add_subparsers(dest="command", required=True)

    def with_db(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument(
            "--db",
            help="data location: a .gpkg path or postgresql://... (default $GRIDMAP_DB or data/gridmap.gpkg)",
        )
        return p

    demo = with_db(
        sub.add_parser("demo", help="build the demo data set (replaces what the store holds)")
    )
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--households", type=int, default=None, help="scale to about N households")
    demo.add_argument(
        "--as-of", type=_day, default=None, help="last day of the demo's history (default today)"
    )
    demo.add_argument(
        "--with-users",
        action="store_true",
        help="also create one demo account per role (password from $GRIDMAP_DEMO_PASSWORD, else random, printed once)",
    )

    imp = with_db(sub.add_parser("import", help="import a file (upsert by id)"))
    imp.add_argument("kind", choices=IMPORT_KINDS)
    imp.add_argument("file")
    imp.add_argument("--replace", action="store_true", help="replace the whole table")
    imp.add_argument("--encoding", help="text encoding of a CSV or DBF (utf-8, gbk, gb18030)")
    imp.add_argument("--crs", help="coordinate system of the file, e.g. EPSG:4490")
    imp.add_argument("--coords", choices=("wgs84", "gcj02", "bd09"), default="wgs84")

    met = with_db(sub.add_parser("metrics", help="the contract's metrics"))
    met.add_argument("--as-of", type=_day, default=None)
    met.add_argument("--by", choices=("grid",), default=None)
    met.add_argument("--json", action="store_true")

    chk = with_db(sub.add_parser("check", help="data-quality findings"))
    chk.add_argument("--as-of", type=_day, default=None)
    chk.add_argument("--json", action="store_true")

    srv = with_db(
        sub.add_parser(
            "serve", help="start the app (building the demo data first if the store is empty)"
        )
    )
    srv.add_argument("--port", type=int, default=8501)
    srv.add_argument(
        "--address", default="127.0.0.1", help="address to listen on (0.0.0.0 for the intranet)"
    )

    usr = sub.add_parser("user", help="local accounts")
    usr_sub = usr.add_subparsers(dest="user_command", required=True)
    ua = with_db(usr_sub.add_parser("add", help="create an account"))
    ua.add_argument("name")
    ua.add_argument(
        "--role",
        required=True,
        help="admin, street_leader, community_staff, grid_worker, planner, meeting",
    )
    ua.add_argument("--community", help="the community of a community_staff account")
    ua.add_argument(
        "--grid", action="append", default=[], help="a grid of a grid_worker account (repeatable)"
    )
    ua.add_argument(
        "--password-stdin",
        action="store_true",
        required=True,
        help="read the password from standard input",
    )
    up = with_db(usr_sub.add_parser("passwd", help="set a password (read from standard input)"))
    up.add_argument("name")
    up.add_argument("--password-stdin", action="store_true", required=True)
    ud = with_db(usr_sub.add_parser("disable", help="disable an account"))
    ud.add_argument("name")
    ue = with_db(usr_sub.add_parser("enable", help="re-enable an account"))
    ue.add_argument("name")
    ur = with_db(
        usr_sub.add_parser("role", help="change an account's role and scope (ends its sessions)")
    )
    ur.add_argument("name")
    ur.add_argument("--role", required=True, help="as for add")
    ur.add_argument("--community", help="the community of a community_staff account")
    ur.add_argument("--grid", action="append", default=[], help="a grid of a grid_worker account")
    with_db(usr_sub.add_parser("list", help="list accounts"))

    aud = with_db(sub.add_parser("audit", help="print the audit log"))
    aud.add_argument("--since", type=_day, default=None)
    aud.add_argument("--actor")
    aud.add_argument("--action")
    aud.add_argument("--json", action="store_true")
    aud.add_argument(
        "--verify",
        action="store_true",
        help="check the audit log's hash chain; report the first broken link (exit status 1)",
    )

    wk = with_db(sub.add_parser("weekly", help="the weekly review pack"))
    wk.add_argument("--as-of", type=_day, default=None)
    wk.add_argument("--out", required=True, help="FILE.pdf or FILE.xlsx")
    wk.add_argument("--lang", choices=("zh-CN", "en"), default="zh-CN")
    mig = sub.add_parser(
        "migrate", help="copy a data set to another store and compare metrics on both"
    )
    mig.add_argument(
        "--from", dest="source", required=True, help="source: a .gpkg path or postgresql://..."
    )
    mig.add_argument(
        "--to", dest="target", required=True, help="target: a .gpkg path or postgresql://..."
    )
    mig.add_argument(
        "--as-of", type=_day, default=None, help="day of the compared metrics (default today)"
    )
    mig.add_argument("--merge", action="store_true", help="add to a target that already holds data")
    mig.set_defaults(db=None)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit status."""
    args = build_parser().parse_args(argv)
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
    }[args.command]
    return handler(store, args)


def _demo(store, args) -> int:
    from geo.demo import build_demo

    counts = build_demo(store, seed=args.seed, households=args.households, as_of=args.as_of)
    print(
        f"demo data written to {store.location}: "
        + ", ".join(f"{k} {v}" for k, v in counts.items())
    )
    if args.with_users:
        _demo_users(store)
    return 0


def _demo_users(store) -> None:
    """Create the demo accounts and print their password once (it is stored only as a hash)."""
    import os
    import secrets

    from geo import auth

    password = os.environ.get(auth.DEMO_PASSWORD_ENV) or secrets.token_urlsafe(9)
    created = auth.add_demo_users(store, password)
    print("demo accounts (sign in with any of them; the password is shown only now):")
    for name, role, scope in created:
        print(f"  {name}\t{role}\t{scope}")
    print(f"  password: {password}")


def _import(store, args) -> int:
    from geo.importers import import_file

    report = import_file(
        store,
        args.kind,
        args.file,
        replace=args.replace,
        encoding=args.encoding,
        crs=args.crs,
        coords=args.coords,
    )
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if report.problems:
        for line in report.problem_lines():
            print(line, file=sys.stderr)
        print(f"{len(report.problems)} problem(s): nothing was imported", file=sys.stderr)
        return 1
    print(f"{args.kind}: {report.written} row(s) imported into {store.location}")
    return 0


def _metrics(store, args) -> int:
    from geo.metrics import compute_metrics, format_metrics

    as_of = args.as_of or today()
    result = compute_metrics(store, as_of, by=args.by)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        print(format_metrics(result))
    return 0


def _check(store, args) -> int:
    from geo.check import run_checks

    findings = run_checks(store, args.as_of or today())
    if args.json:
        print(json.dumps([f.to_dict() for f in findings], ensure_ascii=False, indent=2))
    else:
        for finding in findings:
            print(str(finding))
        if not findings:
            print("no findings")
    return 0


def _weekly(store, args) -> int:
    from geo.audit import log_event
    from geo.weekly import write_weekly

    as_of = args.as_of or today()
    path = write_weekly(store, as_of, args.out, lang=args.lang)
    # every export is audited, the command line's as much as the web page's download
    log_event(
        store, "cli", "export", f"weekly {as_of.isoformat()} {path.suffix.lstrip('.')} {path}"
    )
    print(f"weekly review pack written to {path}")
    return 0


def _read_password() -> str:
    line = sys.stdin.readline()
    return line.rstrip("\r\n")


def _user(store, args) -> int:
    from geo import auth

    try:
        if args.user_command == "add":
            auth.add_user(
                store,
                args.name,
                args.role,
                _read_password(),
                community=args.community,
                grids=args.grid,
            )
            print(f"user {args.name} ({args.role}) created")
        elif args.user_command == "passwd":
            auth.set_password(store, args.name, _read_password())
            print(f"password of {args.name} changed")
        elif args.user_command == "role":
            auth.set_role(store, args.name, args.role, community=args.community, grids=args.grid)
            print(f"user {args.name} is now {args.role}; their open sessions have ended")
        elif args.user_command in ("disable", "enable"):
            auth.set_disabled(store, args.name, args.user_command == "disable")
            print(f"user {args.name} {args.user_command}d")
        else:
            users = auth.list_users(store)
            if users.empty:
                print("no users")
            for row in users.itertuples():
                state = "disabled" if int(row.disabled or 0) else "active"
                community = (
                    row.community if isinstance(row.community, str) else ""
                )  # NaN when unset
                grids = row.grids if isinstance(row.grids, str) else ""
                scope = community or grids.replace(";", ",") or "-"
                print(f"{row.username}\t{row.role}\t{scope}\t{state}")
    except auth.AuthError as exc:
        print(f"gridmap user: {exc}", file=sys.stderr)
        return 1
    return 0


def _audit(store, args) -> int:
    from geo.audit import read_audit

    if args.verify:
        return _verify_audit(store)
    events = read_audit(store, since=args.since, actor=args.actor, action=args.action)
    if args.json:
        print(events.to_json(orient="records", force_ascii=False))
        return 0
    for row in events.itertuples():
        print(f"{row.at}\t{row.actor}\t{row.action}\t{row.detail}\t{row.records}")
    return 0


def _verify_audit(store) -> int:
    from geo.audit import verify_audit
    from geo.i18n import t

    check = verify_audit(store)
    if check.unchained:
        print(t("audit_verify_unchained", n=check.entries), file=sys.stderr)
        return 1
    if check.broken_at is not None:
        entry = check.broken_entry or {}
        print(
            t(
                "audit_verify_broken",
                n=check.broken_at,
                total=check.entries,
                at=entry.get("at") or "",
                actor=entry.get("actor") or "",
                action=entry.get("action") or "",
            ),
            file=sys.stderr,
        )
        return 1
    print(t("audit_verify_ok", n=check.entries, head=check.head))
    return 0


def _serve(store, args) -> int:
    import os
    import subprocess
    from pathlib import Path

    if not store.exists():
        from geo.demo import build_demo

        print(f"{store.location} is empty: building the demo data set first ...")
        counts = build_demo(store)
        print("demo data: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        _demo_users(store)  # a store built here is a demo: give it demo accounts to sign in with
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
    print(f"gridmap: open http://{args.address}:{args.port}/ in a browser (Ctrl+C stops)")
    return subprocess.call(cmd, cwd=root, env=env)


def _migrate(store, args) -> int:
    from geo.metrics import compute_metrics
    from geo.store_copy import copy_store, metric_differences

    source, target = open_store(args.source), open_store(args.target)
    try:
        written = copy_store(source, target, merge=args.merge)
    except ValueError as exc:
        print(f"gridmap migrate: {exc}", file=sys.stderr)
        return 1
    print(
        f"copied {source.location} -> {args.target.split('@')[-1]}: "
        + ", ".join(f"{k} {v}" for k, v in written.items())
    )
    as_of = args.as_of or today()
    differences = []
    for by in (None, "grid"):
        before, after = compute_metrics(source, as_of, by=by), compute_metrics(target, as_of, by=by)
        if by is None:
            print(json.dumps(after, ensure_ascii=False, indent=2))
        differences += metric_differences(before, after)
    if differences:
        print("metrics differ between source and target:", file=sys.stderr)
        for line in differences:
            print(f"  {line}", file=sys.stderr)
        return 1
    print(f"metrics as of {as_of} are identical on both stores (overall and by grid)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
