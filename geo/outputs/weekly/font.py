"""The CJK font of the weekly PDF and charts: ``$GRIDMAP_CJK_FONT``, else the font gridmap ships in ``geo/fonts/``."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

FONT_ENV = "GRIDMAP_CJK_FONT"
# Noto Sans SC (SIL OFL 1.1), the common-use characters, shipped with gridmap: the PDF
# looks the same on every server (tools/build_cjk_font.py rebuilds the subset)
FONT_DIR = Path(__file__).resolve().parents[2] / "fonts"  # geo/fonts
SHIPPED_REGULAR = FONT_DIR / "NotoSansSC-Regular.ttf"
SHIPPED_BOLD = FONT_DIR / "NotoSansSC-Bold.ttf"


@dataclass(frozen=True)
class CjkFont:
    """A font file with Chinese glyphs: regular and bold (same file when no bold), face index."""

    regular: Path
    bold: Path
    index: int


class FontMissing(RuntimeError):
    """The font named by ``$GRIDMAP_CJK_FONT`` is not there."""


def cjk_font() -> CjkFont:
    """The CJK font to embed: ``$GRIDMAP_CJK_FONT`` (``path`` or ``path#face``) when set, else
    the Noto Sans SC shipped with gridmap; raises FontMissing when the override names no file."""
    override = os.environ.get(FONT_ENV)
    if override:
        path, _, face = override.partition("#")
        if not Path(path).is_file():
            raise FontMissing(f"{FONT_ENV}={override}: no such font file")
        return CjkFont(Path(path), Path(path), int(face or 0))
    return CjkFont(SHIPPED_REGULAR, SHIPPED_BOLD, 0)


@cache
def _matplotlib_family(font: CjkFont) -> str:
    """Register the font's regular and bold faces with matplotlib; their family name.

    With the bold face registered, a bold label finds it instead of printing
    ``findfont: Failed to find font weight bold`` on stderr.
    """
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    for path in dict.fromkeys((str(font.regular), str(font.bold))):
        font_manager.fontManager.addfont(path)
    return FT2Font(str(font.regular), face_index=font.index).family_name
