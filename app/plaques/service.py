"""统一标识牌: the station plaque of 附件2, rendered print-ready with the station's QR code.

附件2: 字体方正大标宋, 大红色字, 金色（拉丝）底, 60×40 cm. We render a landscape plaque of
those proportions at 300 dpi with an open CJK serif (Noto Serif CJK SC Bold, Debian's
fonts-noto-cjk), the title in red on brushed gold, and a QR code (error correction H) that
opens the station's page.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import qrcode
from PIL import Image, ImageDraw, ImageFilter, ImageFont
from qrcode.constants import ERROR_CORRECT_H

from app.errors import DomainError
from app.stations.models import Station, StationKind

PLAQUE_CM = (60.0, 40.0)
PRINT_DPI = 300
RED = (200, 16, 46)  # 大红
DARK_RED = (150, 10, 30)
GOLD_LIGHT = (238, 206, 128)
GOLD_DARK = (196, 150, 62)
SLOGAN = "扫码找代表 · 留言 · 预约"
# The kind suffix goes on the plaque's second line when the name is long.
KIND_SUFFIXES = ("人大代表之家", "人大代表联络站", "人大代表联系点")


class PlaqueFontMissing(DomainError):
    status = 500
    code = "plaque_font_missing"


@dataclass(frozen=True)
class PlaqueFont:
    path: str
    index: int = 0

    def load(self, size: int) -> ImageFont.FreeTypeFont:
        try:
            return ImageFont.truetype(self.path, size, index=self.index)
        except OSError:
            raise PlaqueFontMissing(
                f"找不到标识牌字体 {self.path}：请安装 fonts-noto-cjk，或用 PLAQUE_FONT 指定字体文件。"
            ) from None


def plaque_font(config) -> PlaqueFont:
    """The plaque font from ``PLAQUE_FONT`` / ``PLAQUE_FONT_INDEX``, checked to load."""
    font = PlaqueFont(config["PLAQUE_FONT"], int(config["PLAQUE_FONT_INDEX"]))
    font.load(12)
    return font


def station_url(station: Station, base_url: str) -> str:
    return f"{base_url.rstrip('/')}/s/{station.code}"


def plaque_size(dpi: int) -> tuple[int, int]:
    """Pixel size of a 60×40 cm plaque at ``dpi``."""
    return round(PLAQUE_CM[0] / 2.54 * dpi), round(PLAQUE_CM[1] / 2.54 * dpi)


def title_lines(station: Station) -> list[str]:
    """The plaque's title: the name, split before its kind suffix when it is long."""
    name = station.name
    for suffix in KIND_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix) + 4:
            return [name[: -len(suffix)], suffix]
    if len(name) > 12 and station.kind == StationKind.POINT:
        return [name[: len(name) // 2], name[len(name) // 2 :]]
    return [name]


def qr_image(url: str, side: int) -> Image.Image:
    """A QR code (error correction H, 4-module quiet zone) scaled to ``side`` pixels, crisp."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_H, box_size=1, border=4)
    code.add_data(url)
    code.make(fit=True)
    modules = code.make_image(fill_color="black", back_color="white").get_image().convert("L")
    scale = max(1, side // modules.size[0])
    return modules.resize((modules.size[0] * scale, modules.size[1] * scale), Image.NEAREST)


def _brushed_gold(size: tuple[int, int]) -> Image.Image:
    width, height = size
    # A vertical light-to-dark gradient, then fine horizontal streaks for the 拉丝 finish.
    gradient = Image.linear_gradient("L").resize((width, height))
    ground = Image.composite(Image.new("RGB", size, GOLD_DARK), Image.new("RGB", size, GOLD_LIGHT), gradient)
    streaks = Image.effect_noise((1, max(1, height // 2)), 28).resize((width, height), Image.NEAREST)
    streaks = streaks.filter(ImageFilter.GaussianBlur(max(1, height // 2000)))
    tint = Image.merge("RGB", (streaks, streaks, streaks))
    return Image.blend(ground, Image.composite(tint, ground, Image.new("L", size, 60)), 0.5)


def _fit_font(font: PlaqueFont, text: str, max_width: int, max_height: int) -> ImageFont.FreeTypeFont:
    size = max_height
    while size > 8:
        loaded = font.load(size)
        left, top, right, bottom = loaded.getbbox(text)
        if right - left <= max_width and bottom - top <= max_height:
            return loaded
        size = int(size * 0.94)
    return font.load(8)


def render_plaque(station: Station, *, base_url: str, font: PlaqueFont, dpi: int = PRINT_DPI) -> Image.Image:
    """The station's plaque as an RGB image of 60×40 cm at ``dpi``."""
    width, height = plaque_size(dpi)
    image = _brushed_gold((width, height))
    draw = ImageDraw.Draw(image)
    margin = round(height * 0.05)
    # A double red frame, as on the brass plaques.
    for inset, stroke in (
        (margin // 2, max(2, height // 120)),
        (margin // 2 + height // 50, max(1, height // 400)),
    ):
        draw.rectangle((inset, inset, width - inset, height - inset), outline=DARK_RED, width=stroke)

    lines = title_lines(station)
    # One size for every line, fitted to the longest, as on the brass plaques.
    title_top, title_bottom = round(height * 0.11), round(height * (0.54 if len(lines) > 1 else 0.42))
    line_height = (title_bottom - title_top) // len(lines)
    longest = max(lines, key=lambda line: font.load(100).getlength(line))
    title_font = _fit_font(font, longest, width - 5 * margin, round(line_height * 0.8))
    for i, line in enumerate(lines):
        center_y = title_top + line_height * i + line_height // 2
        draw.text((width // 2, center_y), line, font=title_font, fill=RED, anchor="mm")

    qr_side = round(height * 0.32)
    qr = qr_image(station_url(station, base_url), qr_side)
    qr_x = width - 2 * margin - qr.size[0]
    qr_y = height - 2 * margin - qr.size[1]
    image.paste(qr.convert("RGB"), (qr_x, qr_y))

    slogan_font = _fit_font(font, SLOGAN, qr_x - 4 * margin, round(height * 0.075))
    text_y = qr_y + qr.size[1] // 2
    draw.text((3 * margin, text_y - round(height * 0.03)), SLOGAN, font=slogan_font, fill=RED, anchor="lm")
    small = font.load(max(10, round(height * 0.03)))
    draw.text(
        (3 * margin, text_y + round(height * 0.07)),
        f"站点编号 {station.code}",
        font=small,
        fill=DARK_RED,
        anchor="lm",
    )
    return image


def plaque_bytes(image: Image.Image, fmt: str, dpi: int = PRINT_DPI) -> bytes:
    """Encode as PNG or PDF with the physical resolution recorded, so it prints at 60×40 cm."""
    out = io.BytesIO()
    if fmt == "pdf":
        image.save(out, "PDF", resolution=float(dpi))
    else:
        image.save(out, "PNG", dpi=(dpi, dpi), optimize=False, compress_level=6)
    return out.getvalue()


def make_plaques(
    stations: Iterable[Station],
    out_dir: Path,
    *,
    base_url: str,
    font: PlaqueFont,
    dpi: int = PRINT_DPI,
    on_done: Callable[[Station], None] | None = None,
) -> list[Path]:
    """Write ``<code>.png`` and ``<code>.pdf`` for each station into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for station in stations:
        image = render_plaque(station, base_url=base_url, font=font, dpi=dpi)
        for fmt in ("png", "pdf"):
            path = out_dir / f"{station.code}.{fmt}"
            path.write_bytes(plaque_bytes(image, fmt, dpi))
            written.append(path)
        if on_done is not None:
            on_done(station)
    return written
