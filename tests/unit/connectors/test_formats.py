import csv
import datetime as dt
import io
import json
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from listdock.connectors.engines import ConnectionSettings, create_source_engine
from listdock.connectors.formats import CHUNK_SIZE, FORMATS, render
from listdock.connectors.query import SourceField, SourceQuery, stream_rows
from listdock.connectors.types import FieldType

FIELDS = (
    SourceField("id", "Id", "Id", FieldType.INTEGER),
    SourceField("name", "Name", "Full name", FieldType.STRING),
    SourceField("price", "Price", "Price", FieldType.DECIMAL),
    SourceField("day", "Day", "Day", FieldType.DATE),
    SourceField("at", "At", "At", FieldType.DATETIME),
    SourceField("ok", "Ok", "Ok", FieldType.BOOLEAN),
    SourceField("data", "Data", "Data", FieldType.BINARY),
)
ROWS: list[tuple[Any, ...]] = [
    (1, 'Zoë "Z" <&>, Ltd', Decimal("0.99"), dt.date(2021, 3, 14),
     dt.datetime(2021, 3, 14, 10, 0), True, b"\x00\x01"),
    (2, None, Decimal("1E+2"), None, None, False, None),
]  # fmt: skip


def output(format: str, rows: list[tuple[Any, ...]] = ROWS) -> bytes:
    return b"".join(render(format, FIELDS, iter(rows)))


def test_json_exact_output() -> None:
    assert output("json").decode("utf-8") == (
        '[{"Id":1,"Name":"Zoë \\"Z\\" <&>, Ltd","Price":0.99,"Day":"2021-03-14",'
        '"At":"2021-03-14T10:00:00","Ok":true,"Data":"AAE="},'
        '{"Id":2,"Name":null,"Price":1E+2,"Day":null,"At":null,"Ok":false,"Data":null}]'
    )


def test_json_decimals_are_numbers() -> None:
    parsed = json.loads(output("json"), parse_float=Decimal)
    assert parsed[0]["Price"] == Decimal("0.99")


def test_json_empty_result() -> None:
    assert output("json", []) == b"[]"


def test_csv_exact_output() -> None:
    assert output("csv").decode("utf-8") == (
        "Id,Full name,Price,Day,At,Ok,Data\r\n"
        '1,"Zoë ""Z"" <&>, Ltd",0.99,2021-03-14,2021-03-14 10:00:00,true,AAE=\r\n'
        "2,,1E+2,,,false,\r\n"
    )


def test_csv_reads_back() -> None:
    rows = list(csv.reader(io.StringIO(output("csv").decode("utf-8"))))
    assert rows[1][1] == 'Zoë "Z" <&>, Ltd'


def test_xml_exact_output() -> None:
    assert output("xml").decode("utf-8") == (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<Records xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        '<Record><Id>1</Id><Name>Zoë "Z" &lt;&amp;&gt;, Ltd</Name><Price>0.99</Price>'
        "<Day>2021-03-14</Day><At>2021-03-14T10:00:00</At><Ok>true</Ok><Data>AAE=</Data></Record>"
        '<Record><Id>2</Id><Name xsi:nil="true"/><Price>1E+2</Price><Day xsi:nil="true"/>'
        '<At xsi:nil="true"/><Ok>false</Ok><Data xsi:nil="true"/></Record>'
        "</Records>\n"
    )


def test_xml_parses_back() -> None:
    root = ET.fromstring(output("xml"))
    assert root.find("Record/Name").text == 'Zoë "Z" <&>, Ltd'  # type: ignore[union-attr]


def test_xml_replaces_control_characters() -> None:
    rows: list[tuple[Any, ...]] = [(1, "bell\x07", None, None, None, None, None)]
    root = ET.fromstring(output("xml", rows))
    assert root.find("Record/Name").text == "bell\ufffd"  # type: ignore[union-attr]


def test_xlsx_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "out.xlsx"
    path.write_bytes(output("xlsx"))
    sheet = load_workbook(path, read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert rows[0] == ("Id", "Full name", "Price", "Day", "At", "Ok", "Data")
    assert rows[1][:3] == (1, 'Zoë "Z" <&>, Ltd', 0.99)
    assert rows[1][4] == dt.datetime(2021, 3, 14, 10, 0)
    assert rows[2][1] is None


@pytest.mark.parametrize("format", FORMATS)
def test_chunks_are_bounded(format: str) -> None:
    rows = [ROWS[0]] * 20_000
    chunks = list(render(format, FIELDS, iter(rows)))
    assert len(chunks) > 2
    assert max(len(chunk) for chunk in chunks) < 2 * CHUNK_SIZE


def test_unknown_format() -> None:
    with pytest.raises(ValueError, match="yaml"):
        render("yaml", FIELDS, iter(ROWS))


def test_chinook_json_non_ascii(chinook_sqlite_path: Path) -> None:
    engine = create_source_engine("sqlite", ConnectionSettings(), str(chinook_sqlite_path))
    first = SourceField("FirstName", "FirstName", "First name", FieldType.STRING)
    key = SourceField("CustomerId", "CustomerId", "Id", FieldType.INTEGER)
    try:
        rows = stream_rows(
            engine, SourceQuery("Customer", (key, first), key_fields=(key,), limit=1)
        )
        text = b"".join(render("json", (key, first), rows)).decode("utf-8")
    finally:
        engine.dispose()
    assert text == '[{"CustomerId":1,"FirstName":"Luís"}]'
