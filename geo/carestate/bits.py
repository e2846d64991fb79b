"""Day sets as 128-bit masks: bit k of a row is set when something happened on ``anchor - k``.

A mask is two uint64 words per row (an (n, 2) array): word 0 holds bits 0..63 (the
anchor day and the 63 days before it), word 1 bits 64..127. ``anchor`` is a day number
(days since 1970-01-01) per row. Everything is vectorised over rows.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

HORIZON = 128
"""Days a mask covers: the anchor day and the 127 before it."""
_ONE = np.uint64(1)
_FULL = np.uint64(0xFFFF_FFFF_FFFF_FFFF)


def day_number(day: dt.date) -> int:
    """Days since 1970-01-01."""
    return int(np.datetime64(day, "D").astype(np.int64))


def day_numbers(texts: np.ndarray) -> np.ndarray:
    """Day numbers of 'YYYY-MM-DD...' texts (their first 10 characters); -1 where not a date."""
    values = np.asarray(texts, dtype=object)
    out = np.full(len(values), -1, dtype=np.int64)
    present = np.array([isinstance(v, str) and len(v) >= 10 for v in values], dtype=bool)
    if present.any():
        heads = np.array([v[:10] for v in values[present]], dtype="U10")
        try:
            days = heads.astype("datetime64[D]")
        except ValueError:  # some text is no date: one by one
            days = np.array([_day_or_nat(h) for h in heads], dtype="datetime64[D]")
        numbers = days.astype(np.int64)
        numbers[np.isnat(days)] = -1
        out[present] = numbers
    return out


def _day_or_nat(text: str) -> np.datetime64:
    try:
        return np.datetime64(text, "D")
    except ValueError:
        return np.datetime64("NaT", "D")


def empty(n: int) -> np.ndarray:
    """``n`` rows of empty masks."""
    return np.zeros((n, 2), dtype=np.uint64)


def from_days(n: int, rows: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Masks of ``n`` rows with bit ``offsets[i]`` of row ``rows[i]`` set (offsets 0..127)."""
    masks = empty(n)
    rows = np.asarray(rows, dtype=np.int64)
    offsets = np.asarray(offsets, dtype=np.int64)
    keep = (offsets >= 0) & (offsets < HORIZON)
    rows, offsets = rows[keep], offsets[keep]
    word = offsets // 64
    bit = np.left_shift(_ONE, (offsets % 64).astype(np.uint64))
    for w in (0, 1):
        chosen = word == w
        np.bitwise_or.at(masks[:, w], rows[chosen], bit[chosen])
    return masks


def shift(masks: np.ndarray, by: np.ndarray | int) -> np.ndarray:
    """Masks re-anchored ``by`` days later (positive: bits move up, the oldest fall off;
    negative: bits move down, days after the new anchor fall off)."""
    if np.ndim(by) == 0:
        return _shift_all(masks, int(by))
    by = np.broadcast_to(np.asarray(by, dtype=np.int64), (len(masks),))
    lo, hi = masks[:, 0], masks[:, 1]
    out = empty(len(masks))
    up = by >= 0
    for rows, amount in ((up, by), (~up, -by)):
        if not rows.any():
            continue
        mover = _shift_left if rows is up else _shift_right
        new_lo, new_hi = mover(lo[rows], hi[rows], amount[rows])
        out[rows, 0], out[rows, 1] = new_lo, new_hi
    return out


def _shift_all(masks: np.ndarray, by: int) -> np.ndarray:
    """``shift`` of every row by the same amount (four whole-column operations)."""
    lo, hi = masks[:, 0], masks[:, 1]
    out = empty(len(masks))
    s = abs(by)
    if s >= HORIZON:
        return out
    if by == 0:
        return masks.copy()
    if by > 0:
        if s < 64:
            out[:, 0] = lo << np.uint64(s)
            out[:, 1] = (hi << np.uint64(s)) | (lo >> np.uint64(64 - s))
        else:
            out[:, 1] = lo << np.uint64(s - 64)
    elif s < 64:
        out[:, 0] = (lo >> np.uint64(s)) | (hi << np.uint64(64 - s))
        out[:, 1] = hi >> np.uint64(s)
    else:
        out[:, 0] = hi >> np.uint64(s - 64)
    return out


