"""``GET /entity/{EntityId}/data``: fields, ordering, paging, counts, formats and refusals.

Expected rows come from hand-written SQL run with the ``sqlite3`` module on the same file.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import xml.etree.ElementTree as ET
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import pytest
from openpyxl import load_workbook
from sqlalchemy import update

from listdock.domain.models import EntityField

from .conftest import API, Api, ApiConnector, connector_body, ids, sql_rows

if TYPE_CHECKING:
    from listdock.app import Services

XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"


def link_url(response: Any) -> str | None:
    """Return the URL of the ``Link: <…>; rel="next"`` header, or None."""
    header = response.headers.get("Link")
    if header is None:
        return None
    assert header.endswith('>; rel="next"'), header
    return str(header[1 : header.index(">")])


# Rows and values --------------------------------------------------------------------------


def test_default_page_has_100_rows(api: Api, chinook: ApiConnector) -> None:
    response = api.data(chinook.entity_id("Invoice"))

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert len(response.json()) == 100
    assert ids(response) == list(range(1, 101))


def test_json_keyed_by_api_name(api: Api, chinook: ApiConnector) -> None:
    response = api.data(chinook.entity_id("Invoice"), MaxRecords=1)

    assert response.json() == [
        {
            "InvoiceId": 1,
            "CustomerId": 2,
            "InvoiceDate": "2021-01-01T00:00:00",
            "BillingAddress": "Theodor-Heuss-Straße 34",
            "BillingCity": "Stuttgart",
            "BillingState": None,
            "BillingCountry": "Germany",
            "BillingPostalCode": "70174",
            "Total": 1.98,
        }
    ]


def test_decimals_are_json_numbers(api: Api, chinook: ApiConnector) -> None:
    response = api.data(chinook.entity_id("Invoice"), MaxRecords=412, fields="InvoiceId,Total")
    expected = sql_rows(
        Path(chinook.body["Companies"][0]["DatabaseName"]),
        "SELECT InvoiceId, Total FROM Invoice ORDER BY InvoiceId",
    )

    decoded = json.loads(response.text, parse_float=Decimal)
    assert [(row["InvoiceId"], row["Total"]) for row in decoded] == [
        (invoice, Decimal(repr(total))) for invoice, total in expected
    ]
    assert '"Total":1.98}' in response.text


def test_dates_are_iso_strings(api: Api, chinook: ApiConnector) -> None:
    response = api.data(chinook.entity_id("Employee"), fields="EmployeeId,BirthDate,HireDate")

    first = response.json()[0]
    assert first == {
        "EmployeeId": 1,
        "BirthDate": "1962-02-18T00:00:00",
        "HireDate": "2002-08-14T00:00:00",
    }
    assert datetime.fromisoformat(first["BirthDate"]) == datetime(1962, 2, 18)


def test_fields_parameter_selects(api: Api, chinook: ApiConnector) -> None:
    response = api.data(chinook.entity_id("Track"), fields="name, TrackId", MaxRecords=2)

    assert response.json() == [
        {"Name": "For Those About To Rock (We Salute You)", "TrackId": 1},
        {"Name": "Balls to the Wall", "TrackId": 2},
    ]


def test_unknown_field_is_400(api: Api, chinook: ApiConnector) -> None:
    response = api.data(chinook.entity_id("Track"), fields="TrackId,Colour")

    assert response.status_code == 400
    assert response.json() == {"error": "Unknown field Colour", "code": "unknown_field"}


def test_empty_field_name_is_400(api: Api, chinook: ApiConnector) -> None:
    response = api.data(chinook.entity_id("Track"), fields="TrackId,,Name")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_fields"


# Ordering ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("orderby", "sql"),
    [
        ("Total desc", "ORDER BY Total DESC, InvoiceId"),
        ("Total", "ORDER BY Total, InvoiceId"),
        ("InvoiceDate desc", "ORDER BY InvoiceDate DESC, InvoiceId"),
        ("BillingCountry,Total DESC", "ORDER BY BillingCountry, Total DESC, InvoiceId"),
        ("billingstate asc", "ORDER BY BillingState IS NOT NULL, BillingState, InvoiceId"),
    ],
)
def test_orderby_matches_sql(api: Api, chinook: ApiConnector, orderby: str, sql: str) -> None:
    path = Path(chinook.body["Companies"][0]["DatabaseName"])
    expected = [row[0] for row in sql_rows(path, f"SELECT InvoiceId FROM Invoice {sql}")]

    response = api.data(chinook.entity_id("Invoice"), orderby=orderby, MaxRecords=412)

    assert ids(response) == expected


@pytest.mark.parametrize(
    ("orderby", "code"),
    [
        ("Colour", "unknown_field"),
        ("Total sideways", "invalid_orderby"),
        ("Total desc asc", "invalid_orderby"),
    ],
)
def test_bad_orderby_is_400(api: Api, chinook: ApiConnector, orderby: str, code: str) -> None:
    response = api.data(chinook.entity_id("Invoice"), orderby=orderby)

    assert response.status_code == 400
    assert response.json()["code"] == code


# Paging and counts ------------------------------------------------------------------------


def test_pages_cover_every_row(api: Api, chinook: ApiConnector) -> None:
    seen: list[int] = []
    url: str | None = f"{API}/entity/{chinook.entity_id('Invoice')}/data?MaxRecords=50"
    pages = 0
    while url is not None and pages < 20:
        response = api.client.get(url, headers=api.login.headers)
        seen += ids(response)
        url = link_url(response)
        pages += 1

    assert pages == 9
    assert seen == list(range(1, 413))


def test_link_absent_on_last_page(api: Api, chinook: ApiConnector) -> None:
    response = api.data(chinook.entity_id("Invoice"), MaxRecords=12, skip=400)

    assert ids(response) == list(range(401, 413))
    assert "Link" not in response.headers


def test_link_absent_when_page_is_exact(api: Api, chinook: ApiConnector) -> None:
    response = api.data(chinook.entity_id("Invoice"), MaxRecords=412)

    assert len(response.json()) == 412
    assert "Link" not in response.headers


def test_link_keeps_parameters(api: Api, chinook: ApiConnector) -> None:
    response = api.data(
        chinook.entity_id("Invoice"), MaxRecords=10, skip=20, orderby="Total desc", count="true"
    )

    url = link_url(response)
    assert url is not None
    query = parse_qs(urlsplit(url).query)
    assert query == {
        "MaxRecords": ["10"],
        "orderby": ["Total desc"],
        "count": ["true"],
        "skip": ["30"],
    }


def test_link_never_contains_token(api: Api, chinook: ApiConnector) -> None:
    response = api.client.get(
        f"{API}/entity/{chinook.entity_id('Invoice')}/data",
        params={"MaxRecords": 5, "token": api.login.token},
    )

    assert response.status_code == 200
    assert "token=" not in response.headers["Link"]
    assert api.login.token not in response.headers["Link"]


def test_large_page_streams_with_link(api: Api, chinook: ApiConnector) -> None:
    response = api.data(chinook.entity_id("Track"), MaxRecords=2000, fields="TrackId")

    assert [row["TrackId"] for row in response.json()] == list(range(1, 2001))
    assert parse_qs(urlsplit(link_url(response) or "").query)["skip"] == ["2000"]


def test_large_last_page_no_link(api: Api, chinook: ApiConnector) -> None:
    response = api.data(chinook.entity_id("Track"), MaxRecords=5000, fields="TrackId")

    assert len(response.json()) == 3503
    assert "Link" not in response.headers


def test_count_adds_total_header(api: Api, chinook: ApiConnector) -> None:
    response = api.data(chinook.entity_id("Track"), count="true", MaxRecords=1)

    assert response.headers["X-Total-Count"] == "3503"
    assert len(response.json()) == 1


def test_count_absent_by_default(api: Api, chinook: ApiConnector) -> None:
    response = api.data(chinook.entity_id("Track"), MaxRecords=1)

    assert "X-Total-Count" not in response.headers


def test_skip_past_end_is_empty(api: Api, chinook: ApiConnector) -> None:
    response = api.data(chinook.entity_id("Invoice"), skip=10**12)

    assert response.status_code == 200
    assert response.json() == []
    assert "Link" not in response.headers


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"MaxRecords": "0"}, "invalid_max_records"),
        ({"MaxRecords": "-1"}, "invalid_max_records"),
        ({"MaxRecords": "5001"}, "invalid_max_records"),
        ({"MaxRecords": str(10**30)}, "invalid_max_records"),
        ({"MaxRecords": "ten"}, "invalid_max_records"),
        ({"MaxRecords": "1.5"}, "invalid_max_records"),
        ({"skip": "-1"}, "invalid_skip"),
        ({"skip": str(10**30)}, "invalid_skip"),
        ({"skip": "x"}, "invalid_skip"),
        ({"count": "maybe"}, "invalid_count"),
        ({"format": "pdf"}, "invalid_format"),
    ],
    ids=lambda value: (
        "-".join(f"{k}={v[:8]}" for k, v in value.items()) if isinstance(value, dict) else value
    ),
)
def test_bad_paging_is_400(
    api: Api, chinook: ApiConnector, params: dict[str, str], code: str
) -> None:
    response = api.data(chinook.entity_id("Invoice"), **params)

    assert response.status_code == 400
    assert response.json()["code"] == code


def test_max_records_limit_accepted(api: Api, chinook: ApiConnector) -> None:
    response = api.data(chinook.entity_id("Invoice"), MaxRecords=5000)

    assert len(response.json()) == 412


# Formats ----------------------------------------------------------------------------------


def test_csv_format(api: Api, chinook: ApiConnector) -> None:
    response = api.data(chinook.entity_id("Invoice"), format="csv", MaxRecords=2)

    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="Invoice.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8"))))
    assert rows[0] == [
        "InvoiceId",
        "CustomerId",
        "InvoiceDate",
        "BillingAddress",
        "BillingCity",
        "BillingState",
        "BillingCountry",
        "BillingPostalCode",
        "Total",
    ]
    assert rows[1][0] == "1"
    assert rows[1][3] == "Theodor-Heuss-Straße 34"
    assert rows[1][5] == ""
    assert rows[1][8] == "1.98"
    assert len(rows) == 3


def test_xml_format(api: Api, chinook: ApiConnector) -> None:
    response = api.data(chinook.entity_id("Invoice"), format="xml", MaxRecords=2)

    assert response.headers["Content-Type"].startswith("application/xml")
    root = ET.fromstring(response.content)
    records = root.findall("Record")
    assert len(records) == 2
    assert records[0].findtext("InvoiceId") == "1"
    assert records[0].findtext("BillingAddress") == "Theodor-Heuss-Straße 34"
    assert records[0].findtext("Total") == "1.98"
    assert records[0].find("BillingState").get(XSI_NIL) == "true"  # type: ignore[union-attr]


def test_xlsx_format(api: Api, chinook: ApiConnector) -> None:
    response = api.data(chinook.entity_id("Invoice"), format="xlsx", MaxRecords=3)

    assert response.headers["Content-Disposition"] == 'attachment; filename="Invoice.xlsx"'
    workbook = load_workbook(io.BytesIO(response.content), read_only=True)
    rows = list(workbook.active.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert rows[0][:3] == ("InvoiceId", "CustomerId", "InvoiceDate")
    assert rows[1][0] == 1
    assert rows[1][2] == datetime(2021, 1, 1)
    assert rows[1][5] is None
    assert float(rows[1][8]) == 1.98  # type: ignore[arg-type]
    assert len(rows) == 4


def test_format_is_case_insensitive(api: Api, chinook: ApiConnector) -> None:
    response = api.data(chinook.entity_id("Genre"), format="CSV")

    assert response.status_code == 200
    assert response.text.startswith("GenreId,Name\r\n")


def test_attachment_filename_of_spaced_name(api: Api, northwind: ApiConnector) -> None:
    response = api.data(northwind.entity_id("Order Details"), format="csv", MaxRecords=1)

    assert response.headers["Content-Disposition"] == 'attachment; filename="Order_Details.csv"'


# Hidden and binary fields -----------------------------------------------------------------


@pytest.fixture
def hidden_total(services: Services, api: Api, chinook: ApiConnector) -> str:
    """Hide Invoice.Total directly in the store; return its EntityFieldId."""
    field_id = api.fields(chinook.entity_id("Invoice"))["Total"]
    with services.sessions.begin() as session:
        session.execute(update(EntityField).where(EntityField.id == field_id).values(hidden=True))
    return field_id


def test_hidden_field_not_returned(api: Api, chinook: ApiConnector, hidden_total: str) -> None:
    entity_id = chinook.entity_id("Invoice")

    response = api.data(entity_id, MaxRecords=1)

    assert "Total" not in response.json()[0]
    assert "Total" not in api.fields(entity_id)
    assert (
        hidden_total
        not in api.client.get(
            f"{API}/entity/{entity_id}/default-field", headers=api.login.headers
        ).text
    )


@pytest.mark.parametrize(
    "params", [{"fields": "InvoiceId,Total"}, {"orderby": "Total"}, {"orderby": "Total desc"}]
)
def test_hidden_field_unusable_in_get(
    api: Api, chinook: ApiConnector, hidden_total: str, params: dict[str, str]
) -> None:
    response = api.data(chinook.entity_id("Invoice"), **params)

    assert response.status_code == 400
    assert response.json() == {"error": "Unknown field Total", "code": "unknown_field"}


@pytest.mark.parametrize("part", ["Fields", "Restrictions", "OrderBy"])
def test_hidden_field_unusable_in_query(
    api: Api, chinook: ApiConnector, hidden_total: str, part: str
) -> None:
    entry: dict[str, Any] = {"EntityFieldId": hidden_total}
    if part == "Restrictions":
        entry.update(Operator="gt", Value=1)

    response = api.query({"Id": chinook.entity_id("Invoice"), "Query": {part: [entry]}})

    assert response.status_code == 400
    assert response.json()["code"] == "unknown_field"


def test_hidden_field_not_in_csv(api: Api, chinook: ApiConnector, hidden_total: str) -> None:
    response = api.data(chinook.entity_id("Invoice"), format="csv", MaxRecords=1)

    assert "Total" not in response.text.splitlines()[0].split(",")


def test_binary_excluded_by_default(api: Api, northwind: ApiConnector) -> None:
    response = api.data(northwind.entity_id("Categories"))

    assert [sorted(row) for row in response.json()][0] == [
        "CategoryID",
        "CategoryName",
        "Description",
    ]
    assert len(response.json()) == 8


def test_binary_field_on_request(
    api: Api, northwind: ApiConnector, northwind_sqlite_path: Path
) -> None:
    import base64

    expected = sql_rows(
        northwind_sqlite_path, "SELECT Picture FROM Categories WHERE CategoryID = 1"
    )

    response = api.data(northwind.entity_id("Categories"), fields="Picture", MaxRecords=1)

    picture = response.json()[0]["Picture"]
    assert base64.b64decode(picture) == bytes(expected[0][0])


# Northwind names and views ----------------------------------------------------------------


def test_order_details_with_space(
    api: Api, northwind: ApiConnector, northwind_sqlite_path: Path
) -> None:
    expected = sql_rows(
        northwind_sqlite_path,
        'SELECT OrderID, ProductID, Quantity FROM "Order Details" '
        "ORDER BY Quantity DESC, OrderID, ProductID LIMIT 5",
    )

    response = api.data(
        northwind.entity_id("Order Details"),
        fields="OrderID,ProductID,Quantity",
        orderby="Quantity desc",
        MaxRecords=5,
        count="true",
    )

    assert [tuple(row.values()) for row in response.json()] == expected
    total = sql_rows(northwind_sqlite_path, 'SELECT count(*) FROM "Order Details"')[0][0]
    assert response.headers["X-Total-Count"] == str(total)


def northwind_views(path: Path) -> list[str]:
    return [row[0] for row in sql_rows(path, "SELECT name FROM sqlite_master WHERE type='view'")]


def test_every_view_returns_rows(
    api: Api, northwind: ApiConnector, northwind_sqlite_path: Path
) -> None:
    for view in northwind_views(northwind_sqlite_path):
        expected = sql_rows(northwind_sqlite_path, f'SELECT count(*) FROM "{view}"')[0][0]
        response = api.data(northwind.entity_id(view), count="true", MaxRecords=1)
        assert response.status_code == 200, (view, response.text)
        assert response.headers["X-Total-Count"] == str(expected), view


def test_view_filters_by_date(
    api: Api, northwind: ApiConnector, northwind_sqlite_path: Path
) -> None:
    entity_id = northwind.entity_id("Orders Qry")
    fields = api.fields(entity_id)
    expected = sql_rows(
        northwind_sqlite_path,
        'SELECT OrderID FROM "Orders Qry" WHERE date(OrderDate) = ? ORDER BY OrderID',
        "1996-07-04",
    )

    response = api.query(
        {
            "Id": entity_id,
            "Query": {
                "Fields": [{"EntityFieldId": fields["OrderID"]}],
                "Restrictions": [
                    {"EntityFieldId": fields["OrderDate"], "Operator": "eq", "Value": "1996-07-04"}
                ],
                "OrderBy": [{"EntityFieldId": fields["OrderID"]}],
            },
        }
    )

    assert ids(response, "OrderID") == [row[0] for row in expected]
    assert len(expected) == 1


# Companies --------------------------------------------------------------------------------


@pytest.fixture
def two_companies(api: Api, chinook_sqlite_path: Path, tmp_path: Path) -> ApiConnector:
    """Chinook copied twice; the second copy has one genre renamed so the two differ."""
    copies = [tmp_path / "first.sqlite", tmp_path / "second.sqlite"]
    for copy in copies:
        copy.write_bytes(chinook_sqlite_path.read_bytes())
    connection = sqlite3.connect(copies[1])
    with connection:
        connection.execute("UPDATE Genre SET Name = 'Rock (second)' WHERE GenreId = 1")
    connection.close()
    return api.create_connector(
        connector_body("Two companies", "sqlite", [str(copy) for copy in copies])
    )


def test_company_required_with_several(api: Api, two_companies: ApiConnector) -> None:
    response = api.data(two_companies.entity_id("Genre"))

    assert response.status_code == 400
    assert response.json()["code"] == "company_required"
    assert "company" in response.json()["error"]


def test_company_selects_database(api: Api, two_companies: ApiConnector) -> None:
    first, second = two_companies.company_ids
    entity_id = two_companies.entity_id("Genre")

    from_first = api.data(entity_id, company=first, MaxRecords=1).json()
    from_second = api.data(entity_id, company=second, MaxRecords=1).json()

    assert from_first == [{"GenreId": 1, "Name": "Rock"}]
    assert from_second == [{"GenreId": 1, "Name": "Rock (second)"}]


def test_query_company_selects_database(api: Api, two_companies: ApiConnector) -> None:
    second = two_companies.company_ids[1]

    response = api.query(
        {
            "Id": two_companies.entity_id("Genre"),
            "Query": {"Companies": [{"CompanyId": second}], "MaxRecords": 1},
        }
    )

    assert response.json() == [{"GenreId": 1, "Name": "Rock (second)"}]


def test_query_company_required(api: Api, two_companies: ApiConnector) -> None:
    response = api.query({"Id": two_companies.entity_id("Genre")})

    assert response.status_code == 400
    assert response.json()["code"] == "company_required"


def test_single_company_is_default(api: Api, chinook: ApiConnector) -> None:
    implicit = api.data(chinook.entity_id("Genre"))
    explicit = api.data(chinook.entity_id("Genre"), company=chinook.company_ids[0])

    assert implicit.json() == explicit.json()
    assert len(implicit.json()) == 25


def test_unknown_company_is_404(api: Api, chinook: ApiConnector) -> None:
    response = api.data(chinook.entity_id("Genre"), company="no-such-company")

    assert response.status_code == 404
    assert response.json() == {"error": "Company not found", "code": "company_not_found"}


def test_other_connectors_company_404(
    api: Api, chinook: ApiConnector, two_companies: ApiConnector
) -> None:
    response = api.data(chinook.entity_id("Genre"), company=two_companies.company_ids[0])

    assert response.status_code == 404
    assert response.json()["code"] == "company_not_found"


def test_unknown_entity_is_404(api: Api) -> None:
    response = api.data("no-such-list")

    assert response.status_code == 404
    assert response.json() == {"error": "List not found", "code": "entity_not_found"}


def test_query_parameter_names_case_insensitive(api: Api, chinook: ApiConnector) -> None:
    response = api.data(chinook.entity_id("Invoice"), maxrecords=3, SKIP=1, OrderBy="Total desc")

    assert len(response.json()) == 3
