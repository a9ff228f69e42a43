"""Output formats: JSON, CSV, XML and XLSX renderers that yield chunks of about 64 KB.

Every renderer takes the selected fields and an iterable of row tuples (as ``stream_rows``
yields them) and returns an iterator of ``bytes``, and no renderer keeps the whole result in memory.

Value forms shared by the text formats: decimals are written exactly (``Decimal("0.99")`` as
``0.99``), dates, datetimes and times are ISO 8601, booleans are ``true``/``false``, and
binary values are base64. CSV alone writes datetimes with a space, not ``T``.
JSON writes NULL as ``null``, CSV as an empty cell, XML as an
empty element with ``xsi:nil="true"`` (so every record has every element), XLSX as an
empty cell.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import itertools
import json
import logging
import math
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

import orjson

from listdock.connectors.types import FieldType, SourceField

logger = logging.getLogger(__name__)

FORMATS = ("json", "csv", "xml", "xlsx")

MEDIA_TYPES: dict[str, str] = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "xml": "application/xml",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

FILE_EXTENSIONS: dict[str, str] = {"json": ".json", "csv": ".csv", "xml": ".xml", "xlsx": ".xlsx"}

CHUNK_SIZE = 64 * 1024

# XLSX output is buffered in memory up to this size, then in a temporary file.
_XLSX_SPOOL_SIZE = 8 * 1024 * 1024

Converter = Callable[[Any], str]


def render(
    format: str, fields: Sequence[SourceField], rows: Iterable[tuple[Any, ...]]
) -> Iterator[bytes]:
    """Render rows in one of ``FORMATS``; raises ``ValueError`` for any other format."""
    renderers = {"json": render_json, "csv": render_csv, "xml": render_xml, "xlsx": render_xlsx}
    if format not in renderers:
        raise ValueError(f"Unknown format: {format!r}; expected one of {', '.join(FORMATS)}")
    return renderers[format](fields, rows)


# Text forms of values ------------------------------------------------------------------


def _decimal_text(value: Decimal) -> str:
    return str(value) if value.is_finite() else ""


def _float_text(value: float) -> str:
    return repr(value) if math.isfinite(value) else ""


def _binary_text(value: bytes | bytearray | memoryview) -> str:
    return base64.b64encode(value).decode("ascii")


def _boolean_text(value: Any) -> str:
    return "true" if value else "false"


def _text(value: Any) -> str:
    """Return any value in its text form (used by CSV and XML); NULL is not handled here."""
    kind = type(value)
    if kind is str:
        return value  # type: ignore[no-any-return]
    if kind is bool:
        return _boolean_text(value)
    if kind is Decimal:
        return _decimal_text(value)
    if kind is float:
        return _float_text(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return _binary_text(value)
    return str(value)


# JSON -----------------------------------------------------------------------------------

_encode_string: Callable[[str], str] = json.encoder.encode_basestring


def _json_value(value: Any) -> str:
    """Return the JSON text of one value of any type."""
    kind = type(value)
    if value is None:
        return "null"
    if kind is str:
        return _encode_string(value)
    if kind is int:
        return int.__repr__(value)
    if kind is bool:
        return "true" if value else "false"
    if kind is Decimal:
        return str(value) if value.is_finite() else "null"
    if kind is float:
        return repr(value) if math.isfinite(value) else "null"
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return '"' + value.isoformat() + '"'
    if isinstance(value, bytes | bytearray | memoryview):
        return '"' + _binary_text(value) + '"'
    return _encode_string(str(value))


def _json_string(value: Any) -> str:
    if type(value) is str:
        return _encode_string(value)
    return _json_value(value)


def _json_integer(value: Any) -> str:
    if type(value) is int:
        return int.__repr__(value)
    return _json_value(value)


def _json_boolean(value: Any) -> str:
    # MySQL returns BOOLEAN (TINYINT(1)) as 0/1 when a column was not read as Boolean.
    if type(value) is int and value in (0, 1):
        return "true" if value else "false"
    return _json_value(value)


_JSON_CONVERTERS: dict[FieldType, Converter] = {
    FieldType.STRING: _json_string,
    FieldType.INTEGER: _json_integer,
    FieldType.BOOLEAN: _json_boolean,
}


def render_json(fields: Sequence[SourceField], rows: Iterable[tuple[Any, ...]]) -> Iterator[bytes]:
    """Render rows as a JSON array of objects keyed by ``api_name``, in UTF-8.

    Decimals are JSON numbers written exactly; NaN and infinities, which JSON cannot
    express, are written as ``null``.
    """
    columns = [
        (
            ("{" if index == 0 else ",") + _encode_string(field.api_name) + ":",
            _JSON_CONVERTERS.get(field.type, _json_value),
        )
        for index, field in enumerate(fields)
    ]
    closing = "}" if columns else "{}"

    parts: list[str] = ["["]
    size = 1
    separator = ""
    for row in rows:
        body = "".join(
            key + ("null" if value is None else convert(value))
            for (key, convert), value in zip(columns, row)  # noqa: B905 (hot loop)
        )
        text = separator + body + closing
        separator = ","
        parts.append(text)
        size += len(text)
        if size >= CHUNK_SIZE:
            yield "".join(parts).encode("utf-8")
            parts.clear()
            size = 0
    parts.append("]")
    yield "".join(parts).encode("utf-8")


# Values of other types than str, int, float, bool and None make orjson raise TypeError, as
# they make the json module raise, instead of being written in orjson's own form.
_ORJSON_OPTIONS = (
    orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_SUBCLASS
)
# Every float below 1e-4 that orjson writes contains one of these: a plain "0.0000..." or an
# exponent such as "1.5e-9". A page that contains either anywhere goes to the json module.
SMALL_FLOAT_TEXTS = (b"0.0000", b"e-")


class _NotNative(Exception):
    """A value has no JSON-native form that renders exactly as ``render_json`` writes it."""


def _native_decimal(value: Any) -> Any:
    """Return a float or int whose JSON text is the decimal's exact text; None for NaN."""
    if type(value) is not Decimal:
        return _native_other(value)
    if not value.is_finite():
        return None
    text = str(value)
    number = float(text)
    if repr(number) == text:
        return number
    if text.lstrip("-").isdigit():
        return int(text)
    raise _NotNative


