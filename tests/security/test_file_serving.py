"""Every route that serves a file: the right type, nosniff, and non-images as attachments."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from app.opinions.service import submit_opinion


def _png() -> io.BytesIO:
    out = io.BytesIO()
    Image.new("RGBA", (20, 20), (0, 0, 255, 128)).save(out, "PNG")
    out.seek(0)
    return out


def test_uploaded_photos_are_jpeg_nosniff(app, client, world):
    opinion = submit_opinion(
        station=world["station"], content="附照片一张，路面塌陷。", channel="h5", photos=[_png()]
    )
    path = opinion.photos[0].path
    assert path.endswith(".jpg")
    response = client.get(f"/media/{path}")
    assert response.status_code == 200
    assert response.mimetype == "image/jpeg"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.data[:3] == b"\xff\xd8\xff"  # re-encoded: the original bytes are never served


@pytest.mark.parametrize(
    "name",
    [
        "evil.html",
        "evil.svg",
        "evil.js",
        "../../etc/passwd",
        "..%2f..%2fetc%2fpasswd.jpg",
        "opinions/../../secret.jpg",
        "/etc/passwd.jpg",
        "x.jpg%00.html",
    ],
)
def test_nothing_else_comes_out_of_media(app, client, name):
    # Even a planted file of another type in the upload folder is never served.
    folder = Path(app.config["UPLOAD_FOLDER"])
    (folder / "evil.html").write_text("<script>alert(1)</script>")
    response = client.get(f"/media/{name}", follow_redirects=True)  # "//" redirects to "/" first
    assert response.status_code == 404
    assert b"<script>" not in response.data


def test_a_planted_jpg_still_goes_out_as_an_image(app, client):
    folder = Path(app.config["UPLOAD_FOLDER"])
    (folder / "fake.jpg").write_text("<html><script>alert(1)</script></html>")
    response = client.get("/media/fake.jpg")
    assert response.mimetype == "image/jpeg"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_plaque_downloads_are_attachments(client, world, login):
    login(world["city"])
    station = world["station"]
    preview = client.get(f"/console/stations/{station.id}/plaque/preview.png")
    assert preview.mimetype == "image/png" and preview.headers["X-Content-Type-Options"] == "nosniff"
    pdf = client.get(f"/console/stations/{station.id}/plaque.pdf?dpi=30")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.headers["Content-Disposition"].startswith("attachment")
    assert pdf.headers["X-Content-Type-Options"] == "nosniff"


def test_audit_export_is_an_attachment(client, world, login):
    login(world["city"])
    response = client.get("/console/opinions/audit/export.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
