"""The monthly 民意分析报告 of a region (三(二)4: 定期对群众意见建议进行总梳理，加强民意研判分析).

One data object feeds both the printable HTML page and the PDF. The PDF is drawn with fpdf2:
pure Python (no system libraries, works offline), it embeds a subset of an OpenType CJK font
with CFF outlines — Debian's Noto Sans CJK, which reportlab cannot embed — so the file shows
the same Chinese on any reader. Font file and face index: ``REPORT_FONT`` / ``REPORT_FONT_INDEX``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

from flask import current_app

from app.analytics.kpi import KPIS, WORK_KPIS, Counters, Filters, month_start, totals
from app.analytics.service import OVERVIEW_KPIS, categories, month_period, region_table
from app.analytics.words import Cluster, HotWord, clusters, hot_words, period_words, rising_topics
from app.analytics.work import WorkFigures, work_figures
from app.auth.models import StaffUser
from app.auth.scope import get_visible, scope_of
from app.errors import NotFound, ValidationFailed
from app.regions.models import Region

DEFAULT_FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
DEFAULT_FONT_INDEX = 2  # Noto Sans CJK SC in Debian's collection
# The full collection has 65,000 glyphs: parsing and subsetting it takes over a second a PDF.
# A cut-down copy with the GB2312 characters (ASCII, CJK punctuation and 6,763 hanzi) is made
# once under the instance folder (by the analytics sweep, or the first PDF that finds it
# missing is drawn with the full font); a report with a character outside it uses the full one.
EXTRA_CHARS = "，。、；：？！“”‘’（）《》【】—…·％＋－×÷≥≤～"


@dataclass
class MonthlyReport:
    region: Region
    month: date
    filters: Filters
    counters: Counters
    previous: Counters
    categories: list
    words: list[HotWord]
    rising: list[HotWord]
    clusters: list[Cluster]
    rows: list
    work: WorkFigures

    @property
    def title(self) -> str:
        return f"{self.region.name}{self.month.year}年{self.month.month}月民意分析报告"

    def summary(self) -> list[str]:
        """The report's opening paragraph, in sentences drawn from the figures."""
        c, p = self.counters, self.previous
        lines = [
            f"本月{self.region.name}各家站点共收到群众意见建议 {c.received} 条"
            + (
                f"，比上月{'增加' if c.received >= p.received else '减少'} {abs(c.received - p.received)} 条"
                if p.received
                else ""
            )
            + f"；已受理 {c.accepted} 条，已办结 {c.closed} 条，目前逾期未答复 {c.overdue} 条。"
        ]
        rates = [
            (KPIS[k].label, getattr(c, k))
            for k in ("on_time_accept_rate", "on_time_close_rate", "feedback_rate", "satisfaction_rate")
        ]
        known = [f"{label} {value:.1%}" for label, value in rates if value is not None]
        if known:
            lines.append("，".join(known) + "。")
        if self.categories:
            top = "、".join(f"{name}（{cnt.received} 条）" for _code, name, cnt in self.categories[:3])
            lines.append(f"反映最多的是{top}。")
        if self.rising:
            lines.append(
                "较上月明显增多的话题："
                + "、".join(f"“{h.word}”（+{h.change}）" for h in self.rising[:5])
                + "。"
            )
        if self.clusters:
            big = self.clusters[0]
            lines.append(
                f"同一问题集中反映的有 {len(self.clusters)} 组，"
                f"最多的一组 {big.size} 条、涉及 {big.residents} 位群众："
                f"“{big.lead.content[:40]}”。"
            )
        w = self.work
        lines.append(
            f"本月计划接待活动 {w.receptions_planned} 场，已开展 {w.receptions_held} 场，"
            f"其中代表联系服务群众日 {w.service_days_held} 场，接待群众 {w.residents_received} 人次。"
        )
        return lines


def _month(raw: object, today: date) -> date:
    text = str(raw or "").strip()
    if not text:
        return month_start(month_start(today) - timedelta(days=1))  # last month
    try:
        year, month = (int(x) for x in text.split("-"))
        return date(year, month, 1)
    except ValueError:
        raise ValidationFailed("月份格式应为 YYYY-MM。", field="month") from None


