"""Conversion of request values to field types.

Values arrive either as JSON values or as query-string text, so every converter accepts both
(``12`` and ``"12"`` for an integer field). A value that does not fit raises
``InvalidValueError`` naming the field's ``api_name`` and the expected type.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import math
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from listdock.connectors.types import FieldType, SourceField
from listdock.errors import InvalidValueError

EXPECTED = {
    FieldType.STRING: "a string",
    FieldType.INTEGER: "an integer",
    FieldType.DECIMAL: "a decimal number",
    FieldType.FLOAT: "a number",
    FieldType.BOOLEAN: "true or false",
    FieldType.DATE: "a date in ISO 8601 format (YYYY-MM-DD)",
    FieldType.DATETIME: "a date and time in ISO 8601 format (YYYY-MM-DDTHH:MM:SS)",
    FieldType.TIME: "a time in ISO 8601 format (HH:MM:SS)",
    FieldType.BINARY: "base64-encoded binary data",
}

# Python's int() and Decimal() also accept "1_000" and surrounding words like "Infinity";
# request values must be plain decimal notation.
_INTEGER_TEXT = re.compile(r"[+-]?\d+")
_NUMBER_TEXT = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_BOOLEAN_TEXT = {"true": True, "1": True, "false": False, "0": False}


class _Mismatch(Exception):
    """A value that does not fit the field type; converted to InvalidValueError by the caller."""


def convert_value(field: SourceField, raw: Any) -> Any:
    """Return ``raw`` converted to the Python type of ``field.type``; None stays None.

    Integers are ``int``, decimals ``Decimal``, floats ``float``, booleans ``bool``, dates,
    datetimes and times their ``datetime`` types, binary ``bytes``. Raises
    ``InvalidValueError(field=field.api_name)`` when the value does not fit.
    """
    if raw is None:
        return None
    try:
        return _CONVERTERS[field.type](raw)
    except (_Mismatch, ValueError, TypeError, InvalidOperation, binascii.Error) as error:
        raise InvalidValueError(
            f"Invalid value for field {field.api_name}: expected {EXPECTED[field.type]}",
            field=field.api_name,
        ) from error


def _to_string(raw: Any) -> str:
    if isinstance(raw, str):
        return raw
    if isinstance(raw, bool) or not isinstance(raw, int | float | Decimal):
        raise _Mismatch
    return str(raw)


def _to_integer(raw: Any) -> int:
    if isinstance(raw, bool):
        raise _Mismatch
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float | Decimal):
        if not math.isfinite(raw) or raw != int(raw):
            raise _Mismatch
        return int(raw)
    if isinstance(raw, str) and _INTEGER_TEXT.fullmatch(raw.strip()):
        return int(raw)
    raise _Mismatch


def _to_decimal(raw: Any) -> Decimal:
    if isinstance(raw, bool):
        raise _Mismatch
    if isinstance(raw, Decimal):
        value = raw
    elif isinstance(raw, int):
        value = Decimal(raw)
    elif isinstance(raw, float):
        value = Decimal(repr(raw))
    elif isinstance(raw, str) and _NUMBER_TEXT.fullmatch(raw.strip()):
        value = Decimal(raw.strip())
    else:
        raise _Mismatch
    if not value.is_finite():
        raise _Mismatch
    return value


def _to_float(raw: Any) -> float:
    if isinstance(raw, bool):
        raise _Mismatch
    if isinstance(raw, str) and not _NUMBER_TEXT.fullmatch(raw.strip()):
        raise _Mismatch
    if not isinstance(raw, int | float | Decimal | str):
        raise _Mismatch
    value = float(raw)
    if not math.isfinite(value):
        raise _Mismatch
    return value


def _to_boolean(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int) and raw in (0, 1):
        return bool(raw)
    if isinstance(raw, str) and raw.strip().lower() in _BOOLEAN_TEXT:
        return _BOOLEAN_TEXT[raw.strip().lower()]
    raise _Mismatch


def _to_date(raw: Any) -> dt.date:
    if isinstance(raw, dt.datetime):
        raise _Mismatch
    if isinstance(raw, dt.date):
        return raw
    if isinstance(raw, str):
        return dt.date.fromisoformat(raw.strip())
    raise _Mismatch


def _to_datetime(raw: Any) -> dt.datetime:
    if isinstance(raw, dt.datetime):
        return raw
    if isinstance(raw, dt.date):
        return dt.datetime(raw.year, raw.month, raw.day)
    if isinstance(raw, str):
        return dt.datetime.fromisoformat(raw.strip())
    raise _Mismatch


def _to_time(raw: Any) -> dt.time:
    if isinstance(raw, dt.time):
        return raw
    if isinstance(raw, str):
        return dt.time.fromisoformat(raw.strip())
    raise _Mismatch


def _to_binary(raw: Any) -> bytes:
    if isinstance(raw, bytes | bytearray | memoryview):
        return bytes(raw)
    if isinstance(raw, str):
        return base64.b64decode(raw, validate=True)
    raise _Mismatch


_CONVERTERS: dict[FieldType, Callable[[Any], Any]] = {
    FieldType.STRING: _to_string,
    FieldType.INTEGER: _to_integer,
    FieldType.DECIMAL: _to_decimal,
    FieldType.FLOAT: _to_float,
    FieldType.BOOLEAN: _to_boolean,
    FieldType.DATE: _to_date,
    FieldType.DATETIME: _to_datetime,
    FieldType.TIME: _to_time,
    FieldType.BINARY: _to_binary,
}
