"""The open-licence fonts synthetic plates are drawn with, at their Debian paths.

Indonesian plates use a condensed, DIN-like typeface. Two SIL OFL families come close and are
packaged by Debian: Bebas Neue (`fonts-bebas-neue`) and OSP-DIN (`fonts-opendin`). Nothing is
downloaded or copied into the repository: the fonts are read where apt puts them.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

INSTALL_HINT = "apt-get install -y fonts-bebas-neue fonts-opendin"

# Regular, Bold and DIN are the weights closest to real plates; Bebas Neue's Book, Light and
# Thin are too thin (Book is drawn like Light).
FONT_PATHS: tuple[Path, ...] = (
    Path("/usr/share/fonts/opentype/bebas-neue/BebasNeue-Regular.otf"),
    Path("/usr/share/fonts/opentype/bebas-neue/BebasNeue-Bold.otf"),
    Path("/usr/share/fonts/truetype/opendin/OSP-DIN.ttf"),
)


class FontsMissing(RuntimeError):
    """The plate fonts are not installed; the message says how to install them."""


def font_paths() -> tuple[Path, ...]:
    missing = [str(path) for path in FONT_PATHS if not path.is_file()]
    if missing:
        raise FontsMissing(
            f"plate fonts not found: {', '.join(missing)}. Install them (SIL OFL, Debian): "
            f"{INSTALL_HINT}"
        )
    return FONT_PATHS


@lru_cache(maxsize=16)
def load_font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), size)
