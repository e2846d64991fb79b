"""The case desk's shaping: who the signed-in account acts as, owners' labels, the case list by
urgency, the per-owner counts, a case's timeline and the mediation room's table, and which
actions the desk offers on a case (the rules decide: ``geo.cases.rules``).

Pure functions of frames; the page (``pages/cases.py``) and its glue (``ui/cases.py``) show
them. Texts come from the catalogue; data stays data (the page shows it as text).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pandas as pd

from geo.cases.owners import Owner
from geo.cases.rules import (
    SYSTEM,
    Actor,
    CaseError,
    check_assign,
    check_close,
    check_extension_decision,
    check_extension_request,
    check_return_visit,
    check_transfer,
    check_work_step,
    is_manager,
)
from geo.cases.settings import CaseSettings
from geo.cases.timeline import CaseStatus
from geo.config import Config
from geo.i18n import t
from geo.reports.views import source_label

ACTIONS = (
    "assign",
    "transfer",
    "extend",
    "decide",
    "responded",
    "resolved",
    "followed_up",
    "closed",
    "mediation",
)
VIEWS = ("mine", "approve", "all")  # my cases, extensions awaiting my decision, all in scope


def actor_for(
    username: str,
    role: str,
    community: str | None,
    grids: Iterable[str],
    staff: pd.DataFrame,
    settings: CaseSettings,
    department: str | None = None,
) -> Actor:
    """The case actor an account acts as. A grid worker's account speaks for the grid worker
    of the staff table covering most of its grids (then the smallest staff_id): the owner
    auto-dispatch gives its grids' cases to; a community clerk for its mediation room; a
    department account for its department."""
    staff_id = None
    if role == "grid_worker":
        mine = staff[
            staff["grid_id"].isin(list(grids)) & staff["role"].isin(settings.grid_owner_roles)
        ]
        if len(mine):
            rank = {r: i for i, r in enumerate(settings.grid_owner_roles)}
            best = (
                mine.assign(_rank=mine["role"].map(rank))
                .groupby("staff_id", as_index=False)
                .agg(_n=("grid_id", "nunique"), _rank=("_rank", "min"))
                .sort_values(["_rank", "_n", "staff_id"], ascending=[True, False, True])
            )
            staff_id = str(best["staff_id"].iloc[0])
    return Actor(
        username,
        role,
        staff_id=staff_id,
        community=community if role == "community_staff" else None,
        department=department if role == "department" else None,
    )


def my_owners(actor: Actor) -> list[Owner]:
    """The owners whose cases are the actor's own list ("my cases")."""
    if actor.staff_id:
        return [Owner("staff", actor.staff_id)]
    if actor.community:
        return [Owner("mediation", actor.community)]
    if actor.department:
        return [Owner("department", actor.department)]
    return []


def views_for(actor: Actor, settings: CaseSettings) -> list[str]:
    """The case lists the desk offers ``actor``: its own cases when it owns any kind, the
    extensions waiting for its decision when it approves them, and all cases in scope."""
    offered = ["mine"] if my_owners(actor) else []
    if actor.role in settings.approver_roles:
        offered.append("approve")
    return [*offered, "all"]


def owner_label(
    kind: object,
    ident: object,
    staff_names: dict[str, str],
    lang: str,
    config: Config,
    with_id: bool = True,
) -> str:
    """An owner as shown: 王芳 (S1) / 城管 / 东河社区 调解室; '未派单' for none. ``with_id``
    False: a person by name only (the map's popups, where no staff or reporter id goes)."""
    owner = Owner.of(kind, ident)
    if owner is None:
        return t("case_owner_none", lang)
    if owner.kind == "staff":
        name = staff_names.get(owner.id)
        if name and not with_id:
            return name
        return f"{name} ({owner.id})" if name else owner.id
    if owner.kind == "department":
        role = config.roles.get(owner.id)
        return role if role and lang == "zh-CN" else t("case_owner_department", lang, id=owner.id)
    return t("case_owner_room", lang, community=owner.id)


