import pytest

from geo.care.categories import join_codes, parse_categories, split_codes


@pytest.mark.parametrize(
    ("cell", "codes", "unknown"),
    [
        ("red", ["red"], []),
        ("红、粉", ["red", "pink"], []),
        ("pink;red", ["red", "pink"], []),  # display order, not input order
        ("独居老人,孕妇", ["red", "blue"], []),
        ("空巢、留守老人 (65岁以上)", ["yellow"], []),  # the zh name itself contains 、
        ("空巢、留守老人|紫", ["yellow", "purple"], []),
        # full-width brackets and punctuation as clerks type them
        ("空巢、留守老人（65岁以上）", ["yellow"], []),
        ("空巢、留守老人(65岁以上)；精神障碍人员", ["yellow", "purple"], []),
        ("低保、特困等特殊群体，红", ["red", "pink"], []),
        ("红|红", ["red"], []),
        ("red;zz", ["red"], ["zz"]),
        ("", [], []),
        (None, [], []),
    ],
)
def test_parse_categories(cell, codes, unknown):
    assert parse_categories(cell) == (codes, unknown)


def test_stored_form_round_trips():
    assert split_codes(join_codes(["red", "pink"])) == ["red", "pink"]
    assert join_codes([]) is None
    assert split_codes(None) == []
