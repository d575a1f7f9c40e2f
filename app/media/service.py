"""Uploaded images: checked, re-encoded with Pillow, stored under the upload folder."""

from __future__ import annotations

import io
import uuid
from pathlib import Path
from typing import IO

from flask import current_app
from PIL import Image, ImageOps, UnidentifiedImageError

from app.errors import ValidationFailed

ALLOWED_FORMATS = {"JPEG", "PNG", "GIF", "WEBP", "BMP", "MPO"}
MAX_SIDE = 2000
# A small file can still decode to a huge bitmap; refuse decompression bombs early.
MAX_PIXELS = 40_000_000


def save_image(
    stream: IO[bytes], folder: str, *, max_bytes: int | None = None, max_side: int = MAX_SIDE
) -> str:
    """Store an uploaded image as a fresh JPEG; return its path relative to the upload folder.

    Anything that is not a decodable image of an allowed format, or is too large, is refused
    with a clear message; the original bytes are never stored or served.
    """
    limit = max_bytes or current_app.config["MAX_IMAGE_BYTES"]
    data = stream.read(limit + 1)
    if not data:
        raise ValidationFailed("请选择图片文件。", field="photo")
    if len(data) > limit:
        raise ValidationFailed(f"图片不能超过 {limit // (1024 * 1024)} MB。", field="photo")
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in ALLOWED_FORMATS:
                raise ValidationFailed("只能上传 JPG、PNG、GIF、WEBP 格式的图片。", field="photo")
            probe.verify()
        with Image.open(io.BytesIO(data)) as img:
            img = ImageOps.exif_transpose(img)
            img.thumbnail((max_side, max_side))
            if img.mode not in ("RGB", "L"):
                background = Image.new("RGB", img.size, "white")
                rgba = img.convert("RGBA")
                background.paste(rgba, mask=rgba.split()[-1])
                img = background
            out = io.BytesIO()
            img.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
    except ValidationFailed:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError, SyntaxError):
        raise ValidationFailed("无法识别的图片文件，请上传 JPG 或 PNG 图片。", field="photo") from None
    relative = f"{folder}/{uuid.uuid4().hex}.jpg"
    target = Path(current_app.config["UPLOAD_FOLDER"]) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(out.getvalue())
    return relative


def delete_file(relative: str | None) -> None:
    if not relative:
        return
    target = Path(current_app.config["UPLOAD_FOLDER"]) / relative
    target.unlink(missing_ok=True)