def department_label(code: str, lang: str, config: Config) -> str:
    """A department (a staff role code) as people name it: 城管; in English by its code."""
    return owner_label("department", code, {}, lang, config)


def staff_names(staff: pd.DataFrame) -> dict[str, str]:
    """staff_id -> name (the first name a staff id has)."""
    named = staff.dropna(subset=["staff_id"]).drop_duplicates("staff_id")
    return dict(zip(named["staff_id"], named["name"].fillna("").astype(str), strict=True))


def urgency_label(row: pd.Series, lang: str) -> str:
    """逾期 / 临期 / '' for a case on the desk."""
    if bool(row.get("overdue")):
        return t("case_flag_overdue", lang)
    if bool(row.get("nearing")):
        return t("case_flag_nearing", lang)
    return ""


def desk_cases(
    reports: pd.DataFrame,
    clock: pd.DataFrame,
    pending: pd.Series,
    owners: list[Owner] | None,
) -> pd.DataFrame:
    """Open cases (``owners``' only, unless None), most urgent first: the report columns with
    due_at, hours_left, overdue, nearing and pending (an extension waiting) added.
    ``clock`` is ``case_clock`` of ``reports`` (same index); ``pending`` report_id -> bool."""
    chosen = clock["open"].to_numpy(bool, copy=True)
    if owners is not None:
        keys = {o.key for o in owners}
        key = reports["owner_kind"].astype(str) + ":" + reports["owner_id"].astype(str)
        chosen &= key.isin(keys).to_numpy(bool)
    out = reports[chosen].copy()
    for column in ("due_at", "hours_left", "overdue", "nearing"):
        out[column] = clock.loc[chosen, column].to_numpy()
    out["pending"] = out["report_id"].isin(pending.index[pending.to_numpy(bool)])
    return out.sort_values(["hours_left", "report_id"], kind="stable").reset_index(drop=True)


def desk_counts(listed: pd.DataFrame, settings: CaseSettings, lang: str) -> list[tuple[str, int]]:
    """The desk's key figures over the listed cases: open, overdue, nearing, an extension
    waiting, not dispatched."""
    return [
        (t("case_m_open", lang), len(listed)),
        (t("case_m_overdue", lang), int(listed["overdue"].sum())),
        (t("case_m_nearing", lang, h=f"{settings.reminder_hours:g}"), int(listed["nearing"].sum())),
        (t("case_m_pending", lang), int(listed["pending"].sum())),
        (t("case_m_unowned", lang), int(listed["owner_kind"].isna().sum())),
    ]


def desk_table(
    cases: pd.DataFrame,
    labels: dict[str, str],
    lang: str,
    config: Config,
    countdown: Callable[[float, str], str],
) -> pd.DataFrame:
    """The case list as shown: id, urgency, countdown, limit in force, category, source,
    grid, owner, extension waiting. ``labels`` maps owner ``kind:id`` to its label."""
    key = cases["owner_kind"].astype(str) + ":" + cases["owner_id"].astype(str)
    return pd.DataFrame(
        {
            t("rep_col_id", lang): cases["report_id"],
            t("case_col_flag", lang): [urgency_label(r, lang) for _, r in cases.iterrows()],
            t("rep_col_countdown", lang): [countdown(h, lang) for h in cases["hours_left"]],
            t("case_col_due", lang): pd.to_datetime(cases["due_at"]).dt.strftime("%m-%d %H:%M"),
            t("rep_category", lang): cases["category"].fillna(""),
            t("rep_source", lang): cases["source"].map(lambda s: source_label(s, lang, config)),
            t("map_grid", lang): cases["grid_id"].fillna(t("rep_unassigned", lang)),
            t("case_col_owner", lang): key.map(labels).fillna(t("case_owner_none", lang)),
            t("case_col_pending", lang): cases["pending"].map(
                lambda p: t("case_pending_yes", lang) if p else ""
            ),
        }
    )


