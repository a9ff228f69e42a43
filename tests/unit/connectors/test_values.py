import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from listdock.connectors.query import (
    Restriction,
    SourceField,
    convert_value,
    normalize_restriction,
)
from listdock.connectors.types import FieldType
from listdock.errors import InvalidInputError, InvalidValueError


def field(field_type: FieldType, api_name: str = "Value") -> SourceField:
    return SourceField(column=api_name, api_name=api_name, label=api_name, type=field_type)


@pytest.mark.parametrize(
    ("field_type", "raw", "expected"),
    [
        (FieldType.INTEGER, "12", 12),
        (FieldType.INTEGER, 12, 12),
        (FieldType.INTEGER, " -3 ", -3),
        (FieldType.INTEGER, 4.0, 4),
        (FieldType.DECIMAL, "0.99", Decimal("0.99")),
        (FieldType.DECIMAL, 0.99, Decimal("0.99")),
        (FieldType.DECIMAL, 3, Decimal(3)),
        (FieldType.FLOAT, "1.5e3", 1500.0),
        (FieldType.BOOLEAN, "true", True),
        (FieldType.BOOLEAN, "0", False),
        (FieldType.BOOLEAN, False, False),
        (FieldType.DATE, "2021-03-14", dt.date(2021, 3, 14)),
        (FieldType.DATETIME, "2021-03-14T10:20:30", dt.datetime(2021, 3, 14, 10, 20, 30)),
        (FieldType.DATETIME, "2021-03-14", dt.datetime(2021, 3, 14)),
        (FieldType.TIME, "10:20", dt.time(10, 20)),
        (FieldType.STRING, "João", "João"),
        (FieldType.STRING, 42, "42"),
        (FieldType.BINARY, "AAE=", b"\x00\x01"),
        (FieldType.INTEGER, None, None),
    ],
)
def test_convert_good_values(field_type: FieldType, raw: Any, expected: Any) -> None:
    assert convert_value(field(field_type), raw) == expected


@pytest.mark.parametrize(
    ("field_type", "raw"),
    [
        (FieldType.INTEGER, "1.5"),
        (FieldType.INTEGER, "abc"),
        (FieldType.INTEGER, True),
        (FieldType.INTEGER, 1.5),
        (FieldType.INTEGER, "1_000"),
        (FieldType.DECIMAL, "NaN"),
        (FieldType.DECIMAL, "Infinity"),
        (FieldType.DECIMAL, float("nan")),
        (FieldType.DECIMAL, "12abc"),
        (FieldType.DECIMAL, False),
        (FieldType.FLOAT, "inf"),
        (FieldType.BOOLEAN, "yes"),
        (FieldType.BOOLEAN, 2),
        (FieldType.DATE, "14/03/2021"),
        (FieldType.DATE, "2021-02-30"),
        (FieldType.DATETIME, "yesterday"),
        (FieldType.TIME, "25:00"),
        (FieldType.STRING, ["a"]),
        (FieldType.BINARY, "not base64!"),
    ],
)
def test_convert_bad_values(field_type: FieldType, raw: Any) -> None:
    with pytest.raises(InvalidValueError):
        convert_value(field(field_type), raw)


def test_bad_value_message_names_field() -> None:
    with pytest.raises(InvalidValueError) as raised:
        convert_value(field(FieldType.INTEGER, "InvoiceId"), "abc")
    assert raised.value.message == "Invalid value for field InvoiceId: expected an integer"
    assert raised.value.field == "InvoiceId"


@given(st.integers())
def test_integer_text_round_trip(number: int) -> None:
    assert convert_value(field(FieldType.INTEGER), str(number)) == number


@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_decimal_text_round_trip(number: Decimal) -> None:
    assert convert_value(field(FieldType.DECIMAL), str(number)) == number


@given(st.datetimes())
def test_datetime_text_round_trip(moment: dt.datetime) -> None:
    assert convert_value(field(FieldType.DATETIME), moment.isoformat()) == moment


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_float_text_round_trip(number: float) -> None:
    assert convert_value(field(FieldType.FLOAT), repr(number)) == number


def test_unknown_operator_lists_valid_ones() -> None:
    with pytest.raises(InvalidInputError) as raised:
        normalize_restriction(Restriction(field(FieldType.INTEGER), "like", "1"))
    assert "'like'" in raised.value.message
    assert "eq, ne, gt" in raised.value.message


def test_in_accepts_comma_separated_text() -> None:
    restriction = normalize_restriction(Restriction(field(FieldType.INTEGER), "in", "1, 2,3"))
    assert restriction.value == (1, 2, 3)


def test_in_accepts_list() -> None:
    restriction = normalize_restriction(Restriction(field(FieldType.DECIMAL), "in", [1, "2.5"]))
    assert restriction.value == (Decimal(1), Decimal("2.5"))


def test_between_needs_two_values() -> None:
    with pytest.raises(InvalidValueError):
        normalize_restriction(Restriction(field(FieldType.INTEGER), "between", "1,2,3"))


def test_between_converts_both_values() -> None:
    restriction = normalize_restriction(
        Restriction(field(FieldType.DATE), "between", ["2021-01-01", "2021-12-31"])
    )
    assert restriction.value == (dt.date(2021, 1, 1), dt.date(2021, 12, 31))


def test_binary_rejects_comparison() -> None:
    with pytest.raises(InvalidInputError):
        normalize_restriction(Restriction(field(FieldType.BINARY), "eq", "AAE="))


def test_binary_allows_empty() -> None:
    restriction = normalize_restriction(Restriction(field(FieldType.BINARY), "empty", "x"))
    assert restriction.value is None


def test_gt_rejects_null() -> None:
    with pytest.raises(InvalidValueError):
        normalize_restriction(Restriction(field(FieldType.INTEGER), "gt", None))
