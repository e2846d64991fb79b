"""The demo's case handling, over the demo's own reports: deterministic by seed.

Every report is auto-dispatched when it arrives (the system's ``assigned`` event); a few
are transferred (转派) with a reason, a few late ones extended once with the street
leader's approval (and two open ones wait for a decision); followed-up reports carry the
return visit's method and who made it, and most are closed (结案) a little later; disputes
are mediated in one to three sessions by old-party-member volunteers of their grid with the
judicial office, police or a lawyer; a reminder was sent for every case still open 24 h
before its limit. Nothing here adds or removes a report: the demo's report figures stand.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo.cases.owners import propose_owners
from geo.cases.reminders import REMINDER_COLUMNS
from geo.cases.settings import CaseSettings
from geo.cases.timeline import EVENT_COLUMNS
from geo.timeutil import end_of_day, format_timestamp, to_datetime_series

DEMO_APPROVER = "demo_leader"  # the demo's street leader account (geo.auth.DEMO_VIEWER)
SYSTEM_ACTOR = "system"
# 转派: (category, from the grid's person to this department, reason)
_TRANSFERS = {
    "设施损坏": ("urban_management", "经现场核实属市政设施，转城管中队处理"),
    "环境卫生": ("urban_management", "涉及道路保洁责任区，转综合执法中队处理"),
    "噪音扰民": ("police", "夜间噪音需执法取证，转派出所处理"),
    "供暖问题": ("housing", "涉及供热管网，转住建部门协调"),
}
_EXTENSION_REASONS = (
    "需协调产权单位共同处理，申请延期",
    "涉及多个部门会商，申请延期",
    "等待维修材料到货，申请延期",
    "当事人外出，需另约时间调解，申请延期",
)
_SESSION_NOTES = {
    "failed": ("双方分歧较大，约定再次调解", "一方未到场，改期调解"),
    "success": ("双方达成和解，签订调解协议", "当场达成一致意见"),
    "litigation": ("调解不成，引导当事人依法诉讼", "告知当事人申请劳动仲裁"),
}
_METHOD_P = {"phone": 0.6, "wechat": 0.25, "visit": 0.15}
_TYPE_P = {
    "people": 0.7,
    "judicial": 0.1,
    "pre_litigation": 0.08,
    "administrative": 0.07,
    "legal_aid": 0.05,
}


@dataclass
class CaseDemo:
    """The demo's case data: report columns to add, extra steps, and the case tables."""

    report_columns: (
        pd.DataFrame
    )  # report_id, owner_kind, owner_id, followup_method, followup_by, closed_at
    closed_steps: pd.DataFrame  # report_steps rows of step "closed"
    events: pd.DataFrame  # case_events
    reminders: pd.DataFrame  # case_reminders
    mediations: pd.DataFrame
    sessions: pd.DataFrame
    mediators: pd.DataFrame


def _stamp(values: pd.Series) -> pd.Series:
    return values.dt.strftime("%Y-%m-%d %H:%M:%S").astype(object).where(values.notna(), None)


def _office(stamps: pd.Series) -> pd.Series:
    """Times moved into office hours (08:30-18:00) of the same or the next day."""
    hour = stamps.dt.hour + stamps.dt.minute / 60
    early = hour < 8.5
    late = hour >= 18
    day = stamps.dt.normalize()
    moved = stamps.where(~early, day + pd.Timedelta(hours=8, minutes=30))
    return moved.where(~late, day + pd.Timedelta(days=1, hours=8, minutes=45))


