"""Attached records: sniffed by content, size-checked, stored under our own name."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image

from app.errors import ValidationFailed
from app.ledger.records import add_record, delete_record, record_path
from app.ledger.service import create_activity

NOW = datetime(2026, 11, 26, 10)
EXE = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
    + b"\x00" * 48
    + b"PE\x00\x00"
    + b"\x00" * 200
)
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 200


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (20, 20), "red").save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def activity(lw):
    data = {"kind": "study", "title": "学习", "date": "2026-03-10", "start": "14:00"}
    return create_activity(lw.station, data, user=lw.staff, deputy_ids=[lw.deputies[0].id], now=NOW)


def test_image_pdf_and_text_are_kept_with_sniffed_types(app, activity):
    image = add_record(activity, io.BytesIO(png()), "现场.PNG")
    assert (image.kind, image.content_type, image.stored_name.endswith(".png")) == (
        "image",
        "image/png",
        True,
    )
    assert len(image.sha256) == 64 and image.size == len(png())
    assert record_path(image).read_bytes() == png()
    pdf = add_record(activity, io.BytesIO(b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF"), "../../etc/纪要.pdf")
    assert (pdf.kind, pdf.content_type, pdf.original_name) == ("text", "application/pdf", "纪要.pdf")
    text = add_record(activity, io.BytesIO("会议记录：讨论加装电梯。".encode()), "记录.txt")
    assert text.content_type.startswith("text/plain") and text.stored_name.endswith(".txt")
    # a PNG named .txt is still a PNG: the name never decides the type
    renamed = add_record(activity, io.BytesIO(png()), "notes.txt")
    assert renamed.content_type == "image/png" and renamed.stored_name.endswith(".png")


@pytest.mark.parametrize(
    "data,name",
    [
        (EXE, "照片.jpg"),
        (ELF, "录音.mp3"),
        (EXE, "a.txt"),
        (b"<svg onload=alert(1)>", "x.svg"),
        (png(), "x.exe"),
    ],
)
def test_disguised_executables_and_web_files_are_refused(app, activity, data, name):
    root = Path(app.config["UPLOAD_FOLDER"])
    before = set(root.rglob("*"))
    with pytest.raises(ValidationFailed):
        add_record(activity, io.BytesIO(data), name)
    assert activity.records == []
    assert set(root.rglob("*")) == before  # nothing written


def test_binary_junk_and_oversize_are_refused(app, activity):
    with pytest.raises(ValidationFailed, match="无法识别"):
        add_record(activity, io.BytesIO(b"\x00\x01\x02binary"), "x.bin")
    with pytest.raises(ValidationFailed, match="请选择"):
        add_record(activity, io.BytesIO(b""), "x.txt")
    before = app.config.get("MAX_RECORD_BYTES")
    app.config["MAX_RECORD_BYTES"] = 1000
    try:
        with pytest.raises(ValidationFailed, match="不能超过"):
            add_record(activity, io.BytesIO(b"a" * 1001), "big.txt")
    finally:
        app.config["MAX_RECORD_BYTES"] = before


def test_delete_removes_the_file(app, activity):
    record = add_record(activity, io.BytesIO(png()), "a.png")
    path = record_path(record)
    delete_record(record)
    assert not path.exists()
