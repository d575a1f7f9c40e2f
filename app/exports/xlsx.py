"""Excel sheets as staff print them, written row by row in constant memory (XlsxWriter).

One header row in Chinese, then one row per record (the issue's contract: outside checks read
row 1 as the header). The title is printed in the page header of every page instead of a
row of its own; the header row repeats on every printed page, is frozen on screen and
carries an autofilter. A4 landscape, fitted to the page width, page numbers in the footer.

XlsxWriter's ``constant_memory`` mode flushes each row to disk as soon as the next one
starts, so a sheet of a million rows costs the memory of one row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, BinaryIO

import xlsxwriter

from app.timeutil import to_local

A4 = 9  # XlsxWriter's paper index for A4
FONT = "宋体"


@dataclass(frozen=True)
class Column:
    """One column: its Chinese header, its printed width (characters) and how values look."""

    header: str
    width: float = 12
    kind: str = "text"  # text | wrap | int | number | date | datetime


@dataclass
class SheetSource:
    """What one sheet holds: the title printed above every page, columns, and rows in batches."""

    title: str
    name: str
    columns: Sequence[Column]
    total: int
    batches: Iterable[list[Sequence[Any]]]
    landscape: bool = True


@dataclass
class WorkbookSource:
    """The sheets of one export file and the file name offered for download."""

    filename: str
    sheets: list[SheetSource] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(sheet.total for sheet in self.sheets)


class _Formats:
    def __init__(self, book: xlsxwriter.Workbook) -> None:
        base = {"font_name": FONT, "font_size": 10, "border": 1, "valign": "vcenter"}
        self.header = book.add_format(
            {**base, "bold": True, "align": "center", "text_wrap": True, "bg_color": "#F2DCDB"}
        )
        self.by_kind = {
            "text": book.add_format(base),
            "wrap": book.add_format({**base, "text_wrap": True}),
            "int": book.add_format({**base, "num_format": "0", "align": "right"}),
            "number": book.add_format({**base, "num_format": "0.0", "align": "right"}),
            "date": book.add_format({**base, "num_format": "yyyy-mm-dd", "align": "center"}),
            "datetime": book.add_format({**base, "num_format": "yyyy-mm-dd hh:mm", "align": "center"}),
        }


def _cell_value(value: Any) -> Any:
    # Stored moments are UTC-aware; staff read and print local (Beijing) time.
    if isinstance(value, datetime) and value.tzinfo is not None:
        return to_local(value)
    return value


def _safe_sheet_name(name: str) -> str:
    for bad in "[]:*?/\\":
        name = name.replace(bad, "")
    return name[:31] or "Sheet1"


def write_workbook(source: WorkbookSource, target: Path | BinaryIO, on_rows=None) -> int:
    """Write every sheet of ``source`` to a file or stream; calls ``on_rows(n)`` after each batch.

    Returns the number of record rows written. Cell text is never read as a formula.
    """
    if isinstance(target, Path):
        target.parent.mkdir(parents=True, exist_ok=True)
        target = str(target)
    book = xlsxwriter.Workbook(target, {"constant_memory": True, "strings_to_formulas": False})
    written = 0
    try:
        formats = _Formats(book)
        for sheet in source.sheets:
            written += _write_sheet(book, formats, sheet, on_rows)
    finally:
        book.close()
    return written


def _write_sheet(book: xlsxwriter.Workbook, formats: _Formats, sheet: SheetSource, on_rows) -> int:
    ws = book.add_worksheet(_safe_sheet_name(sheet.name))
    columns = list(sheet.columns)
    for i, column in enumerate(columns):
        ws.set_column(i, i, column.width)
    # Print as staff file it: A4, landscape, one page wide, header row on every page.
    ws.set_paper(A4)
    if sheet.landscape:
        ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0)
    ws.set_margins(left=0.4, right=0.4, top=0.8, bottom=0.6)
    title = sheet.title.replace("&", "&&")
    ws.set_header(f'&C&"{FONT},Bold"&14{title}')
    ws.set_footer("&C第 &P 页，共 &N 页")
    ws.freeze_panes(1, 0)
    ws.set_row(0, 30)
    for i, column in enumerate(columns):
        ws.write_string(0, i, column.header, formats.header)
    row = 0
    for batch in sheet.batches:
        for record in batch:
            row += 1
            for i, column in enumerate(columns):
                _write_cell(ws, row, i, _cell_value(record[i]), column, formats)
        if on_rows is not None:
            on_rows(len(batch))
    ws.autofilter(0, 0, max(row, 1), len(columns) - 1)
    return row


def _write_cell(ws, row: int, col: int, value: Any, column: Column, formats: _Formats) -> None:
    fmt = formats.by_kind.get(column.kind, formats.by_kind["text"])
    if value is None or value == "":
        ws.write_blank(row, col, None, fmt)
    elif isinstance(value, datetime):
        ws.write_datetime(row, col, value, formats.by_kind["datetime"] if column.kind != "date" else fmt)
    elif isinstance(value, date):
        ws.write_datetime(row, col, datetime.combine(value, datetime.min.time()), formats.by_kind["date"])
    elif isinstance(value, bool):
        ws.write_string(row, col, "是" if value else "否", fmt)
    elif isinstance(value, int | float):
        ws.write_number(row, col, value, fmt)
    else:
        ws.write_string(row, col, str(value), fmt)


def keyset_rows(
    stmt,
    key,
    to_row: Callable[[Any], Sequence[Any]] | None = None,
    batch_size: int = 1000,
    *,
    to_rows: Callable[[list], list] | None = None,
) -> Iterator[list]:
    """The rows of ``stmt``'s objects in batches ordered by ``key`` (a unique column), never all at once.

    Each batch is its own short query (``key > last``) and its own transaction, ended before
    the batch is handed on: writing the sheet and committing the job's progress never hold a
    database snapshot, nor SQLite's single write lock (taken by every transaction here), so
    the console keeps answering while a long export runs.
    """
    from app.extensions import db

    last = None
    while True:
        query = stmt if last is None else stmt.where(key > last)
        items = list(db.session.scalars(query.order_by(None).order_by(key).limit(batch_size)).unique())
        if not items:
            return
        # ``to_rows`` turns a whole batch at once (grouped queries per batch), else row by row.
        rows = to_rows(items) if to_rows is not None else [to_row(item) for item in items]
        last = getattr(items[-1], key.key)
        del items
        db.session.commit()  # nothing pending: only ends the read transaction
        yield rows
        if len(rows) < batch_size:
            return
