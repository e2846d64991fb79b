import pandas as pd
import pytest

from geo.access.privacy import mask_frame, mask_id_number, mask_name, mask_phone, suppress_small


@pytest.mark.parametrize(
    ("fn", "value", "masked"),
    [
        (mask_name, "张三", "张*"),
        (mask_name, "欧阳娜娜", "欧***"),
        (mask_name, "张", "张*"),
        (mask_name, None, None),
        (mask_phone, "13812341234", "138****1234"),
        (mask_phone, "0471-6601234", "047*****1234"),
        (mask_phone, "12345", "*****"),
        (mask_id_number, "150102199001011234", "150102********1234"),
        (mask_id_number, "15010219900101123X", "150102********123X"),
        (mask_id_number, "", None),
    ],
)
def test_masks(fn, value, masked):
    assert fn(value) == masked


def test_mask_frame_masks_every_personal_column_and_keeps_the_rest():
    frame = pd.DataFrame(
        {
            "household_id": ["H1"],
            "head_name": ["李四"],
            "phone": ["13900001111"],
            "id_number": ["150102194501011234"],
        }
    )
    masked = mask_frame(frame)
    assert masked.iloc[0].tolist() == ["H1", "李*", "139****1111", "150102********1234"]
    assert frame.iloc[0]["head_name"] == "李四"  # the input is untouched


@pytest.mark.parametrize(("count", "shown"), [(0, 0), (1, "<3"), (2, "<3"), (3, 3), (250, 250)])
def test_small_counts_are_suppressed(count, shown):
    assert suppress_small(count) == shown
