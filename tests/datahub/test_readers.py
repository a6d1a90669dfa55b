"""Readers: CSV (UTF-8, BOM, GB18030), JSON arrays and lines, XLSX; headers by name or title; streaming."""

from __future__ import annotations

import codecs
import io
import json
import tracemalloc
from datetime import date, datetime

import pytest
from openpyxl import Workbook

from zerotrip.datahub import readers
from zerotrip.datahub.errors import UnreadableFile
from zerotrip.datahub.schemas import FieldSpec

from .conftest import county_stats_spec

FIELDS = county_stats_spec(1).fields  # district 区县代码, month 月份, registrations 登记件数
NAMES = [f.name for f in FIELDS]


def read(data: bytes, format: str, fields: list[FieldSpec] = FIELDS) -> list[tuple[int, dict[str, object]]]:
    return list(readers.read_rows(io.BytesIO(data), format=format, fields=fields))


def test_csv_by_names_or_titles_with_or_without_bom() -> None:
    body = "330106,2026-05,12\r\n330108,2026-05,7\r\n"
    plain = read(("district,month,registrations\r\n" + body).encode(), "csv")
    titled = read(codecs.BOM_UTF8 + ("区县代码, 月份 ,登记件数\r\n" + body).encode(), "csv")
    assert (
        plain
        == titled
        == [
            (2, {"district": "330106", "month": "2026-05", "registrations": "12"}),
            (3, {"district": "330108", "month": "2026-05", "registrations": "7"}),
        ]
    )


def test_csv_in_gb18030_is_read_when_it_is_not_utf8() -> None:
    fields = [*FIELDS, FieldSpec(name="note", title="备注")]
    data = "区县代码,月份,登记件数,备注\n330106,2026-05,1,西湖区\n".encode("gb18030")
    assert read(data, "csv", fields) == [
        (2, {"district": "330106", "month": "2026-05", "registrations": "1", "note": "西湖区"})
    ]


def test_csv_row_numbers_count_blank_rows_and_ragged_rows_keep_extras() -> None:
    data = b"district,month,registrations\n330106,2026-05,1\n\n330108,2026-05\n330109,2026-05,3,oops\n"
    assert read(data, "csv") == [
        (2, {"district": "330106", "month": "2026-05", "registrations": "1"}),
        (4, {"district": "330108", "month": "2026-05", "registrations": None}),
        (5, {"district": "330109", "month": "2026-05", "registrations": "3", "column 4": "oops"}),
    ]


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("district,month,registrations,colour", "unknown columns: colour"),
        ("district,month", "missing columns: registrations (登记件数)"),
        ("district,月份,month,registrations", "columns given twice: month"),
    ],
)
def test_a_header_that_does_not_match_refuses_the_file(header: str, message: str) -> None:
    with pytest.raises(UnreadableFile, match=message.replace("(", r"\(").replace(")", r"\)")):
        read(f"{header}\n1,2,3\n".encode(), "csv")


def test_empty_files_are_refused() -> None:
    for format in ("csv", "json"):
        with pytest.raises(UnreadableFile, match="empty"):
            read(b"", format)


def test_json_array_streamed_with_titles_and_json_values() -> None:
    items = [{"区县代码": "330106", "month": "2026-05", "registrations": 12}, {"district": "330108"}, 5]
    rows = read(json.dumps(items, ensure_ascii=False).encode(), "json")
    assert rows == [
        (1, {"district": "330106", "month": "2026-05", "registrations": 12}),
        (2, {"district": "330108"}),
        (3, {"(item)": 5}),
    ]


def test_json_lines_and_malformed_json() -> None:
    data = b'{"district": "330106", "registrations": 1.5}\n\n{"district": "330108"}\n'
    assert read(data, "jsonl") == [
        (1, {"district": "330106", "registrations": 1.5}),
        (3, {"district": "330108"}),
    ]
    with pytest.raises(UnreadableFile, match="malformed after item 1"):
        read(b'[{"district": "330106"}, {"district": ', "json")
    with pytest.raises(UnreadableFile, match="line 2"):
        read(b'{"district": "330106"}\n{nope}\n', "jsonl")
    with pytest.raises(UnreadableFile, match="array of objects"):
        read(b'"just text"', "json")


def test_xlsx_first_sheet_with_typed_cells() -> None:
    fields = [*FIELDS, FieldSpec(name="on", title="日期", type="date"), FieldSpec(name="at", title="时间")]
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["区县代码", "month", "登记件数", "日期", "时间", None])
    sheet.append([330106, "2026-05", 12.0, datetime(2026, 5, 1), datetime(2026, 5, 1, 8, 30)])
    sheet.append([None, None, None, None, None])
    sheet.append(["330108", "2026-05", 2.5, date(2026, 5, 2), True])
    buffer = io.BytesIO()
    workbook.save(buffer)
    rows = read(buffer.getvalue(), "xlsx", fields)
    assert rows == [
        (2, {"district": "330106", "month": "2026-05", "registrations": "12", "on": "2026-05-01",
             "at": "2026-05-01T08:30:00"}),
        (4, {"district": "330108", "month": "2026-05", "registrations": "2.5", "on": "2026-05-02",
             "at": "true"}),
    ]  # fmt: skip


def test_a_damaged_workbook_is_unreadable() -> None:
    with pytest.raises(UnreadableFile, match="XLSX"):
        read(b"PK\x03\x04 not really a zip", "xlsx")


def test_format_from_the_name_or_the_caller() -> None:
    assert readers.format_of("Data.CSV") == "csv"
    assert readers.format_of("rows.ndjson") == "jsonl"
    assert readers.format_of("upload.bin", "xlsx") == "xlsx"
    with pytest.raises(UnreadableFile):
        readers.format_of("upload.bin")
    with pytest.raises(UnreadableFile):
        readers.format_of("a.csv", "parquet")


class _Generated(io.RawIOBase):
    """A large CSV produced on the fly: reading it must not hold it."""

    def __init__(self, rows: int) -> None:
        self._rows = rows
        self._next = 0
        self._pending = b"district,month,registrations\n"

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        while len(self._pending) < len(buffer) and self._next < self._rows:
            self._pending += f"330106,2026-05,{self._next}\n".encode()
            self._next += 1
        data, self._pending = self._pending[: len(buffer)], self._pending[len(buffer) :]
        buffer[: len(data)] = data
        return len(data)


def test_reading_streams_in_bounded_memory() -> None:
    stream = io.BufferedReader(_Generated(200_000))
    tracemalloc.start()
    try:
        count = sum(1 for _ in readers.read_rows(stream, format="csv", fields=FIELDS))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 200_000
    assert peak < 5_000_000  # the whole file is about 4 MB as text and far more as rows
