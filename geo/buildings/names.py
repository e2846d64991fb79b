"""How building names compare: the ways clerks write "building 1" all mean the same building.

``1号楼``, ``1栋``, ``1幢``, ``1#``, ``1#楼``, ``一号楼``, ``１号楼`` and ``01号楼`` are one
building; its canonical key is ``1号楼``. Any other name (``综合楼``, ``A座``) is compared
after NFKC (full-width to half-width), without spaces and in lower case.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4}
_CN_DIGITS |= {"五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
CN_NUMERAL = "[零〇一二两三四五六七八九十]"
# a Chinese numeral standing where a number would: before a building/unit/floor/room word
_CN_NUMBER = re.compile(
    rf"{CN_NUMERAL}+(?=号楼|号|栋|幢|单元|层|楼|室|户|#)"
    rf"|(?<=单元){CN_NUMERAL}+|(?<=层){CN_NUMERAL}+|(?<=楼){CN_NUMERAL}+"
)
_SPACES = re.compile(r"\s+")
# a whole building name: a number or a letter and a building word (号楼 栋 幢 # 座 号 楼)
_WHOLE_BUILDING = re.compile(r"^第?0*(\d+|[a-z])(?:号楼|号栋|#楼|栋|幢|座|#|号|楼)$")
# a building inside a longer text (an address): 号 or 楼 alone only before "N单元" (5楼 alone
# is a floor)
BUILDING_IN_TEXT = re.compile(
    r"(?<![\da-z])0*(\d+|[a-z])(?:号楼|号栋|#楼|栋|幢|座|#|号(?=\d+单元)|楼(?=\d+单元))"
)


def chinese_number(text: str) -> int | None:
    """A Chinese numeral as an int: ``十二`` -> 12, ``二十`` -> 20, ``五〇一`` -> 501 (digit by
    digit when there is no 十); None when ``text`` is not one."""
    if not text or any(ch not in _CN_DIGITS and ch != "十" for ch in text):
        return None
    if "十" not in text:
        return int("".join(str(_CN_DIGITS[ch]) for ch in text))
    tens, _, ones = text.partition("十")
    if "十" in ones or len(tens) > 1 or len(ones) > 1:
        return None
    return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[ones] if ones else 0)


def normalise(text: object) -> str:
    """NFKC, no spaces, lower case, Chinese numerals before 楼/栋/单元/层/室 as digits."""
    if text is None or (isinstance(text, float) and text != text):
        return ""
    out = _SPACES.sub("", unicodedata.normalize("NFKC", str(text))).lower()
    if re.search(CN_NUMERAL, out):
        out = _CN_NUMBER.sub(lambda m: _digits(m.group(0)), out)
    return out


def _digits(numeral: str) -> str:
    value = chinese_number(numeral)
    return numeral if value is None else str(value)


def building_key(text: object) -> str:
    """The canonical key of a building name: ``1栋`` -> ``1号楼``; '' for an empty name."""
    name = normalise(text)
    match = _WHOLE_BUILDING.match(name)
    return f"{match.group(1)}号楼" if match else name


def building_number(text: object) -> str | None:
    """The building number in a longer text: ``锦绣小区3号楼`` -> ``3号楼`` (the last one), or None."""
    name = normalise(text)
    match = _WHOLE_BUILDING.match(name)
    if match:
        return f"{match.group(1)}号楼"
    found = BUILDING_IN_TEXT.findall(name)
    return f"{found[-1]}号楼" if found else None


def building_keys(values: pd.Series) -> np.ndarray:
    """``building_key`` of every value (object array), computed once per distinct value."""
    factor, uniques = pd.factorize(values.astype(object).where(values.notna(), ""), sort=False)
    keys = np.array([building_key(u) for u in uniques], dtype=object)
    return keys[factor] if len(uniques) else np.zeros(len(values), dtype=object)


def building_numbers(values: pd.Series) -> np.ndarray:
    """``building_number`` of every value (object array, None where there is none)."""
    factor, uniques = pd.factorize(values.astype(object).where(values.notna(), ""), sort=False)
    numbers = np.array([building_number(u) for u in uniques], dtype=object)
    return numbers[factor] if len(uniques) else np.zeros(len(values), dtype=object)


def natural_key(text: object) -> tuple:
    """A sort key putting 2号楼 before 10号楼 (numbers compared as numbers)."""
    parts = re.split(r"(\d+)", normalise(text))
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts if p)