def build_case_demo(
    reports: pd.DataFrame,
    steps: pd.DataFrame,
    staff: pd.DataFrame,
    grids: pd.DataFrame,
    settings: CaseSettings,
    seed: int,
    as_of: dt.date,
    until: dt.datetime | None = None,
) -> CaseDemo:
    """The case data over the demo's ``reports`` and ``steps`` (deterministic by ``seed``);
    nothing happens after ``until`` (default: the end of the as-of day)."""
    rng = np.random.default_rng([seed, 19])
    end = pd.Timestamp(min(end_of_day(as_of), until) if until else end_of_day(as_of))
    reports = pd.DataFrame(reports.drop(columns="geometry", errors="ignore")).reset_index(drop=True)
    n = len(reports)
    reported = to_datetime_series(reports["reported_at"])
    responded = to_datetime_series(reports["responded_at"])
    resolved = to_datetime_series(reports["resolved_at"])
    followed = to_datetime_series(reports["followed_up_at"])
    proposed = propose_owners(reports, grids, staff, settings)
    first_kind = proposed["owner_kind"].to_numpy(object)
    first_id = proposed["owner_id"].to_numpy(object)
    owner_kind, owner_id = first_kind.copy(), first_id.copy()
    events: list[dict] = []
    seq = np.zeros(n, dtype=int)

    def event(i: int, name: str, at: pd.Timestamp, actor: str, role: str, **values) -> None:
        seq[i] += 1
        at = at.floor("s")
        events.append(
            {
                "report_id": reports.at[i, "report_id"],
                "event_no": int(seq[i]),
                "event": name,
                "at": format_timestamp(at.to_pydatetime()),
                "actor": actor,
                "actor_role": role,
                "recorded_at": format_timestamp(at.to_pydatetime()),
                **values,
            }
        )

    roll = rng.random((n, 4))
    for i in range(n):
        if first_kind[i] is not None:
            event(
                i,
                "assigned",
                reported[i],
                SYSTEM_ACTOR,
                SYSTEM_ACTOR,
                owner_kind=first_kind[i],
                owner_id=first_id[i],
            )
        # 转派: a grid's person hands an out-of-remit report to the department that owns it
        move = _TRANSFERS.get(reports.at[i, "category"])
        if move and first_kind[i] == "staff" and roll[i, 0] < 0.08:
            at = reported[i] + pd.Timedelta(minutes=int(40 + 200 * roll[i, 1]))
            before = resolved[i] if pd.notna(resolved[i]) else end
            if at < min(before, end):
                event(
                    i,
                    "transferred",
                    at,
                    first_id[i],
                    "grid_worker",
                    owner_kind="department",
                    owner_id=move[0],
                    from_kind=first_kind[i],
                    from_id=first_id[i],
                    reason=move[1],
                )
                owner_kind[i], owner_id[i] = "department", move[0]

    # extensions: a case that could not be resolved in time asks for 48 or 72 h, the street
    # leader approves (two open ones still wait for the decision)
    limit = pd.Timedelta(hours=settings.base_limit_hours)
    late = (resolved.isna() | (resolved - reported > limit - pd.Timedelta(hours=30))) & (
        reported + limit - pd.Timedelta(hours=20) < end
    )
    late &= pd.Series(owner_kind).notna().to_numpy()
    person_of = (
        staff.sort_values("staff_id")
        .drop_duplicates(["role", "grid_id"])
        .set_index(["role", "grid_id"])["staff_id"]
        .to_dict()
    )
    candidates = np.flatnonzero(late.to_numpy(bool))
    chosen = candidates[rng.random(len(candidates)) < 0.55]
    pending = set(chosen[resolved.isna().to_numpy()[chosen]][-2:].tolist())
    for i in chosen:
        asked = reported[i] + limit - pd.Timedelta(hours=float(6 + 12 * roll[i, 2]))
        asked = _office(pd.Series([asked])).iloc[0]
        if (pd.notna(resolved[i]) and asked >= resolved[i]) or asked >= end:
            continue
        hours = 48.0 if roll[i, 3] < 0.6 else 72.0
        reason = _EXTENSION_REASONS[int(roll[i, 3] * 97) % len(_EXTENSION_REASONS)]
        requester = owner_id[i]  # the person; a department's or the room's person in the grid
        if owner_kind[i] != "staff":
            role = owner_id[i] if owner_kind[i] == "department" else "grid_leader"
            requester = person_of.get((role, reports.at[i, "grid_id"]), first_id[i])
        role = (
            "grid_worker"
            if owner_kind[i] == "staff"
            else ("department" if owner_kind[i] == "department" else "community_staff")
        )
        event(i, "extension_requested", asked, requester, role, hours=hours, reason=reason)
        request = int(seq[i])
        decided = asked + pd.Timedelta(hours=2)
        if i in pending or decided >= end:
            continue
        event(
            i,
            "extended",
            decided,
            DEMO_APPROVER,
            "street_leader",
            hours=hours,
            reason="同意延期",
            request_seq=request,
        )

    frame = pd.DataFrame(events, columns=list(EVENT_COLUMNS))
    frame["hours"] = frame["hours"].astype(float)

    # return visits: the method and who made it; closing a little later
    is_followed = followed.notna().to_numpy()
    methods = np.array(list(_METHOD_P), dtype=object)[
        rng.choice(len(_METHOD_P), n, p=np.array(list(_METHOD_P.values())))
    ]
    follow_actor = steps[steps["step"] == "followed_up"].set_index("report_id")["actor"]
    by = reports["report_id"].map(follow_actor)
    close_at = _office(followed + pd.to_timedelta(rng.uniform(1, 30, n), unit="h"))
    closed_ok = is_followed & (close_at < end).to_numpy() & (rng.random(n) < 0.9)
    closed_at = _stamp(close_at.where(closed_ok))
    report_columns = pd.DataFrame(
        {
            "report_id": reports["report_id"],
            "owner_kind": owner_kind,
            "owner_id": owner_id,
            "followup_method": np.where(is_followed, methods, None),
            "followup_by": by.where(is_followed, None).to_numpy(object),
            "closed_at": closed_at.to_numpy(object),
        }
    )
    closers = (
        staff[staff["role"] == "grid_leader"]
        .drop_duplicates("grid_id")
        .set_index("grid_id")["staff_id"]
    )
    anyone = (
        staff.sort_values("staff_id").drop_duplicates("grid_id").set_index("grid_id")["staff_id"]
    )
    closed_steps = pd.DataFrame(
        {
            "report_id": reports["report_id"][closed_ok],
            "step": "closed",
            "at": closed_at[closed_ok],
            # the grid leader, else anyone of the grid's staff, closes it
            "actor": reports["grid_id"][closed_ok]
            .map(closers)
            .fillna(reports["grid_id"][closed_ok].map(anyone))
            .fillna(DEMO_APPROVER),
            "note": "回访完毕，结案归档",
            "recorded_at": closed_at[closed_ok],
        }
    ).reset_index(drop=True)

    reminders = _reminders(reports, frame, reported, resolved, owner_kind, owner_id, settings, end)
    mediations, sessions, mediators = _mediations(
        rng, reports, staff, grids, settings, reported, responded, resolved, end
    )
    return CaseDemo(report_columns, closed_steps, frame, reminders, mediations, sessions, mediators)


