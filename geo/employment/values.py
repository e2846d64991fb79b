"""The coded values of contract section 7 and every spelling a clerk may type for them.

Sector, party, party relation and services are a code with a Chinese name (both are
accepted, case-insensitive, full-width folded); yes/no columns take 是/否, yes/no,
true/false, 1/0 and Y/N, empty meaning no.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

SEPARATORS = re.compile(r"[;,，；、|｜/]+")
"""Between several services in one cell: the separators of care categories."""


def normal(text: object) -> str:
    """A cell as compared: NFKC (full-width folded), stripped, lower case, ``-``/space runs as ``_``."""
    folded = unicodedata.normalize("NFKC", str(text)).strip().lower()
    return re.sub(r"[\s\-_]+", "_", folded)


@dataclass(frozen=True)
class Spellings:
    """A coded column: code -> Chinese name, plus other spellings clerks use."""

    names: dict[str, str]
    extra: dict[str, str] = field(default_factory=dict)

    def lookup(self) -> dict[str, str]:
        """Every accepted spelling (as ``normal`` folds it) -> its code."""
        found = {normal(spelling): code for spelling, code in self.extra.items()}
        for code, zh in self.names.items():
            found[normal(code)] = code
            found[normal(zh)] = code
        return found

    def code(self, value: object) -> str | None:
        """The code of ``value``; None when it is no known spelling."""
        return self.lookup().get(normal(value))

    @property
    def expected(self) -> str:
        """The accepted values as a refusal lists them: ``express 快递, food_delivery 外卖, ...``."""
        return ", ".join(f"{code} {zh}" for code, zh in self.names.items())


SECTOR = Spellings(
    {
        "express": "快递",
        "food_delivery": "外卖",
        "ride_hailing": "网约车",
        "taxi": "出租车",
        "freight": "货运",
        "other": "其他",
    },
    {"其它": "other"},
)
PARTY = Spellings(
    {"member": "中共党员", "probationary": "预备党员", "none": "群众"},
    {"党员": "member", "中国共产党党员": "member", "中共预备党员": "probationary"},
)
PARTY_MEMBERS = ("member", "probationary")
"""Party values that make a worker a party member (section 7: ``party_members``)."""
RELATION = Spellings({"local": "已转入", "mobile": "流动"}, {"流动党员": "mobile"})
SERVICE = Spellings(
    {
        "rest": "休息",
        "water": "饮水",
        "charging": "充电",
        "hot_meal": "热饭",
        "toilet": "卫生间",
        "first_aid": "药箱",
        "rights_help": "维权",
    }
)

YES = ("是", "yes", "true", "1", "y")
NO = ("否", "no", "false", "0", "n")
YES_NO_EXPECTED = "是/否, yes/no, true/false, 1/0, Y/N"
_YES_NO = {**{s: True for s in YES}, **{s: False for s in NO}}


def parse_yes_no(value: object) -> bool | None:
    """True/False for a yes/no cell (empty is no); None when it is none of the spellings."""
    if value is None or (isinstance(value, float) and value != value):
        return False
    if isinstance(value, bool):  # an XLSX TRUE/FALSE cell
        return value
    text = normal(value)
    if text == "":
        return False
    return _YES_NO.get(text)


def parse_services(value: object) -> tuple[list[str], list[str]]:
    """Service codes (in the order of ``SERVICE``, no repeats) of a cell, and its unknown parts."""
    if value is None or (isinstance(value, float) and value != value):
        return [], []
    lookup = SERVICE.lookup()
    found: set[str] = set()
    unknown: list[str] = []
    for part in SEPARATORS.split(unicodedata.normalize("NFKC", str(value))):
        if not part.strip():
            continue
        code = lookup.get(normal(part))
        if code is None:
            unknown.append(part.strip())
        else:
            found.add(code)
    return [code for code in SERVICE.names if code in found], unknown


def join_services(codes: list[str]) -> str | None:
    """The stored form: codes joined by ';' (None for none)."""
    return ";".join(codes) if codes else None


def split_services(stored: object) -> list[str]:
    """Codes of a stored services value."""
    if stored is None or (isinstance(stored, float) and stored != stored) or stored == "":
        return []
    return str(stored).split(";")
