"""geo.carestate.bits against a plain Python-int model of 128-bit day sets."""

import datetime as dt

import numpy as np
import pytest

from geo.carestate import bits

MASK = (1 << 128) - 1


def as_ints(masks: np.ndarray) -> list[int]:
    return [int(lo) | (int(hi) << 64) for lo, hi in masks]


@pytest.fixture
def random_masks() -> tuple[np.ndarray, list[int]]:
    """400 masks: sparse, dense, empty, single top/bottom bits."""
    rng = np.random.default_rng(11)
    rows, offsets = [], []
    for r in range(400):
        k = rng.choice([0, 1, 3, 20, 100])
        picks = rng.choice(128, size=k, replace=False)
        rows += [r] * k
        offsets += picks.tolist()
    rows += [0, 1, 2]
    offsets += [127, 0, 63]
    masks = bits.from_days(400, np.array(rows), np.array(offsets))
    model = [0] * 400
    for r, o in zip(rows, offsets, strict=True):
        model[r] |= 1 << o
    return masks, model


def test_from_days_sets_exactly_the_bits(random_masks):
    masks, model = random_masks
    assert as_ints(masks) == model
    assert as_ints(bits.from_days(2, np.array([0, 1]), np.array([128, -1]))) == [0, 0]


@pytest.mark.parametrize(
    "by", [0, 1, 5, 63, 64, 65, 100, 127, 128, 300, -1, -63, -64, -65, -127, -128, -400]
)
def test_shift_moves_bits_and_drops_what_leaves_the_horizon(random_masks, by):
    masks, model = random_masks
    expected = [(m << by) & MASK if by >= 0 else m >> -by for m in model]
    assert as_ints(bits.shift(masks, by)) == expected


def test_shift_by_a_different_amount_per_row(random_masks):
    masks, model = random_masks
    amounts = np.random.default_rng(2).integers(-130, 130, len(model))
    expected = [
        (m << int(a)) & MASK if a >= 0 else m >> int(-a)
        for m, a in zip(model, amounts, strict=True)
    ]
    assert as_ints(bits.shift(masks, amounts)) == expected


def test_window_count_lowest_and_nth(random_masks):
    masks, model = random_masks
    rng = np.random.default_rng(5)
    start = rng.integers(-10, 130, len(model))
    length = rng.integers(-2, 70, len(model))
    windows = bits.window(start, length, len(model))
    expected_window = []
    for s, n in zip(start, length, strict=True):
        value = 0
        for k in range(max(int(s), 0), min(int(s + n), 128)):
            value |= 1 << k
        expected_window.append(value)
    assert as_ints(windows) == expected_window
    inside = masks & windows
    assert bits.count(inside).tolist() == [
        bin(m & w).count("1") for m, w in zip(model, expected_window, strict=True)
    ]
    assert bits.lowest(masks).tolist() == [(m & -m).bit_length() - 1 if m else -1 for m in model]
    for m in (1, 3, 7):
        expected = []
        for value in model:
            positions = [k for k in range(128) if value >> k & 1]
            expected.append(positions[m - 1] if len(positions) >= m else -1)
        assert bits.nth_lowest(masks, m).tolist() == expected


def test_day_numbers_read_the_date_part_and_refuse_non_dates():
    texts = np.array(
        ["1970-01-02", "2026-11-27 08:15:00", None, "", "2026-13-01", "abc"], dtype=object
    )
    assert bits.day_numbers(texts).tolist() == [
        1,
        bits.day_number(dt.date(2026, 11, 27)),
        -1,
        -1,
        -1,
        -1,
    ]


@pytest.mark.parametrize(
    "by", [0, 1, 63, 64, 65, 127, 128, 500, -1, -63, -64, -65, -127, -128, -500]
)
def test_shifting_every_row_alike_takes_the_whole_column_path(random_masks, by):
    masks, model = random_masks
    per_row = bits.shift(masks, np.full(len(model), by))
    assert np.array_equal(bits.shift(masks, by), per_row)
    assert np.array_equal(bits.window_words(3, 70), bits.window(3, 70, 1)[0])