def _reminders(
    reports: pd.DataFrame,
    events: pd.DataFrame,
    reported: pd.Series,
    resolved: pd.Series,
    owner_kind: np.ndarray,
    owner_id: np.ndarray,
    settings: CaseSettings,
    end: pd.Timestamp,
) -> pd.DataFrame:
    """A reminder sent ``reminder_hours`` before each limit in force a case was still open at:
    the first limit, and the limit an approved extension moved it to."""
    granted = events[events["event"] == "extended"]
    extra = reports["report_id"].map(granted.groupby("report_id")["hours"].sum()).fillna(0.0)
    base = pd.Series(0.0, index=reports.index)
    owned = pd.Series(owner_kind).notna().to_numpy(bool)
    parts = []
    for hours in (base, extra):
        due = reported + pd.to_timedelta(settings.base_limit_hours + hours, unit="h")
        sent = due - pd.Timedelta(hours=settings.reminder_hours)
        ok = ((sent < end) & (resolved.isna() | (resolved > sent))).to_numpy(bool) & owned
        if hours is extra:
            ok &= (extra > 0).to_numpy(bool)
        parts.append(
            pd.DataFrame(
                {
                    "report_id": reports["report_id"][ok].to_numpy(object),
                    "due_at": _stamp(due[ok]).to_numpy(object),
                    "owner_kind": owner_kind[ok],
                    "owner_id": owner_id[ok],
                    "sent_at": _stamp(sent[ok]).to_numpy(object),
                    "status": "sent",
                    "detail": None,
                },
                columns=list(REMINDER_COLUMNS),
            )
        )
    return (
        pd.concat(parts, ignore_index=True)
        .sort_values(["sent_at", "report_id"])
        .reset_index(drop=True)
    )