def monthly_report(user: StaffUser, args: Mapping[str, object], today: date) -> MonthlyReport:
    """The figures of one region and month, everything limited to what the user may see."""
    raw = str(args.get("region") or "").strip()
    if raw:
        if not raw.isdigit():
            raise NotFound()
        region = get_visible(Region, int(raw), user)
    elif user.region is not None:
        region = user.region
    else:
        raise NotFound()
    month = _month(args.get("month"), today)
    first, last = month_period(month)
    scope = scope_of(user)
    f = Filters(first, last, region=region)
    prev_first = month_start(first - timedelta(days=1))
    previous = Filters(prev_first, first - timedelta(days=1), region=region)
    _months, rows = region_table(user, f, today)
    counts = period_words(scope, f, today)
    return MonthlyReport(
        region=region,
        month=month,
        filters=f,
        counters=totals(scope, f, today),
        previous=totals(scope, previous, today),
        categories=categories(scope, f, today),
        words=hot_words(scope, f, today, limit=20, counts=counts),
        rising=rising_topics(scope, f, today, limit=10, counts=counts),
        clusters=clusters(scope, f, limit=5),
        rows=rows,
        work=work_figures(scope, f, today),
    )


def _fmt(value, kind: str) -> str:
    if value is None:
        return "—"
    if kind == "rate":
        return f"{value:.1%}"
    if kind == "days":
        return f"{value:.1f} 天" if isinstance(value, float) else f"{value} 天"
    return str(value)


def _font_setting() -> tuple[str, int]:
    path = current_app.config.get("REPORT_FONT") or DEFAULT_FONT
    return path, int(current_app.config.get("REPORT_FONT_INDEX") or DEFAULT_FONT_INDEX)


@lru_cache(maxsize=1)
def common_chars() -> frozenset[str]:
    """What the cut-down font covers: printable ASCII, GB2312 and common full-width punctuation."""
    chars = {chr(c) for c in range(0x20, 0x7F)}
    for hi in range(0xA1, 0xF8):
        for lo in range(0xA1, 0xFF):
            with contextlib.suppress(UnicodeDecodeError):
                chars.add(bytes([hi, lo]).decode("gb2312"))
    return frozenset(chars | set(EXTRA_CHARS))


def common_font_path() -> Path:
    path, index = _font_setting()
    digest = hashlib.sha256(f"{path}:{index}".encode()).hexdigest()[:10]
    return Path(current_app.instance_path) / "fonts" / f"report-{digest}.otf"


def build_common_font() -> Path | None:
    """Write the cut-down report font once (idempotent); None when the source font is missing."""
    target = common_font_path()
    if target.exists():
        return target
    path, index = _font_setting()
    if not os.path.exists(path):
        return None
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(path, fontNumber=index) if path.endswith((".ttc", ".otc")) else TTFont(path)
    options = subset.Options()
    options.layout_features = []
    options.name_IDs = ["*"]
    options.hinting = False
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(sorted(common_chars())))
    subsetter.subset(font)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
    font.save(str(partial))
    os.replace(partial, target)  # atomic: a reader sees no half-written font
    return target


def _texts(r: MonthlyReport) -> str:
    """Every text the PDF draws, to choose a font that has all of its characters."""
    parts = [r.title, r.region.name, *r.summary()]
    parts += [name for _code, name, _c in r.categories]
    parts += [h.word for h in r.words] + [c.lead.content for c in r.clusters] + [row.label for row in r.rows]
    parts += [k.label + k.definition for k in (*KPIS.values(), *WORK_KPIS.values())]
    return "".join(parts)


def cached_pdf(r: MonthlyReport, html: str) -> bytes:
    """The report's PDF, drawn once per distinct content (keyed by its HTML) and kept under the
    instance folder: embedding a CJK font costs about a second, the figures a fraction of it."""
    folder = Path(current_app.instance_path) / "reports"
    prefix = f"report-{r.region.code}-{r.month:%Y%m}-"
    digest = hashlib.sha256((html + str(common_font_path().exists())).encode()).hexdigest()[:20]
    target = folder / f"{prefix}{digest}.pdf"
    if target.exists():
        return target.read_bytes()
    pdf = render_pdf(r)
    folder.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
    partial.write_bytes(pdf)
    os.replace(partial, target)
    for old in folder.glob(f"{prefix}*.pdf"):  # earlier versions of this region's month
        if old != target:
            old.unlink(missing_ok=True)
    return pdf


