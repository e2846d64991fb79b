"""The audit log in the reader's language: action names and details instead of stored codes.

The log itself keeps stable codes (``export``, ``reveal``, ``head_name,phone,id_number``) so
it can be searched and checked; these functions only render them for the admin page.
"""

from __future__ import annotations

import re

from geo.access.privacy import PERSONAL_COLUMNS
from geo.i18n import catalogue, t

# personal field code -> catalogue key of its column name
_FIELDS = {
    "head_name": "map_col_head_name",
    "phone": "map_col_phone",
    "id_number": "map_col_id_number",
}
_ROLE = re.compile(r"^(?P<name>.*) role=(?P<role>\w+)$")
_EXPORT = re.compile(r"^(?P<what>weekly|worklist) (?P<day>\d{4}-\d{2}-\d{2}) (?P<kind>pdf|xlsx)\b")
_ATTEMPT = re.compile(r"^attempt (?P<n>\d+)$")
_IMPORT = re.compile(r"^(?P<kind>\w+) (?P<file>.+)$")


def action_label(action: str, lang: str) -> str:
    """The name of an audit action in ``lang`` (an unknown code is shown as it is)."""
    key = f"audit_action_{action}"
    return t(key, lang) if key in catalogue() else action


def _role(code: str, lang: str) -> str:
    key = f"auth_role_{code}"
    return t(key, lang) if key in catalogue() else code


def detail_text(action: str, detail: str, lang: str) -> str:
    """An event's detail in words: field names, roles, what was exported."""
    detail = detail or ""
    if action == "reveal":
        fields = [f for f in detail.split(",") if f]
        if fields and all(f in PERSONAL_COLUMNS for f in fields):
            return t("map_list_separator", lang).join(t(_FIELDS[f], lang) for f in fields)
    if action == "sign_in":
        return _role(detail, lang)
    if action == "sign_in_failed" and (m := _ATTEMPT.match(detail)):
        return t("audit_detail_attempt", lang, n=m["n"])
    if action in ("user_add", "user_role") and (m := _ROLE.match(detail)):
        return t("audit_detail_user_role", lang, name=m["name"], role=_role(m["role"], lang))
    if action == "export" and (m := _EXPORT.match(detail)):
        return t(f"audit_detail_export_{m['what']}", lang, day=m["day"], kind=m["kind"].upper())
    if action == "import" and (m := _IMPORT.match(detail)):
        key = f"audit_detail_import_{m['kind']}"
        if key in catalogue():
            return t(key, lang, file=m["file"])
    return detail
