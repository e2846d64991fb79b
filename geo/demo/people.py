"""Synthetic people: names (Han and Mongol), mobile numbers and ID numbers with a valid check digit."""

from __future__ import annotations

import numpy as np

SURNAMES = (
    "王",
    "李",
    "张",
    "刘",
    "赵",
    "杨",
    "高",
    "郭",
    "马",
    "陈",
    "孙",
    "胡",
    "徐",
    "朱",
    "周",
    "吴",
    "田",
    "贾",
    "韩",
    "冯",
    "董",
    "于",
    "梁",
    "何",
    "宋",
    "郝",
    "任",
    "武",
    "薛",
    "白",
    "崔",
    "杜",
    "乔",
    "石",
    "康",
    "侯",
    "曹",
    "范",
    "程",
    "史",
    "阎",
    "秦",
    "吕",
    "魏",
    "罗",
    "云",
    "包",
    "霍",
)
_MALE_OLD = (
    "建国",
    "国华",
    "振华",
    "德明",
    "志强",
    "宝山",
    "玉柱",
    "福贵",
    "长林",
    "金山",
    "树林",
    "文明",
    "建军",
    "和平",
    "永利",
    "占海",
    "有才",
    "忠",
    "明",
    "俊",
    "世昌",
    "润生",
    "满仓",
    "铁柱",
)
_FEMALE_OLD = (
    "秀英",
    "桂兰",
    "玉兰",
    "淑珍",
    "凤英",
    "秀兰",
    "桂英",
    "玉梅",
    "素芳",
    "丽华",
    "桂芳",
    "玉珍",
    "秀珍",
    "淑兰",
    "凤兰",
    "翠兰",
    "美英",
    "金花",
    "玉芬",
    "秀梅",
)
_MALE_YOUNG = (
    "伟",
    "磊",
    "强",
    "军",
    "勇",
    "杰",
    "涛",
    "鹏",
    "浩",
    "宇",
    "超",
    "斌",
    "波",
    "刚",
    "辉",
    "晓东",
    "志刚",
    "海涛",
    "建伟",
    "俊杰",
    "子轩",
    "浩然",
    "宏伟",
    "文博",
)
_FEMALE_YOUNG = (
    "静",
    "丽",
    "敏",
    "艳",
    "娟",
    "芳",
    "霞",
    "婷",
    "燕",
    "红",
    "晶",
    "丹",
    "倩",
    "慧",
    "雪",
    "琳",
    "晓燕",
    "丽娟",
    "海燕",
    "佳怡",
    "欣怡",
    "雨涵",
    "秀芳",
    "文静",
)
_MONGOL_MALE = (
    "巴特尔",
    "额尔敦",
    "苏和",
    "朝鲁",
    "宝音",
    "毕力格",
    "那顺",
    "乌力吉",
    "巴图",
    "孟和",
)
_MONGOL_FEMALE = (
    "其木格",
    "乌云",
    "斯琴",
    "萨仁",
    "娜仁花",
    "图雅",
    "高娃",
    "塔娜",
    "托娅",
    "乌兰",
)
# Hohhot county-level area codes and their share of residents
AREA_CODES = (150102, 150103, 150104, 150105, 150121, 150122, 150123, 150124, 150125)
_AREA_P = (0.58, 0.08, 0.07, 0.09, 0.05, 0.04, 0.03, 0.02, 0.04)
MOBILE_PREFIXES = (
    130,
    131,
    132,
    133,
    134,
    135,
    136,
    137,
    138,
    139,
    150,
    151,
    152,
    153,
    155,
    156,
    157,
    158,
    159,
    166,
    176,
    177,
    178,
    180,
    181,
    182,
    183,
    185,
    186,
    187,
    188,
    189,
    191,
    198,
    199,
)
_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
_ID_CHECK = np.frombuffer(b"10X98765432", dtype=np.uint8)