def per_owner_table(counts: pd.DataFrame, labels: dict[str, str], lang: str) -> pd.DataFrame:
    """The leader's view: per owner, open, overdue and nearing cases (``cases_per_owner``)."""
    key = counts["owner_kind"].astype(str) + ":" + counts["owner_id"].astype(str)
    return pd.DataFrame(
        {
            t("case_col_owner", lang): key.map(labels).fillna(t("case_owner_none", lang)),
            t("case_col_open", lang): counts["open"].astype(int),
            t("case_col_overdue", lang): counts["overdue"].astype(int),
            t("case_col_nearing", lang): counts["nearing"].astype(int),
        }
    )


def timeline_table(
    timeline: pd.DataFrame, labels: dict[str, str], lang: str, methods: dict[str, str]
) -> pd.DataFrame:
    """A case's steps and events as listed: at, what, who, details (owner, hours, reason, note)."""

    def what(name: object) -> str:
        if name in _EVENT_NAMES:
            return t(f"case_event_{name}", lang)
        return t("case_step_closed", lang) if name == "closed" else t(f"rep_step_{name}", lang)

    def details(row: pd.Series) -> str:
        parts = []
        if isinstance(row.get("owner_kind"), str):
            parts.append(labels.get(f"{row['owner_kind']}:{row['owner_id']}", row["owner_id"]))
        if isinstance(row.get("from_kind"), str):
            came = labels.get(f"{row['from_kind']}:{row['from_id']}", row["from_id"])
            parts[-1:] = [f"{came} → {parts[-1]}" if parts else came]
        if row.get("hours") is not None and pd.notna(row.get("hours")):
            parts.append(t("case_hours", lang, h=f"{float(row['hours']):g}"))
        for column in ("reason", "note"):
            if isinstance(row.get(column), str) and row[column]:
                parts.append(row[column])
        return " · ".join(str(p) for p in parts)

    return pd.DataFrame(
        {
            t("rep_col_at", lang): timeline["at"].astype(str).str.slice(0, 16),
            t("rep_col_step", lang): timeline["name"].map(what),
            t("rep_col_actor", lang): timeline["actor"].fillna(""),
            t("case_col_details", lang): [details(r) for _, r in timeline.iterrows()],
        }
    )


_EVENT_NAMES = ("assigned", "transferred", "extension_requested", "extended", "extension_refused")


def mediation_table(table: pd.DataFrame, lang: str, settings: CaseSettings) -> pd.DataFrame:
    """The mediation room's figures per community (``mediation_room_figures``) as shown."""
    med = settings.mediation

    def pct(values: pd.Series) -> pd.Series:
        return values.map(lambda v: "–" if pd.isna(v) else f"{100 * float(v):.1f}%")

    columns = {
        t("map_community", lang): table["community"],
        t("case_med_cases", lang): table["cases"],
        t("case_med_mediated", lang): table["mediated"],
    }
    for code, name in med.outcomes.items():
        columns[name if lang == "zh-CN" else t(f"case_outcome_{code}", lang)] = table[code]
    columns[t("case_med_ongoing", lang)] = table["ongoing"]
    columns[t("case_med_success_rate", lang)] = pct(table["success_rate"])
    columns[t("metrics_response_rate", lang)] = pct(table["response_rate"])
    columns[t("metrics_completion_rate", lang)] = pct(table["completion_rate"])
    columns[t("metrics_satisfaction_rate", lang)] = pct(table["satisfaction_rate"])
    for code, name in med.kinds.items():
        columns[name if lang == "zh-CN" else t(f"case_kind_{code}", lang)] = table[f"kind_{code}"]
    return pd.DataFrame(columns)


