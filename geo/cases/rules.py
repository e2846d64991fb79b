"""The rules of case handling: who may do what, and when.

- the first owner is assigned by the system (auto-dispatch) or the desk (managers);
- 转派: the owner or a manager hands the case to another owner, with a reason, until it is
  resolved;
- an extension moves the limit: the owner or a manager asks, with a reason and the hours
  (at most ``max_extension_hours``, at most ``max_extensions`` times); only an approver role
  grants it (an approver asking grants it at once), or refuses it with a reason;
- respond and resolve: the owner or a manager;
- the return visit (一事一回访): once, after the resolution, with a method, who made it and
  the resident's answer, by a return-visit role (never the department that handled it);
- closing (结案): a manager, only after the return visit.

Every refusal is a ``CaseError`` naming a catalogue message; nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass

from geo.cases.owners import Owner
from geo.cases.settings import CaseSettings
from geo.cases.timeline import CaseStatus

MAX_REASON_CHARS = 500
SYSTEM = "system"  # the actor role of auto-dispatch


class CaseError(ValueError):
    """A refused case action; ``key`` names its catalogue message, ``values`` fill it in."""

    def __init__(self, key: str, /, **values: object) -> None:
        self.key = key
        self.values = values
        super().__init__(key)

    def message(self, lang: str = "zh-CN") -> str:
        """The reason in ``lang`` (a value that is itself a refusal, e.g. the workflow's
        ``ReportError``, is put in ``lang`` too)."""
        from geo.i18n import t

        values = {
            k: v.message(lang) if isinstance(v, Exception) and hasattr(v, "message") else v
            for k, v in self.values.items()
        }
        return t(self.key, lang, **values)

    def __str__(self) -> str:
        from geo.i18n import catalogue, process_language

        if self.key in catalogue():
            return self.message(process_language())
        return f"{self.key} {self.values}"


@dataclass(frozen=True)
class Actor:
    """Who acts: a name for the timeline, the account's role and what links it to owners."""

    name: str
    role: str
    staff_id: str | None = None  # a grid worker's own staff id
    department: str | None = None  # a department user's department (a staff role code)
    community: str | None = None  # a community clerk's community (its mediation room)


def is_manager(actor: Actor, settings: CaseSettings) -> bool:
    """True when ``actor``'s role assigns, transfers and closes any case (in its scope)."""
    return actor.role in settings.manager_roles


def is_owner(actor: Actor, owner: Owner | None) -> bool:
    """True when ``actor`` is (or speaks for) ``owner``."""
    if owner is None:
        return False
    if owner.kind == "staff":
        return actor.staff_id is not None and actor.staff_id == owner.id
    if owner.kind == "department":
        return actor.role == "department" and actor.department == owner.id
    return actor.role == "community_staff" and actor.community == owner.id


def _reason(reason: str | None, key: str) -> str:
    text = (reason or "").strip()
    if not text:
        raise CaseError(key)
    if len(text) > MAX_REASON_CHARS:
        raise CaseError("case_err_reason_too_long", n=len(text), max=MAX_REASON_CHARS)
    return text


def _open(case: CaseStatus) -> None:
    if case.closed:
        raise CaseError("case_err_closed", id=case.report_id)


def _owner_or_manager(case: CaseStatus, actor: Actor, settings: CaseSettings, key: str) -> None:
    if not (is_manager(actor, settings) or is_owner(actor, case.owner)):
        raise CaseError(key, id=case.report_id)


def check_assign(case: CaseStatus, owner: Owner, actor: Actor, settings: CaseSettings) -> None:
    """The first owner of a case without one: by the system or a manager."""
    _open(case)
    if case.owner is not None:
        raise CaseError("case_err_has_owner", id=case.report_id, owner=case.owner.key)
    if actor.role != SYSTEM and not is_manager(actor, settings):
        raise CaseError("case_err_assign_not_allowed", id=case.report_id)


def check_transfer(
    case: CaseStatus, to: Owner, reason: str | None, actor: Actor, settings: CaseSettings
) -> str:
    """转派 to ``to``; returns the reason as kept (trimmed)."""
    _open(case)
    if case.resolved:
        raise CaseError("case_err_transfer_resolved", id=case.report_id)
    _owner_or_manager(case, actor, settings, "case_err_transfer_not_allowed")
    if case.owner == to:
        raise CaseError("case_err_same_owner", id=case.report_id, owner=to.key)
    return _reason(reason, "case_err_transfer_reason")


