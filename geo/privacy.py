"""Masking of personal fields and suppression of small counts (PIPL art. 28/51).

Names, phone numbers and ID numbers are masked everywhere by default; aggregates shown
to wide audiences replace counts under ``SMALL_COUNT`` by ``"<3"``.
"""

from __future__ import annotations

import pandas as pd

SMALL_COUNT = 3
PERSONAL_COLUMNS = ("head_name", "phone", "id_number")


def mask_name(name: object) -> str | None:
    """``张三丰`` -> ``张**``; keeps only the surname character."""
    if name is None or (isinstance(name, float) and name != name) or str(name) == "":
        return None
    text = str(name)
    return text[0] + "*" * max(len(text) - 1, 1)


def mask_phone(phone: object) -> str | None:
    """``13812341234`` -> ``138****1234`` (first 3, last 4)."""
    if phone is None or (isinstance(phone, float) and phone != phone) or str(phone) == "":
        return None
    text = str(phone)
    if len(text) <= 7:
        return "*" * len(text)
    return text[:3] + "*" * (len(text) - 7) + text[-4:]


def mask_id_number(id_number: object) -> str | None:
    """``150102199001011234`` -> ``150102********1234`` (first 6, last 4)."""
    if id_number is None or (isinstance(id_number, float) and id_number != id_number) or str(id_number) == "":
        return None
    text = str(id_number)
    if len(text) <= 10:
        return "*" * len(text)
    return text[:6] + "*" * (len(text) - 10) + text[-4:]


_MASKS = {"head_name": mask_name, "phone": mask_phone, "id_number": mask_id_number}


def mask_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every personal column (name, phone, ID) masked."""
    out = frame.copy()
    for column, mask in _MASKS.items():
        if column in out.columns:
            out[column] = out[column].map(mask)
    return out


def suppress_small(count: object, threshold: int = SMALL_COUNT) -> object:
    """``"<3"`` for a count of 1 or 2 (0 and larger counts unchanged)."""
    if isinstance(count, int | float) and not isinstance(count, bool) and count == count:
        if 0 < count < threshold:
            return f"<{threshold}"
    return count
