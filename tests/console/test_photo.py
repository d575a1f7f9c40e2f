"""Deputy photos: re-encoded to JPEG and served; anything else refused in Chinese."""

from __future__ import annotations

import io
import os
from pathlib import Path

from PIL import Image

from app.auth.models import Role
from app.deputies.models import Deputy
from app.extensions import db
from tests.auth.world import World
from tests.console.matrix import png_bytes


def upload(client, deputy: Deputy, data: bytes, filename: str):
    return client.post(
        f"/console/deputies/{deputy.id}/photo",
        data={"photo": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def stored_photo(deputy_id: int) -> str | None:
    db.session.expire_all()
    return db.session.get(Deputy, deputy_id).photo


def test_a_png_is_reencoded_to_jpeg_and_served(world: World, login_as, app):
    deputy = world.own.deputy
    client = login_as(world.actors[Role.TOWN_ADMIN])
    response = upload(client, deputy, png_bytes((300, 400), "blue"), "me.png")
    assert response.status_code == 302
    photo = stored_photo(deputy.id)
    assert photo.startswith("deputies/") and photo.endswith(".jpg")
    served = client.get(f"/media/{photo}")
    assert served.status_code == 200
    assert served.mimetype == "image/jpeg"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.data[:2] == b"\xff\xd8"
    assert Image.open(io.BytesIO(served.data)).format == "JPEG"
    # The detail page shows it.
    assert f"/media/{photo}" in client.get(f"/console/deputies/{deputy.id}").get_data(as_text=True)


def test_replacing_a_photo_deletes_the_old_file(world: World, login_as, app):
    deputy = world.own.deputy
    client = login_as(world.actors[Role.CITY_ADMIN])
    upload(client, deputy, png_bytes(), "one.png")
    first = Path(app.config["UPLOAD_FOLDER"]) / stored_photo(deputy.id)
    assert first.exists()
    upload(client, deputy, png_bytes(color="green"), "two.png")
    second = Path(app.config["UPLOAD_FOLDER"]) / stored_photo(deputy.id)
    assert second.exists() and second != first
    assert not first.exists()
    client.post(f"/console/deputies/{deputy.id}/photo/delete")
    assert stored_photo(deputy.id) is None
    assert not second.exists()


def test_a_text_file_named_jpg_is_refused(world: World, login_as):
    deputy = world.own.deputy
    client = login_as(world.actors[Role.DISTRICT_ADMIN])
    response = upload(client, deputy, b"just some text, not an image\n" * 20, "photo.jpg")
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "无法识别的图片文件" in body
    assert deputy.name in body  # the edit page, re-rendered
    assert stored_photo(deputy.id) is None


def test_an_oversized_image_is_refused(world: World, login_as, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_IMAGE_BYTES", 1024 * 1024)
    noise = Image.frombytes("RGB", (700, 700), os.urandom(700 * 700 * 3))
    buffer = io.BytesIO()
    noise.save(buffer, "PNG")
    assert buffer.tell() > 1024 * 1024
    client = login_as(world.actors[Role.DISTRICT_ADMIN])
    response = upload(client, world.own.deputy, buffer.getvalue(), "big.png")
    assert response.status_code == 422
    assert "图片不能超过 1 MB" in response.get_data(as_text=True)
    assert stored_photo(world.own.deputy.id) is None


def test_no_file_chosen(world: World, login_as):
    client = login_as(world.actors[Role.DISTRICT_ADMIN])
    response = client.post(f"/console/deputies/{world.own.deputy.id}/photo", data={})
    assert response.status_code == 422
    assert "请选择要上传的照片" in response.get_data(as_text=True)


def test_a_request_beyond_the_upload_limit_is_a_chinese_413(world: World, login_as, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1000)
    client = login_as(world.actors[Role.DISTRICT_ADMIN])
    response = upload(client, world.own.deputy, b"x" * 5000, "big.png")
    assert response.status_code == 413
    assert "提交的内容过大" in response.get_data(as_text=True)
