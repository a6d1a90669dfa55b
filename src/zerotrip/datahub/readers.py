"""Streaming readers for uploaded files: CSV, JSON (an array, or one object per line) and XLSX.

Each yields ``(row_number, row)`` pairs, the row keyed by field name, and holds only the current row (plus
the reader's own buffers) in memory, whatever the file's size. Row numbers are what a person opening the
file sees: a spreadsheet's row (the header is row 1, so data starts at row 2) for CSV and XLSX, the line
for JSON Lines, and the position of the item (from 1) in a JSON array.

The header (CSV, XLSX) must name every field of the resource exactly once, by its name or by its Chinese
title, and nothing else; otherwise the file is refused whole with UnreadableFile, naming the columns.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Iterator, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from typing import IO, Any

import ijson  # type: ignore[import-untyped]
from openpyxl import load_workbook

from zerotrip.datahub.errors import UnreadableFile
from zerotrip.datahub.models import Field
from zerotrip.datahub.schemas import FieldSpec

FORMATS = ("csv", "json", "jsonl", "xlsx")
_EXTENSIONS = {"csv": "csv", "json": "json", "jsonl": "jsonl", "ndjson": "jsonl", "xlsx": "xlsx"}
_SNIFF = 1 << 20
Row = tuple[int, dict[str, object]]
FieldLike = Field | FieldSpec


def format_of(filename: str | None, explicit: str | None = None) -> str:
    """The format named explicitly, else the one the file name's extension implies. Raises UnreadableFile."""
    if explicit:
        if explicit.lower() not in FORMATS:
            raise UnreadableFile(f"unknown format {explicit!r}; use one of {', '.join(FORMATS)}")
        return explicit.lower()
    extension = (filename or "").rsplit(".", 1)[-1].lower() if "." in (filename or "") else ""
    if extension not in _EXTENSIONS:
        raise UnreadableFile("name the format: the file name does not end in .csv, .json, .jsonl or .xlsx")
    return _EXTENSIONS[extension]


def read_rows(file: IO[bytes], *, format: str, fields: Sequence[FieldLike]) -> Iterator[Row]:
    """Rows of ``file`` keyed by field name. The header is checked before this returns; later problems
    (a malformed JSON item, undecodable text in a stream that cannot be scanned first) raise UnreadableFile
    while iterating."""
    if format == "csv":
        return _csv_rows(file, fields)
    if format in ("json", "jsonl"):
        return _json_rows(file, fields)
    if format == "xlsx":
        return _xlsx_rows(file, fields)
    raise UnreadableFile(f"unknown format {format!r}; use one of {', '.join(FORMATS)}")


def column_names(header: Sequence[object], fields: Sequence[FieldLike]) -> list[str]:
    """Map each header cell (a field's name or title) to the field's name. Raises UnreadableFile."""
    by_label: dict[str, str] = {}
    for f in fields:
        by_label[f.name.lower()] = f.name
        by_label[f.title.strip()] = f.name
    names: list[str] = []
    unknown: list[str] = []
    for cell in header:
        label = str(cell).strip().lstrip("\ufeff") if cell is not None else ""
        name = by_label.get(label) or by_label.get(label.lower())
        if name is None:
            unknown.append(label or "(empty)")
        names.append(name or "")
    problems: list[str] = []
    if unknown:
        problems.append(f"unknown columns: {', '.join(unknown)}")
    repeated = sorted({n for n in names if n and names.count(n) > 1})
    if repeated:
        problems.append(f"columns given twice: {', '.join(repeated)}")
    missing = [f"{f.name} ({f.title})" for f in fields if f.name not in names]
    if missing:
        problems.append(f"missing columns: {', '.join(missing)}")
    if problems:
        raise UnreadableFile(
            "the header must name each field once, by name or title; " + "; ".join(problems),
            errors=[{"detail": p, "parameter": "file"} for p in problems],
        )
    return names


# --- CSV ---------------------------------------------------------------------------------------------------