def _mediations(
    rng: np.random.Generator,
    reports: pd.DataFrame,
    staff: pd.DataFrame,
    grids: pd.DataFrame,
    settings: CaseSettings,
    reported: pd.Series,
    responded: pd.Series,
    resolved: pd.Series,
    end: pd.Timestamp,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    med = settings.mediation
    community = reports["grid_id"].map(dict(zip(grids["grid_id"], grids["community"], strict=True)))
    chosen = np.flatnonzero(
        (reports["source"].isin(settings.mediation_sources) & community.notna()).to_numpy(bool)
        & responded.notna().to_numpy(bool)
    )
    by_role = {
        role: staff[staff["role"] == role]
        .sort_values("staff_id")
        .groupby("grid_id")["staff_id"]
        .first()
        for role in ("volunteer", "judicial", "police", "lawyer")
    }
    types = np.array(list(_TYPE_P), dtype=object)
    type_p = np.array(list(_TYPE_P.values()))
    records, sessions, sitting = [], [], []
    for i in chosen:
        report_id, grid = reports.at[i, "report_id"], reports.at[i, "grid_id"]
        opened = responded[i]
        kind = med.kind_of_category.get(reports.at[i, "category"], "other")
        mediation_type = types[rng.choice(len(types), p=type_p)]
        records.append(
            {
                "report_id": report_id,
                "dispute_kind": kind,
                "mediation_type": mediation_type,
                "room": community[i],
                "opened_at": format_timestamp(opened.to_pydatetime()),
                "opened_by": SYSTEM_ACTOR,
            }
        )
        done = pd.notna(resolved[i])
        if done:
            final = rng.choice(["success", "failed", "litigation"], p=[0.85, 0.07, 0.08])
            count = int(rng.choice([1, 2, 3], p=[0.55, 0.35, 0.10]))
            last_at = resolved[i] - pd.Timedelta(hours=1)
        else:
            final, count, last_at = (
                None,
                int(rng.integers(0, 2)),
                min(end, opened + pd.Timedelta(days=3)),
            )
        span = max((last_at - opened).total_seconds(), 3600.0)
        moments = sorted(
            opened + pd.Timedelta(seconds=float(s)) for s in rng.uniform(600, span, count)
        )
        for number, moment in enumerate(moments, start=1):
            at = moment.floor("s")
            if at >= end:
                break
            outcome = final if (number == count and final is not None) else "failed"
            sessions.append(
                {
                    "report_id": report_id,
                    "session_no": number,
                    "held_at": format_timestamp(at.to_pydatetime()),
                    "outcome": outcome,
                    "note": _SESSION_NOTES[outcome][number % 2],
                    "recorded_by": SYSTEM_ACTOR,
                    "recorded_at": format_timestamp(at.to_pydatetime()),
                }
            )
            panel = ["volunteer"]
            panel.append(
                "judicial" if mediation_type in ("judicial", "pre_litigation") else "police"
            )
            if mediation_type == "legal_aid" or kind == "labour":
                panel.append("lawyer")
            for role in panel:
                person = by_role[role].get(grid)
                if isinstance(person, str):
                    sitting.append(
                        {
                            "report_id": report_id,
                            "session_no": number,
                            "staff_id": person,
                            "capacity": med.capacity_of_role.get(role, "mediator"),
                        }
                    )
    mediations = pd.DataFrame(
        records,
        columns=["report_id", "dispute_kind", "mediation_type", "room", "opened_at", "opened_by"],
    )
    session_frame = pd.DataFrame(
        sessions,
        columns=[
            "report_id",
            "session_no",
            "held_at",
            "outcome",
            "note",
            "recorded_by",
            "recorded_at",
        ],
    )
    mediator_frame = pd.DataFrame(
        sitting, columns=["report_id", "session_no", "staff_id", "capacity"]
    ).drop_duplicates(["report_id", "session_no", "staff_id"])
    return mediations, session_frame, mediator_frame