def offered_actions(
    case: CaseStatus, actor: Actor, settings: CaseSettings, mediation_source: bool
) -> list[str]:
    """The actions the desk offers ``actor`` on ``case`` (the rules allow them now)."""
    someone = Owner("mediation", "-")  # any other owner: only who and when are checked here
    probes: dict[str, Callable[[], object]] = {
        "assign": lambda: check_assign(case, someone, actor, settings),
        "transfer": lambda: check_transfer(case, someone, "x", actor, settings),
        "extend": lambda: check_extension_request(
            case, min(24.0, settings.max_extension_hours), "x", actor, settings
        ),
        "decide": lambda: check_extension_decision(case, False, "x", actor, settings),
        "responded": lambda: check_work_step(case, actor, settings),
        "resolved": lambda: check_work_step(case, actor, settings),
        "followed_up": lambda: check_return_visit(
            case, next(iter(settings.return_visit_methods)), "x", actor, settings
        ),
        "closed": lambda: check_close(case, actor, settings),
    }
    offered = []
    for action, probe in probes.items():
        try:
            probe()
        except CaseError:
            continue
        if action == "responded" and case.responded:
            continue
        if action == "resolved" and (case.resolved or not case.responded):
            continue
        if action == "followed_up" and (case.followed_up or not case.resolved):
            continue
        offered.append(action)
    if (
        mediation_source
        and not case.closed
        and (is_manager(actor, settings) or actor.role == "community_staff")
    ):
        offered.append("mediation")
    if actor.role == SYSTEM:
        return []
    return offered


def pending_extensions(events: pd.DataFrame) -> pd.Series:
    """report_id -> True for the cases with an extension request waiting for its decision."""
    asked = events[events["event"] == "extension_requested"]
    decided = events[events["event"].isin(("extended", "extension_refused"))]
    answered = set(zip(decided["report_id"], decided["request_seq"].astype(float), strict=True))
    waiting = [
        (r, float(n)) not in answered
        for r, n in zip(asked["report_id"], asked["event_no"], strict=True)
    ]
    ids = asked.loc[waiting, "report_id"].unique()
    return pd.Series(True, index=pd.Index(ids, name="report_id"), dtype=bool)


def case_facts(
    report: pd.Series,
    clock: pd.Series,
    labels: dict[str, str],
    grid_names: dict[str, str],
    lang: str,
    config: Config,
    settings: CaseSettings,
    countdown: Callable[[float, str], str],
) -> list[tuple[str, str]]:
    """(label, value) lines of a case: owner, limit in force, countdown, source, category,
    grid, the return visit (method, who, answer) and 结案 when present."""
    key = f"{report.get('owner_kind')}:{report.get('owner_id')}"
    grid_id = report.get("grid_id")
    due = clock.get("due_at")
    lines = [
        (t("case_col_owner", lang), labels.get(key, t("case_owner_none", lang))),
        (
            t("case_col_due", lang),
            pd.Timestamp(due).strftime("%Y-%m-%d %H:%M") if pd.notna(due) else "–",
        ),
        (t("rep_col_countdown", lang), countdown(clock.get("hours_left"), lang) or "–"),
        (t("rep_source", lang), source_label(report.get("source"), lang, config)),
        (t("rep_category", lang), str(report.get("category") or "")),
        (
            t("map_grid", lang),
            f"{grid_id} · {grid_names.get(grid_id, '')}"
            if isinstance(grid_id, str)
            else t("rep_unassigned", lang),
        ),
    ]
    if float(clock.get("extension_hours") or 0) > 0:
        lines.append(
            (t("case_extended_by", lang), t("case_hours", lang, h=f"{clock['extension_hours']:g}"))
        )
    method = report.get("followup_method")
    if isinstance(method, str) and method:
        answer = report.get("satisfaction")
        lines.append(
            (
                t("case_return_visit", lang),
                " · ".join(
                    [
                        t(f"case_method_{method}", lang)
                        if method in settings.return_visit_methods
                        else method,
                        str(report.get("followup_by") or ""),
                        t(f"rep_satisfaction_{answer}", lang)
                        if answer in config.satisfaction
                        else "",
                    ]
                ).strip(" ·"),
            )
        )
    closed = report.get("closed_at")
    if isinstance(closed, str) and closed:
        lines.append((t("case_step_closed", lang), closed[:16]))
    return lines
