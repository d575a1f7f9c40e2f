"""Attached 文字/录音/影像 records of an activity: checked by content, stored under a name we choose.

The type is decided by the file's own bytes (``filetype``'s signatures), never by its name or
the browser's Content-Type: an executable renamed ``photo.jpg`` is sniffed as an executable and
refused. Only a short list of document, image, audio and video formats is kept; plain text is
accepted when it decodes as UTF-8 without control characters. Files are written under
``UPLOAD_FOLDER/ledger/`` with a random name and the extension of the sniffed type, and are
only ever served back by the console with that type, ``nosniff`` and a sandboxing CSP.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import filetype
from flask import current_app

from app.auth.models import StaffUser
from app.errors import ValidationFailed
from app.extensions import db
from app.ledger.models import Activity, ActivityRecord, RecordKind

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@dataclass(frozen=True)
class Allowed:
    kind: RecordKind
    content_type: str
    extension: str
    inline: bool  # shown in the browser (media) or always downloaded (documents)


# Sniffed extension → what we store and serve.
ALLOWED: dict[str, Allowed] = {
    "jpg": Allowed(RecordKind.IMAGE, "image/jpeg", "jpg", True),
    "png": Allowed(RecordKind.IMAGE, "image/png", "png", True),
    "gif": Allowed(RecordKind.IMAGE, "image/gif", "gif", True),
    "webp": Allowed(RecordKind.IMAGE, "image/webp", "webp", True),
    "mp3": Allowed(RecordKind.AUDIO, "audio/mpeg", "mp3", True),
    "m4a": Allowed(RecordKind.AUDIO, "audio/mp4", "m4a", True),
    "wav": Allowed(RecordKind.AUDIO, "audio/wav", "wav", True),
    "amr": Allowed(RecordKind.AUDIO, "audio/amr", "amr", False),
    "aac": Allowed(RecordKind.AUDIO, "audio/aac", "aac", True),
    "ogg": Allowed(RecordKind.AUDIO, "audio/ogg", "ogg", True),
    "mp4": Allowed(RecordKind.VIDEO, "video/mp4", "mp4", True),
    "mov": Allowed(RecordKind.VIDEO, "video/quicktime", "mov", False),
    "webm": Allowed(RecordKind.VIDEO, "video/webm", "webm", True),
    "3gp": Allowed(RecordKind.VIDEO, "video/3gpp", "3gp", False),
    "pdf": Allowed(RecordKind.TEXT, "application/pdf", "pdf", False),
    "docx": Allowed(RecordKind.TEXT, DOCX, "docx", False),
}
# Served as "text/plain; charset=utf-8" (Flask adds the charset to text types).
PLAIN_TEXT = Allowed(RecordKind.TEXT, "text/plain", "txt", False)
# Names that are refused whatever the content: nobody needs to attach these to a 台账.
DANGEROUS_EXTENSIONS = frozenset(
    [
        "exe",
        "com",
        "bat",
        "cmd",
        "scr",
        "msi",
        "dll",
        "js",
        "jse",
        "vbs",
        "vbe",
        "wsf",
        "ps1",
        "sh",
        "jar",
        "apk",
        "html",
        "htm",
        "xhtml",
        "svg",
        "php",
        "asp",
        "aspx",
        "jsp",
        "hta",
    ]
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
ORIGINAL_NAME_MAX = 200


def clean_original_name(raw: str | None) -> str:
    """The uploader's file name, for display only: no directories, no control characters, bounded."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = _CONTROL.sub("", name).strip() or "未命名文件"
    if len(name) > ORIGINAL_NAME_MAX:
        stem, dot, ext = name.rpartition(".")
        name = (
            (stem[: ORIGINAL_NAME_MAX - len(ext) - 1] + dot + ext)
            if dot and len(ext) < 10
            else name[:ORIGINAL_NAME_MAX]
        )
    return name


def sniff(data: bytes) -> Allowed:
    """What the bytes are, if we accept them; ``ValidationFailed`` otherwise."""
    guess = filetype.guess(data)
    if guess is not None:
        allowed = ALLOWED.get(guess.extension)
        if allowed is None:
            raise ValidationFailed(
                "不支持的文件类型：只能上传 PDF、Word(docx)、文本、图片(JPG/PNG/GIF/WEBP)、"
                "录音(MP3/M4A/WAV/AMR)和视频(MP4/MOV/WEBM)。",
                field="file",
            )
        return allowed
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationFailed(
            "无法识别的文件类型，请上传 PDF、Word、文本、图片、录音或视频文件。", field="file"
        ) from None
    if _CONTROL.search(text):
        raise ValidationFailed(
            "无法识别的文件类型，请上传 PDF、Word、文本、图片、录音或视频文件。", field="file"
        )
    return PLAIN_TEXT


def max_record_bytes() -> int:
    return int(current_app.config.get("MAX_RECORD_BYTES", 15 * 1024 * 1024))


def add_record(
    activity: Activity, stream: IO[bytes], filename: str | None, *, user: StaffUser | None = None
) -> ActivityRecord:
    """Check, store and attach one file to an activity (drafts and registered ones alike)."""
    name = clean_original_name(filename)
    extension = name.rpartition(".")[2].lower() if "." in name else ""
    if extension in DANGEROUS_EXTENSIONS:
        raise ValidationFailed("不能上传可执行文件或网页文件。", field="file")
    limit = max_record_bytes()
    data = stream.read(limit + 1)
    if not data:
        raise ValidationFailed("请选择要上传的文件。", field="file")
    if len(data) > limit:
        raise ValidationFailed(f"文件不能超过 {limit // (1024 * 1024)} MB。", field="file")
    allowed = sniff(data)
    relative = f"ledger/{activity.station_id}/{uuid.uuid4().hex}.{allowed.extension}"
    target = Path(current_app.config["UPLOAD_FOLDER"]) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    record = ActivityRecord(
        kind=allowed.kind,
        original_name=name,
        stored_name=relative,
        content_type=allowed.content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        uploaded_by_id=user.id if user else None,
    )
    activity.records.append(record)
    try:
        db.session.flush()
    except Exception:
        target.unlink(missing_ok=True)
        raise
    return record


def record_path(record: ActivityRecord) -> Path:
    """Where a record's bytes live; only ever a name we wrote under the ledger folder."""
    root = (Path(current_app.config["UPLOAD_FOLDER"]) / "ledger").resolve()
    path = (Path(current_app.config["UPLOAD_FOLDER"]) / record.stored_name).resolve()
    if not path.is_relative_to(root):
        raise ValidationFailed("文件路径无效。", field="file")
    return path


def serve_inline(record: ActivityRecord) -> bool:
    """Media open in the browser; documents (PDF, Word, text) are always downloaded."""
    return any(a.inline and a.content_type == record.content_type for a in ALLOWED.values())


def delete_record(record: ActivityRecord) -> None:
    """Remove a record and its file."""
    path = record_path(record)
    db.session.delete(record)
    db.session.flush()
    path.unlink(missing_ok=True)


def delete_record_files(activity: Activity) -> None:
    for record in activity.records:
        record_path(record).unlink(missing_ok=True)