def _native_decimal_as_read(value: Any) -> Any:
    """Like ``_native_decimal`` for a value as SQLite returned it from a DECIMAL column.

    ``ExactDecimal`` would read a float as ``Decimal(repr(value))``. Its text equals
    ``repr(value)`` whenever that has no exponent, which is when 1e-4 <= |value| < 1e16.
    """
    kind = type(value)
    if kind is float:
        if 1e-4 <= abs(value) < 1e16 or value == 0.0:
            return value
        if not math.isfinite(value):
            return None
        raise _NotNative
    if kind is int:
        return value
    raise _NotNative


def _native_boolean(value: Any) -> Any:
    if type(value) is int and value in (0, 1):
        return value == 1
    return value


def _native_temporal(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return value


def _native_binary(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return _binary_text(value)
    return value


def _native_other(value: Any) -> Any:
    raise _NotNative


_NATIVE_CONVERTERS: dict[FieldType, Callable[[Any], Any]] = {
    FieldType.DECIMAL: _native_decimal,
    FieldType.BOOLEAN: _native_boolean,
    FieldType.DATE: _native_temporal,
    FieldType.DATETIME: _native_temporal,
    FieldType.TIME: _native_temporal,
    FieldType.BINARY: _native_binary,
}


def json_page(
    fields: Sequence[SourceField], rows: Sequence[tuple[Any, ...]], *, decimals_as_read: bool
) -> bytes | None:
    """Return a page of rows as ``render_json`` writes them, encoded in C by orjson or json.

    Returns None when a value has no JSON-native form with the same text (a decimal with an
    exponent, a value of an unexpected type, NaN in a float field) or two fields share an
    ApiName. ``render_json`` then writes the page. With ``decimals_as_read``, DECIMAL values
    are still as SQLite returned them (see ``_native_decimal_as_read``).
    """
    names = [field.api_name for field in fields]
    if len(set(names)) != len(names):
        return None
    converted: list[tuple[int, Callable[[Any], Any]]] = []
    for index, field in enumerate(fields):
        if field.type is FieldType.DECIMAL and decimals_as_read:
            if not _decimals_as_read_are_native([row[index] for row in rows]):
                return None
        elif field.type is FieldType.DECIMAL:
            converted.append((index, _native_decimal))
        elif field.type in _NATIVE_CONVERTERS:
            converted.append((index, _NATIVE_CONVERTERS[field.type]))
    try:
        native: Sequence[Sequence[Any]] = (
            [_native_row(row, converted) for row in rows] if converted else rows
        )
    except _NotNative:
        return None
    objects = list(map(dict, map(zip, itertools.repeat(names), native)))

    # orjson is about ten times faster than the json module here, and writes the same text
    # except for floats below 1e-4, whose text then contains "0.0000" or "e-". Such a page,
    # or one orjson cannot encode (such as an integer beyond 64 bits), goes to the json module.
    try:
        body = orjson.dumps(objects, option=_ORJSON_OPTIONS)
    except TypeError:
        body = None
    if body is not None and not any(text in body for text in SMALL_FLOAT_TEXTS):
        return body
    try:
        text = json.dumps(objects, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError):
        return None
    return text.encode("utf-8")


def _decimals_as_read_are_native(values: list[Any]) -> bool:
    """Return whether SQLite's values of a DECIMAL column are JSON-native as they are.

    True when every value is None, an int, or a float whose repr has no exponent
    (1e-4 <= |value| < 1e16, or zero): ``_native_decimal_as_read`` would leave each one as it
    is. NaN may pass this check, but json.dumps then refuses it (``allow_nan=False``). The
    checks run in C (filter, map, min, max), not one Python call per value.
    """
    nonzero = list(filter(None, values))
    if not nonzero:
        return True
    if not set(map(type, nonzero)) <= {int, float}:
        return False
    magnitudes = list(map(abs, nonzero))
    if min(magnitudes) >= 1e-4 and max(magnitudes) < 1e16:
        return True
    # Large integers are exact whatever their size: check value by value.
    return all(type(value) is int or 1e-4 <= abs(value) < 1e16 for value in nonzero)


def _native_row(
    row: tuple[Any, ...], converted: list[tuple[int, Callable[[Any], Any]]]
) -> list[Any]:
    values = list(row)
    for index, convert in converted:
        value = values[index]
        if value is not None:
            values[index] = convert(value)
    return values


# CSV ------------------------------------------------------------------------------------


def _csv_converter(field_type: FieldType) -> Converter | None:
    """Return the converter of a field type for CSV, or None where the csv module's ``str()``
    already gives the right text (strings, numbers, dates, datetimes and times)."""
    if field_type in (FieldType.BOOLEAN, FieldType.BINARY):
        return _text
    return None


# Rows are written in batches: one writerows() call per batch is much faster than per row.
_CSV_BATCH = 500


def render_csv(fields: Sequence[SourceField], rows: Iterable[tuple[Any, ...]]) -> Iterator[bytes]:
    """Render rows as UTF-8 CSV with a header row of labels, quoted as RFC 4180 specifies.

    Lines end with CRLF, NULL is an empty cell, and no byte order mark is written.
    Datetimes use a space between date and time (``2021-03-14 10:00:00``, which ISO 8601
    allows by agreement): spreadsheets recognise that form but not the ``T`` form, and
    skipping the conversion keeps large exports fast.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([field.label for field in fields])

    converted = [
        (index, convert)
        for index, field in enumerate(fields)
        if (convert := _csv_converter(field.type)) is not None
    ]

    def convert_row(row: tuple[Any, ...]) -> Sequence[Any]:
        values = list(row)
        for index, convert in converted:
            value = values[index]
            if value is not None:
                values[index] = convert(value)
        return values

    iterator = iter(rows)
    while batch := list(itertools.islice(iterator, _CSV_BATCH)):
        writer.writerows(map(convert_row, batch) if converted else batch)
        if buffer.tell() >= CHUNK_SIZE:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


# XML ------------------------------------------------------------------------------------

_XML_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
# Characters that XML 1.0 does not allow, even escaped; they are replaced by U+FFFD.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_element_name(api_name: str) -> str:
    """Return ``api_name`` as an XML element name, prefixing ``_`` when it is not one."""
    if _XML_NAME.fullmatch(api_name) and not api_name.lower().startswith("xml"):
        return api_name
    return "_" + api_name


def _xml_text(value: Any) -> str:
    text = escape(_text(value))
    if _XML_INVALID.search(text):
        text = _XML_INVALID.sub("\ufffd", text)
    return text


def render_xml(fields: Sequence[SourceField], rows: Iterable[tuple[Any, ...]]) -> Iterator[bytes]:
    """Render rows as ``<Records><Record><ApiName>value</ApiName>…</Record>…</Records>``.

    NULL is an empty element with ``xsi:nil="true"``. An ``api_name`` that is not a valid
    XML name (it starts with a digit or with "xml") gets a leading underscore.
    """
    names = [xml_element_name(field.api_name) for field in fields]
    tags = [(f"<{name}>", f"</{name}>", f'<{name} xsi:nil="true"/>') for name in names]

    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<Records xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
    ]
    size = len(parts[0])
    for row in rows:
        text = (
            "<Record>"
            + "".join(
                nil if value is None else start + _xml_text(value) + end
                for (start, end, nil), value in zip(tags, row)  # noqa: B905 (hot loop)
            )
            + "</Record>"
        )
        parts.append(text)
        size += len(text)
        if size >= CHUNK_SIZE:
            yield "".join(parts).encode("utf-8")
            parts.clear()
            size = 0
    parts.append("</Records>\n")
    yield "".join(parts).encode("utf-8")


# XLSX -----------------------------------------------------------------------------------


def _xlsx_value(value: Any) -> Any:
    """Return a value in a form openpyxl writes: text for binary and aware datetimes."""
    if isinstance(value, str):
        return _ILLEGAL_XLSX.sub("\ufffd", value) if _ILLEGAL_XLSX.search(value) else value
    if isinstance(value, dt.datetime | dt.time) and value.tzinfo is not None:
        return value.isoformat()  # Excel has no time zones
    if isinstance(value, Decimal) and not value.is_finite():
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, bytes | bytearray | memoryview):
        return _binary_text(value)
    return value


_ILLEGAL_XLSX = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def render_xlsx(fields: Sequence[SourceField], rows: Iterable[tuple[Any, ...]]) -> Iterator[bytes]:
    """Render rows as an XLSX workbook with one sheet and a header row of labels.

    The workbook is built with openpyxl in write-only mode into a temporary file that stays
    in memory up to 8 MB, so the first chunk comes only after the last row is read.
    """
    from openpyxl import Workbook  # imported here: openpyxl is slow to import

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Records")
    sheet.append([field.label for field in fields])
    for row in rows:
        sheet.append([None if value is None else _xlsx_value(value) for value in row])

    with tempfile.SpooledTemporaryFile(max_size=_XLSX_SPOOL_SIZE) as output:
        workbook.save(output)
        output.seek(0)
        while chunk := output.read(CHUNK_SIZE):
            yield chunk