def render_pdf(r: MonthlyReport) -> bytes:
    """The report as an A4 PDF with the CJK font embedded (subset)."""
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    pdf = FPDF(format="A4")
    pdf.set_title(r.title)
    pdf.set_creator("家站点管理后台")
    common = common_font_path()
    if common.exists() and set(_texts(r)) <= common_chars() | {"\n"}:
        pdf.add_font("cjk", fname=str(common))
    else:
        path, index = _font_setting()
        pdf.add_font("cjk", fname=path, collection_font_number=index)
    pdf.set_margins(18, 16, 18)
    pdf.add_page()
    pdf.set_font("cjk", size=18)
    pdf.cell(0, 12, r.title, new_x="LMARGIN", new_y="NEXT", align="C")
    pdf.set_font("cjk", size=9)
    period = f"统计期：{r.filters.date_from:%Y-%m-%d} 至 {r.filters.date_to:%Y-%m-%d}（按意见提交日期）"
    pdf.cell(0, 6, period, new_x="LMARGIN", new_y="NEXT", align="C")
    pdf.ln(3)

    def heading(text: str) -> None:
        pdf.ln(2)
        pdf.set_font("cjk", size=13)
        pdf.cell(0, 9, text, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("cjk", size=10)

    def table(header: list[str], body: list[list[str]], widths: tuple[int, ...] | None = None) -> None:
        pdf.set_font("cjk", size=9)
        with pdf.table(
            col_widths=widths, headings_style=FontFace(fill_color=(240, 228, 228)), line_height=6
        ) as t:
            row = t.row()
            for cell in header:
                row.cell(cell)
            for line in body:
                row = t.row()
                for cell in line:
                    row.cell(str(cell))
        pdf.set_font("cjk", size=10)

    heading("一、总体情况")
    for line in r.summary():
        pdf.multi_cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    heading("二、主要指标")
    keys = OVERVIEW_KPIS  # the same cards as the overview page, in its order
    table(
        ["指标", "本月", "上月"],
        [
            [KPIS[k].label, _fmt(r.counters.value(k), KPIS[k].kind), _fmt(r.previous.value(k), KPIS[k].kind)]
            for k in keys
        ],
        (60, 40, 40),
    )
    if r.categories:
        heading("三、意见分类")
        table(
            ["分类", "收到", "已办结", "满意率"],
            [
                [name, c.received, c.closed, _fmt(c.satisfaction_rate, "rate")]
                for _code, name, c in r.categories
            ],
        )
    if r.words:
        heading("四、热词与上升话题")
        table(
            ["热词", "涉及意见（条）", "比上月"],
            [[h.word, h.count, f"{h.change:+d}"] for h in r.words],
            (60, 40, 40),
        )
    if r.clusters:
        heading("五、同一问题集中反映")
        table(
            ["问题（代表性意见）", "条数", "群众"],
            [[c.lead.content[:60], c.size, c.residents] for c in r.clusters],
            (120, 20, 20),
        )
    if r.rows:
        heading("六、分区域情况")
        table(
            ["区域 / 家站点", "收到", "已办结", "逾期", "按时办结率", "满意率"],
            [
                [
                    row.label,
                    row.counters.received,
                    row.counters.closed,
                    row.counters.overdue,
                    _fmt(row.counters.on_time_close_rate, "rate"),
                    _fmt(row.counters.satisfaction_rate, "rate"),
                ]
                for row in r.rows
            ],
        )
    heading("七、家站点接待工作")
    w = r.work
    table(
        ["指标", "本月"],
        [
            [WORK_KPIS["receptions_planned"].label, w.receptions_planned],
            [WORK_KPIS["receptions_held"].label, w.receptions_held],
            [WORK_KPIS["service_days_held"].label, w.service_days_held],
            [WORK_KPIS["residents_received"].label, w.residents_received],
            [WORK_KPIS["deputies_participation"].label, _fmt(w.deputies_participation, "rate")],
        ],
        (80, 60),
    )
    heading("附：指标口径")
    pdf.set_font("cjk", size=8)
    for k in keys:
        pdf.multi_cell(0, 5, f"{KPIS[k].label}：{KPIS[k].definition}", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
