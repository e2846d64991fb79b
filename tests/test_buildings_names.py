"""Building names as clerks write them, and households' places read from their addresses."""

import pandas as pd
import pytest

from geo.buildings.address import Place, parse_address, parse_addresses, room_text
from geo.buildings.names import (
    building_key,
    building_keys,
    building_number,
    chinese_number,
    natural_key,
    normalise,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("一", 1),
        ("十", 10),
        ("十二", 12),
        ("二十", 20),
        ("二十三", 23),
        ("两", 2),
        ("五〇一", 501),
        ("一二〇三", 1203),
        ("十十", None),
        ("三号", None),
        ("", None),
    ],
)
def test_chinese_numbers(text, expected):
    assert chinese_number(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1号楼", "1号楼"),
        ("1栋", "1号楼"),
        ("1幢", "1号楼"),
        ("1#", "1号楼"),
        ("1#楼", "1号楼"),
        ("１＃楼", "1号楼"),  # full-width, as an IME types it
        ("01号楼", "1号楼"),
        ("第1栋", "1号楼"),
        ("一号楼", "1号楼"),
        ("十二栋", "12号楼"),
        (" 3 号 楼 ", "3号楼"),
        ("A座", "a号楼"),
        ("综合楼", "综合楼"),
        ("锦绣小区3号楼", "锦绣小区3号楼"),  # a longer text is not a bare name
        (None, ""),
        ("", ""),
    ],
)
def test_building_key(text, expected):
    assert building_key(text) == expected


def test_keys_of_a_column_match_one_by_one():
    values = pd.Series(["1栋", None, "1号楼", "二号楼", "1栋"])
    assert building_keys(values).tolist() == ["1号楼", "", "1号楼", "2号楼", "1号楼"]
    assert building_keys(pd.Series([], dtype=object)).tolist() == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("锦绣小区3号楼", "3号楼"),
        ("东河小区3号楼2单元501", "3号楼"),
        ("3楼2单元501", "3号楼"),  # 楼 before a unit names the building
        ("5号院3号楼2单元5楼", "3号楼"),  # the last building word; 5楼 is a floor
        ("新华路15号锦绣小区3号楼", "3号楼"),  # a street number is no building
        ("东河小区2单元501", None),
        ("三号楼二单元五〇一", "3号楼"),
        ("12", None),
    ],
)
def test_building_number_in_a_text(text, expected):
    assert building_number(text) == expected


def test_normalise_turns_numerals_before_building_words_into_digits():
    assert normalise("三号楼 二单元 五〇一室") == "3号楼2单元501室"
    assert normalise("一心小区") == "一心小区"  # a numeral in a name stays


def test_natural_order():
    names = ["10号楼", "2号楼", "1号楼", "综合楼", "1号楼A"]
    assert sorted(names, key=natural_key) == ["1号楼", "1号楼A", "2号楼", "10号楼", "综合楼"]


@pytest.mark.parametrize(
    ("address", "place"),
    [
        ("东河小区3号楼2单元501", Place("3号楼", 2, 5, 1)),
        ("3栋2单元501室", Place("3号楼", 2, 5, 1)),
        ("3幢2单元1802号", Place("3号楼", 2, 18, 2)),
        ("3-2-501", Place("3号楼", 2, 5, 1)),
        ("锦绣小区3号楼2-501", Place("3号楼", 2, 5, 1)),
        ("3号楼2单元5层1号", Place("3号楼", 2, 5, 1)),
        ("3号楼2单元5楼1户", Place("3号楼", 2, 5, 1)),
        ("3号楼2单元0501", Place("3号楼", 2, 5, 1)),
        ("东河小区3号楼2单元1201室", Place("3号楼", 2, 12, 1)),
        ("三号楼二单元五〇一", Place("3号楼", 2, 5, 1)),
        ("新华路15号锦绣小区3号楼2单元501", Place("3号楼", 2, 5, 1)),
        ("3楼2单元501", Place("3号楼", 2, 5, 1)),
        # what is not written is not guessed
        ("3号楼501", Place("3号楼", None, 5, 1)),
        ("3号楼2单元", Place("3号楼", 2, None, None)),
        ("1单元6号", Place(None, 1, None, None)),  # an old walk-up's door number: floor unknown
        ("3号楼2单元-101", Place("3号楼", 2, None, None)),  # a basement is not a floor here
        ("3号楼2单元0001", Place("3号楼", 2, None, None)),
        ("新华路12号", Place()),
        ("", Place()),
        (None, Place()),
    ],
)
def test_parse_address(address, place):
    assert parse_address(address) == place


def test_parse_addresses_keeps_the_index_and_marks_unknowns():
    places = parse_addresses(pd.Series(["3-2-501", None, "3号楼2单元"], index=[7, 8, 9]))
    assert places.index.tolist() == [7, 8, 9]
    assert places["address_building"].tolist() == ["3号楼", None, "3号楼"]
    assert places["unit"].tolist() == [2, pd.NA, 2]
    assert places["floor"].tolist() == [5, pd.NA, pd.NA]
    assert places["door"].tolist() == [1, pd.NA, pd.NA]
    assert str(places["floor"].dtype) == "Int64"


@pytest.mark.parametrize(
    ("floor", "door", "expected"), [(5, 1, "501"), (12, 3, "1203"), (5, None, None)]
)
def test_room_text(floor, door, expected):
    assert room_text(floor, door) == expected