def window_words(start: int, length: int) -> np.ndarray:
    """The two words of ``window`` for one start and length (to broadcast over rows)."""
    return window(start, length, 1)[0]


def _shl(x: np.ndarray, s: np.ndarray) -> np.ndarray:
    """x << s per element, 0 where s >= 64 (numpy leaves that undefined)."""
    ok = s < 64
    return np.where(ok, np.left_shift(x, np.where(ok, s, 0).astype(np.uint64)), np.uint64(0))


def _shr(x: np.ndarray, s: np.ndarray) -> np.ndarray:
    ok = s < 64
    return np.where(ok, np.right_shift(x, np.where(ok, s, 0).astype(np.uint64)), np.uint64(0))


def _shift_left(lo: np.ndarray, hi: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    s = np.minimum(s, 128)
    carry = np.where(
        s == 0,
        np.uint64(0),
        np.where(s <= 64, _shr(lo, 64 - np.minimum(s, 64)), _shl(lo, s - 64)),
    )
    new_hi = np.where(s < 64, _shl(hi, s), np.uint64(0)) | carry
    new_lo = _shl(lo, s)
    return new_lo, new_hi


def _shift_right(lo: np.ndarray, hi: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    s = np.minimum(s, 128)
    borrow = np.where(
        s == 0,
        np.uint64(0),
        np.where(s <= 64, _shl(hi, 64 - np.minimum(s, 64)), _shr(hi, s - 64)),
    )
    new_lo = np.where(s < 64, _shr(lo, s), np.uint64(0)) | borrow
    new_hi = _shr(hi, s)
    return new_lo, new_hi


def window(start: np.ndarray | int, length: np.ndarray | int, n: int) -> np.ndarray:
    """Masks with bits ``start .. start+length-1`` set (clipped to 0..127; none when length <= 0)."""
    start = np.broadcast_to(np.asarray(start, dtype=np.int64), (n,))
    length = np.broadcast_to(np.asarray(length, dtype=np.int64), (n,))
    first = np.clip(start, 0, HORIZON)
    last = np.clip(start + length, 0, HORIZON)  # exclusive
    out = empty(n)
    for w in (0, 1):
        a = np.clip(first - 64 * w, 0, 64)
        b = np.clip(last - 64 * w, 0, 64)
        width = np.maximum(b - a, 0)
        ones = np.where(width >= 64, _FULL, _shl(_ONE, width) - _ONE)
        out[:, w] = _shl(ones, a)
    return out


def count(masks: np.ndarray) -> np.ndarray:
    """Set bits per row."""
    return (np.bitwise_count(masks[:, 0]) + np.bitwise_count(masks[:, 1])).astype(np.int64)


def lowest(masks: np.ndarray) -> np.ndarray:
    """The position of each row's lowest set bit (the most recent day); -1 when none."""
    lo, hi = masks[:, 0], masks[:, 1]
    low_lo = np.bitwise_count((lo & (~lo + _ONE)) - _ONE).astype(np.int64)
    low_hi = np.bitwise_count((hi & (~hi + _ONE)) - _ONE).astype(np.int64) + 64
    return np.where(lo != 0, low_lo, np.where(hi != 0, low_hi, -1))


def nth_lowest(masks: np.ndarray, m: int) -> np.ndarray:
    """The position of each row's m-th lowest set bit (m >= 1); -1 when it has fewer."""
    work = masks.copy()
    position = np.full(len(masks), -1, dtype=np.int64)
    for _ in range(m):
        position = lowest(work)
        lo, hi = work[:, 0], work[:, 1]
        has_lo = lo != 0
        work[:, 0] = np.where(has_lo, lo & (lo - _ONE), lo)
        work[:, 1] = np.where(~has_lo & (hi != 0), hi & (hi - _ONE), hi)
    return position