def _zipf_p(count: int, power: float = 0.9) -> np.ndarray:
    w = 1.0 / np.arange(1, count + 1) ** power
    return w / w.sum()


def _names(rng: np.random.Generator, male: np.ndarray, elderly: np.ndarray) -> np.ndarray:
    """Plausible Han and Mongol names (object array)."""
    n = len(male)
    surnames = np.array(SURNAMES, dtype=object)[
        rng.choice(len(SURNAMES), n, p=_zipf_p(len(SURNAMES)))
    ]
    given = np.empty(n, dtype=object)
    for pool, mask in (
        (_MALE_OLD, male & elderly),
        (_FEMALE_OLD, ~male & elderly),
        (_MALE_YOUNG, male & ~elderly),
        (_FEMALE_YOUNG, ~male & ~elderly),
    ):
        given[mask] = np.array(pool, dtype=object)[rng.integers(0, len(pool), mask.sum())]
    names = surnames + given
    # Hohhot has a sizeable Mongol population: about 8% Mongol names, half with a Han surname
    mongol = rng.random(n) < 0.08
    for pool, mask in ((_MONGOL_MALE, mongol & male), (_MONGOL_FEMALE, mongol & ~male)):
        picked = np.array(pool, dtype=object)[rng.integers(0, len(pool), mask.sum())]
        prefix = np.where(
            rng.random(mask.sum()) < 0.5,
            np.array(["包", "白", "云", "奇"], dtype=object)[rng.integers(0, 4, mask.sum())],
            "",
        )
        names[mask] = prefix + picked
    return names


def _digits_text(prefix: str, numbers: np.ndarray, width: int) -> np.ndarray:
    """``prefix`` + zero-padded ``numbers`` as a unicode array, built without Python per value."""
    numbers = np.asarray(numbers, dtype=np.int64)
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    digits = ((numbers[:, None] // powers) % 10 + 48).astype(np.uint8)
    head = np.broadcast_to(
        np.frombuffer(prefix.encode(), dtype=np.uint8), (len(numbers), len(prefix))
    )
    raw = np.ascontiguousarray(np.concatenate([head, digits], axis=1))
    return raw.view(f"S{len(prefix) + width}").ravel().astype(f"U{len(prefix) + width}")


def _phones(rng: np.random.Generator, n: int) -> np.ndarray:
    prefix = np.array(MOBILE_PREFIXES, dtype=np.int64)[rng.integers(0, len(MOBILE_PREFIXES), n)]
    return _digits_text("", prefix * 10**8 + rng.integers(0, 10**8, n), 11)


def _id_numbers(rng: np.random.Generator, births: np.ndarray, male: np.ndarray) -> np.ndarray:
    """18-digit resident ID numbers: Hohhot area code, birth date, sequence, sex digit, check digit."""
    n = len(births)
    area = np.array(AREA_CODES, dtype=np.int64)[rng.choice(len(AREA_CODES), n, p=_AREA_P)]
    year = births.astype("datetime64[Y]").astype(np.int64) + 1970
    month = births.astype("datetime64[M]").astype(np.int64) % 12 + 1
    day = (births - births.astype("datetime64[M]")).astype(np.int64) + 1
    seq = (
        rng.integers(0, 100, n) * 10 + rng.integers(0, 5, n) * 2 + male.astype(np.int64)
    )  # odd = male
    body = area * 10**11 + year * 10**7 + month * 10**5 + day * 10**3 + seq
    powers = 10 ** np.arange(16, -1, -1, dtype=np.int64)
    digits = (body[:, None] // powers) % 10
    check = _ID_CHECK[(digits @ _ID_WEIGHTS) % 11]
    raw = np.ascontiguousarray(
        np.concatenate([(digits + 48).astype(np.uint8), check[:, None]], axis=1)
    )
    return raw.view("S18").ravel().astype("U18")


def id_check_digit(first17: str) -> str:
    """The GB 11643 check character of the first 17 digits of a resident ID number."""
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11]