def _check_extension(case: CaseStatus, hours: float, settings: CaseSettings) -> None:
    _open(case)
    if case.resolved:
        raise CaseError("case_err_extend_resolved", id=case.report_id)
    if case.extensions >= settings.max_extensions:
        raise CaseError(
            "case_err_max_extensions",
            id=case.report_id,
            n=case.extensions,
            max=settings.max_extensions,
        )
    # whole hours: the store keeps an extension's hours as an integer
    if not (0 < hours <= settings.max_extension_hours) or hours != int(hours):
        raise CaseError("case_err_extension_hours", max=f"{settings.max_extension_hours:g}")


def check_extension_request(
    case: CaseStatus, hours: float, reason: str | None, actor: Actor, settings: CaseSettings
) -> str:
    """Ask for ``hours`` more (by the owner or a manager); returns the reason as kept.

    An approver asking grants it at once (``grants_directly``)."""
    _check_extension(case, hours, settings)
    if not (actor.role in settings.approver_roles or is_manager(actor, settings)):
        _owner_or_manager(case, actor, settings, "case_err_extend_not_allowed")
    if case.pending_request is not None:
        raise CaseError("case_err_extension_pending", id=case.report_id)
    return _reason(reason, "case_err_extension_reason")


def grants_directly(actor: Actor, settings: CaseSettings) -> bool:
    """True when ``actor``'s role approves extensions: its own request is granted at once."""
    return actor.role in settings.approver_roles


def check_extension_decision(
    case: CaseStatus, approve: bool, reason: str | None, actor: Actor, settings: CaseSettings
) -> str | None:
    """Grant or refuse the pending request: an approver role only; a refusal needs a reason."""
    _open(case)
    if case.pending_request is None:
        raise CaseError("case_err_no_pending_extension", id=case.report_id)
    if not grants_directly(actor, settings):
        raise CaseError("case_err_not_approver", roles=", ".join(sorted(settings.approver_roles)))
    if approve:
        _check_extension(case, case.pending_hours or 0.0, settings)
        text = (reason or "").strip()
        if len(text) > MAX_REASON_CHARS:
            raise CaseError("case_err_reason_too_long", n=len(text), max=MAX_REASON_CHARS)
        return text or None
    return _reason(reason, "case_err_refusal_reason")


def check_work_step(case: CaseStatus, actor: Actor, settings: CaseSettings) -> None:
    """Respond or resolve: the owner or a manager, on a case not closed."""
    _open(case)
    _owner_or_manager(case, actor, settings, "case_err_step_not_allowed")


def check_return_visit(
    case: CaseStatus,
    method: str | None,
    by: str | None,
    actor: Actor,
    settings: CaseSettings,
) -> str:
    """The return visit's own rules (the workflow checks order, time and the answer):
    a return-visit role, not the department that handled it, a known method, who made it.
    Returns who made it, trimmed."""
    _open(case)
    if actor.role not in settings.return_visit_roles or (
        case.owner is not None and case.owner.kind == "department" and is_owner(actor, case.owner)
    ):
        raise CaseError("case_err_return_visit_not_allowed", id=case.report_id)
    if method not in settings.return_visit_methods:
        raise CaseError(
            "case_err_return_visit_method", methods=", ".join(settings.return_visit_methods)
        )
    who = (by or "").strip()
    if not who:
        raise CaseError("case_err_return_visit_by")
    if len(who) > 100:
        raise CaseError("case_err_reason_too_long", n=len(who), max=100)
    return who


def check_close(case: CaseStatus, actor: Actor, settings: CaseSettings) -> None:
    """结案: a manager, and only after the return visit (一事一回访)."""
    _open(case)
    if not is_manager(actor, settings):
        raise CaseError("case_err_close_not_allowed", id=case.report_id)
    if not case.resolved:
        raise CaseError("case_err_close_unresolved", id=case.report_id)
    if not case.followed_up:
        raise CaseError("case_err_close_without_return_visit", id=case.report_id)
