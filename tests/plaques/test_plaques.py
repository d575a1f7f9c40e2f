import zxingcpp
from PIL import Image

from app.plaques.service import (
    PlaqueFont,
    plaque_bytes,
    plaque_size,
    render_plaque,
    station_url,
    title_lines,
)
from app.stations.models import Station

FONT = PlaqueFont("/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc", 2)


def _decode(image: Image.Image) -> list[str]:
    return [result.text for result in zxingcpp.read_barcodes(image)]


def test_plaque_proportions_at_300_dpi():
    assert plaque_size(300) == (7087, 4724)  # 60 x 40 cm


def test_title_splits_before_the_kind():
    long_name = Station(name="崇安寺街道健康路社区人大代表联络站", kind="station")
    assert title_lines(long_name) == ["崇安寺街道健康路社区", "人大代表联络站"]
    assert title_lines(Station(name="梁溪区人大代表之家", kind="home")) == ["梁溪区人大代表之家"]


def test_qr_decodes_to_the_station_page(region_tree, make_station):
    station = make_station(region_tree()["village_a"], name="A村人大代表联络站")
    image = render_plaque(station, base_url="https://jzd.example.cn", font=FONT, dpi=60)
    assert _decode(image) == [f"https://jzd.example.cn/s/{station.code}"]
    assert station_url(station, "https://jzd.example.cn/") == f"https://jzd.example.cn/s/{station.code}"


def test_print_files_carry_300_dpi(tmp_path, region_tree, make_station, runner):
    station = make_station(region_tree()["town_a"], name="A镇人大代表之家")
    result = runner.invoke(args=["plaques", "make", "--out", str(tmp_path), "--station", station.code])
    assert result.exit_code == 0, result.output
    assert "已生成 1 块标识牌" in result.output
    png = tmp_path / f"{station.code}.png"
    with Image.open(png) as image:
        assert image.size == (7087, 4724)
        assert round(image.info["dpi"][0]) == 300
        assert _decode(image.reduce(4)) == [f"http://jzd.test/s/{station.code}"]
    pdf = (tmp_path / f"{station.code}.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")


def test_cli_refuses_unknown_station_and_missing_font(tmp_path, app, runner, region_tree, make_station):
    bad = runner.invoke(args=["plaques", "make", "--out", str(tmp_path), "--station", "nope"])
    assert bad.exit_code != 0 and "未找到站点编号" in bad.output
    make_station(region_tree()["village_a"])
    app.config["PLAQUE_FONT"] = str(tmp_path / "missing.ttc")
    try:
        missing = runner.invoke(args=["plaques", "make", "--out", str(tmp_path), "--dpi", "30"])
    finally:
        app.config["PLAQUE_FONT"] = FONT.path
    assert missing.exit_code != 0 and "fonts-noto-cjk" in missing.output


def test_pdf_encoding():
    image = Image.new("RGB", plaque_size(30), "gold")
    assert plaque_bytes(image, "pdf", 30).startswith(b"%PDF")