def _encoding_of(file: IO[bytes]) -> str:
    """UTF-8 (with or without a byte-order mark) unless the bytes are not UTF-8: then GB18030, which
    Chinese spreadsheet software writes. A seekable file is scanned whole first (in bounded pieces), so a
    bad byte near the end cannot turn up after rows were loaded; a stream is judged by its first megabyte."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    if not file.seekable():
        peek = getattr(file, "peek", None)
        head = peek(_SNIFF)[:_SNIFF] if peek else b""
        try:
            decoder.decode(head)
        except UnicodeDecodeError:
            return "gb18030"
        return "utf-8-sig"
    start = file.tell()
    try:
        while chunk := file.read(_SNIFF):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "gb18030"
    finally:
        file.seek(start)
    return "utf-8-sig"


def _csv_rows(file: IO[bytes], fields: Sequence[FieldLike]) -> Iterator[Row]:
    encoding = _encoding_of(file)
    text = io.TextIOWrapper(file, encoding=encoding, newline="")
    reader = csv.reader(text)
    try:
        header = next(reader, None)
    except (csv.Error, UnicodeDecodeError) as exc:
        raise UnreadableFile(f"the CSV header cannot be read: {exc}") from exc
    if header is None:
        raise UnreadableFile("the file is empty: it needs a header row naming the fields")
    names = column_names(header, fields)
    return _csv_body(reader, text, names)


def _csv_body(reader: Any, text: io.TextIOWrapper, names: list[str]) -> Iterator[Row]:
    width = len(names)
    row_number = 1
    try:
        for cells in reader:
            row_number += 1
            if not any(cells):
                continue
            if len(cells) == width:
                yield row_number, dict(zip(names, cells, strict=True))
            else:
                yield row_number, _ragged(names, cells)
    except (csv.Error, UnicodeDecodeError) as exc:
        raise UnreadableFile(f"the CSV cannot be read after row {row_number}: {exc}") from exc
    finally:
        text.detach()  # leave the caller's file open: closing it is the caller's business


def _ragged(names: list[str], cells: Sequence[object]) -> dict[str, object]:
    """A row with too few cells has empty values; extra non-empty cells are kept under their column
    number, so validation refuses the row naming them."""
    row: dict[str, object] = dict.fromkeys(names)
    for index, cell in enumerate(cells):
        if index < len(names):
            row[names[index]] = cell
        elif cell not in (None, ""):
            row[f"column {index + 1}"] = cell
    return row


# --- JSON --------------------------------------------------------------------------------------------------


def _json_rows(file: IO[bytes], fields: Sequence[FieldLike]) -> Iterator[Row]:
    by_label = {f.name: f.name for f in fields} | {f.title.strip(): f.name for f in fields}
    stream = _Prefixed(file)
    first = stream.first_significant_byte()
    if first == b"[":
        return _json_array(stream, by_label)
    if first == b"{":
        return _json_lines(stream, by_label)
    if first == b"":
        raise UnreadableFile("the file is empty")
    raise UnreadableFile("JSON must be an array of objects, or one object per line")


def _json_array(stream: _Prefixed, by_label: dict[str, str]) -> Iterator[Row]:
    number = 0
    try:
        for number, item in enumerate(ijson.items(stream, "item"), start=1):
            yield number, _json_object(item, by_label)
    except ijson.JSONError as exc:
        raise UnreadableFile(f"the JSON is malformed after item {number}: {exc}") from exc


def _json_lines(stream: _Prefixed, by_label: dict[str, str]) -> Iterator[Row]:
    number = 0
    for number, line in enumerate(io.TextIOWrapper(stream, encoding="utf-8-sig"), start=1):  # type: ignore[type-var]
        if not line.strip():
            continue
        try:
            item = json.loads(line, parse_float=Decimal)
        except ValueError as exc:
            raise UnreadableFile(f"line {number} is not a JSON object: {exc}") from exc
        yield number, _json_object(item, by_label)


def _json_object(item: object, by_label: dict[str, str]) -> dict[str, object]:
    if not isinstance(item, dict):
        return {"(item)": item}  # refused by validation as an unknown field
    return {by_label.get(str(k).strip(), str(k)): v for k, v in item.items()}


class _Prefixed(io.RawIOBase):
    """A read-only stream that can look at its first bytes (skipping a byte-order mark) without needing
    the underlying file to seek."""

    def __init__(self, file: IO[bytes]) -> None:
        self._file = file
        self._head = b""

    def first_significant_byte(self) -> bytes:
        self._head = self._file.read(4096)
        if self._head.startswith(codecs.BOM_UTF8):
            self._head = self._head[len(codecs.BOM_UTF8) :]
        stripped = self._head.lstrip()
        return stripped[:1]

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def read(self, size: int | None = -1) -> bytes:
        if self._head:
            if size is None or size < 0:
                data, self._head = self._head + self._file.read(), b""
                return data
            data, self._head = self._head[:size], self._head[size:]
            return data
        return self._file.read(-1 if size is None else size)


# --- XLSX --------------------------------------------------------------------------------------------------


def _xlsx_rows(file: IO[bytes], fields: Sequence[FieldLike]) -> Iterator[Row]:
    try:
        workbook = load_workbook(file, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile, KeyError and XML errors for damaged files
        raise UnreadableFile(f"not a readable XLSX workbook: {exc.__class__.__name__}") from exc
    sheet = workbook.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = list(next(rows, ()))
    while header and header[-1] in (None, ""):
        header.pop()
    if not header:
        workbook.close()
        raise UnreadableFile("the first sheet is empty: its first row must name the fields")
    try:
        names = column_names(header, fields)
    except UnreadableFile:
        workbook.close()
        raise
    return _xlsx_body(workbook, rows, names)


def _xlsx_body(workbook: Any, rows: Iterator[tuple[object, ...]], names: list[str]) -> Iterator[Row]:
    try:
        for row_number, cells in enumerate(rows, start=2):
            values = [_cell_text(c) for c in cells]
            if not any(values):
                continue
            yield row_number, _ragged(names, values)
    finally:
        workbook.close()


def _cell_text(value: object) -> str | None:
    """Spreadsheet cells as the text a person would type: 12.0 is "12", a midnight datetime is a date."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)
