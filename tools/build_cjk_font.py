"""Rebuild the CJK font shipped for the weekly PDF: geo/fonts/NotoSansSC-{Regular,Bold}.ttf.

Noto Sans SC (SIL Open Font License 1.1) comes from the npm package
``@fontsource/noto-sans-sc`` (version pinned below), which splits the font into ~100
unicode-range pieces (.woff, zlib: readable by fontTools without brotli). This script
joins the pieces of weights 400 and 700 and keeps the common-use characters: every
character of GB 2312 (6,763 hanzi and its symbols), the package's own
"chinese-simplified" selection, ASCII, Latin-1, general and CJK punctuation, full-width
forms, and every character of ``geo/messages.toml``. Run from the repository root:

    npm pack @fontsource/noto-sans-sc@5.3.0 && tar xzf fontsource-noto-sans-sc-5.3.0.tgz
    python tools/build_cjk_font.py package/

The output is deterministic for the same input (fixed timestamps), so a rebuild of an
unchanged package gives the same bytes.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

PACKAGE_VERSION = "5.3.0"
ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "geo" / "fonts"
WEIGHTS = {400: "Regular", 700: "Bold"}
FIXED_TIME = 3_900_000_000  # head.created/modified (seconds since 1904): reproducible bytes


def wanted_codepoints(package: Path) -> set[int]:
    """The characters the shipped font covers."""
    points = set(range(0x20, 0x7F)) | set(range(0xA0, 0x100))
    points |= set(range(0x2000, 0x2070)) | set(range(0x3000, 0x3040)) | set(range(0xFF00, 0xFFF0))
    points |= {0x2103, 0x2116, 0x2190, 0x2191, 0x2192, 0x2193, 0x2264, 0x2265, 0x2212, 0x25B2}
    points |= {0x25BC, 0x25CF, 0x2713, 0x2715}
    for code in range(0x80, 0x10000):
        try:
            chr(code).encode("gb2312")
        except UnicodeEncodeError:
            continue
        points.add(code)
    selection = package / "files" / "noto-sans-sc-chinese-simplified-400-normal.woff"
    points |= set(TTFont(selection).getBestCmap())
    catalogue = tomllib.loads((ROOT / "geo" / "messages.toml").read_text(encoding="utf-8"))
    for entry in catalogue.values():
        for text in entry.values():
            points |= {ord(c) for c in text}
    return points


def _pieces(package: Path, weight: int) -> list[Path]:
    files = package / "files"
    named = files / f"noto-sans-sc-chinese-simplified-{weight}-normal.woff"
    numbered = sorted(
        files.glob(f"noto-sans-sc-*-{weight}-normal.woff"),
        key=lambda p: (not re.search(rf"-\d+-{weight}-", p.name), p.name),
    )
    return [named, *[p for p in numbered if p != named]]


def join_pieces(package: Path, weight: int, points: set[int]) -> TTFont:
    """One font with every wanted glyph of the pieces of ``weight`` (outlines are identical)."""
    pieces = _pieces(package, weight)
    base = TTFont(pieces[0])
    for tag in ("GSUB", "GPOS", "GDEF", "BASE", "STAT"):
        if tag in base:
            del base[tag]
    cmap = base.getBestCmap()
    order = base.getGlyphOrder()
    glyf, hmtx = base["glyf"], base["hmtx"]
    vmtx = base["vmtx"] if "vmtx" in base else None
    tables = [t for t in base["cmap"].tables if t.isUnicode()]
    for piece_path in pieces[1:]:
        piece = TTFont(piece_path)
        for code, name in piece.getBestCmap().items():
            if code in cmap or code not in points:
                continue
            glyph = piece["glyf"][name]
            if glyph.isComposite():
                continue  # CJK glyphs are simple outlines; a composite would need its parts
            new_name = f"u{code:04X}"
            order.append(new_name)
            glyf.glyphs[new_name] = glyph
            hmtx.metrics[new_name] = piece["hmtx"][name]
            if vmtx is not None and "vmtx" in piece:
                vmtx.metrics[new_name] = piece["vmtx"][name]
            cmap[code] = new_name
            for table in tables:
                if table.format in (4, 12) and (code <= 0xFFFF or table.format == 12):
                    table.cmap[code] = new_name
    base.setGlyphOrder(order)
    glyf.glyphOrder = order
    base["maxp"].numGlyphs = len(order)
    return base


def build(package: Path) -> None:
    """Write the two weights, subset to the wanted characters, and the licence."""
    points = wanted_codepoints(package)
    OUT.mkdir(parents=True, exist_ok=True)
    for weight, style in WEIGHTS.items():
        font = join_pieces(package, weight, points)
        options = subset.Options()
        options.layout_features = []
        options.name_IDs = ["*"]
        options.notdef_outline = True
        options.recalc_timestamp = False
        options.glyph_names = False
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=sorted(points))
        subsetter.subset(font)
        font["head"].created = font["head"].modified = FIXED_TIME
        font["OS/2"].usWeightClass = weight
        _name_font(font, style)
        font.flavor = None
        font.recalcTimestamp = False  # keep FIXED_TIME: the same input gives the same bytes
        out = OUT / f"NotoSansSC-{style}.ttf"
        font.save(out, reorderTables=True)
        covered = len(set(font.getBestCmap()) & points)
        print(f"{out.relative_to(ROOT)}: {out.stat().st_size:,} bytes, {covered} characters")
    licence = (package / "LICENSE").read_text(encoding="utf-8")
    (OUT / "OFL.txt").write_text(licence, encoding="utf-8")


def _name_font(font: TTFont, style: str) -> None:
    """Family "Noto Sans SC" and the style (the pieces say "Thin Regular")."""
    names = font["name"]
    full = f"Noto Sans SC {style}" if style != "Regular" else "Noto Sans SC"
    for record in list(names.names):
        if record.nameID in (1, 16):
            names.setName(
                "Noto Sans SC", record.nameID, record.platformID, record.platEncID, record.langID
            )
        elif record.nameID in (2, 17):
            names.setName(style, record.nameID, record.platformID, record.platEncID, record.langID)
        elif record.nameID == 4:
            names.setName(full, 4, record.platformID, record.platEncID, record.langID)
        elif record.nameID == 6:
            names.setName(
                f"NotoSansSC-{style}", 6, record.platformID, record.platEncID, record.langID
            )
    font["head"].macStyle = 1 if style == "Bold" else 0
    font["OS/2"].fsSelection = (font["OS/2"].fsSelection & ~0b1100001) | (
        0b100000 if style == "Bold" else 0b1000000
    )


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    build(Path(sys.argv[1]))
