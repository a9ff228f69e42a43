"""``POST /query``: every operator against hand-written SQL, value errors, ordering, paging."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from .conftest import Api, ApiConnector, ids, sql_rows


def restricted(
    api: Api,
    connector: ApiConnector,
    list_name: str,
    restrictions: list[tuple[str, str, Any]],
    **query: Any,
) -> Any:
    """Run ``POST /query`` on a list with restrictions given as (ApiName, operator, value)."""
    entity_id = connector.entity_id(list_name)
    fields = api.fields(entity_id)
    spec: dict[str, Any] = {
        "Restrictions": [
            {"EntityFieldId": fields[name], "Operator": operator, "Value": value}
            for name, operator, value in restrictions
        ],
        "MaxRecords": 5000,
        **query,
    }
    return api.query({"Id": entity_id, "Format": "json", "Query": spec})


# (ApiName, operator, value) and the WHERE clause that selects the same invoices in SQLite.
OPERATOR_CASES: list[tuple[str, str, Any, str]] = [
    ("Total", "eq", 1.98, "Total = 1.98"),
    ("Total", "eq", "1.98", "Total = 1.98"),
    ("CustomerId", "eq", "7", "CustomerId = 7"),
    ("BillingCountry", "ne", "USA", "BillingCountry <> 'USA'"),
    ("BillingState", "ne", "CA", "BillingState IS NULL OR BillingState <> 'CA'"),
    ("Total", "gt", 20, "Total > 20"),
    ("Total", "ge", 21.86, "Total >= 21.86"),
    ("Total", "lt", 1, "Total < 1"),
    ("Total", "le", "0.99", "Total <= 0.99"),
    ("InvoiceDate", "eq", "2021-01-02T00:00:00", "InvoiceDate = '2021-01-02 00:00:00'"),
    ("InvoiceDate", "eq", "2021-01-02", "InvoiceDate = '2021-01-02 00:00:00'"),
    ("InvoiceDate", "ge", "2025-12-01", "InvoiceDate >= '2025-12-01'"),
    ("InvoiceDate", "lt", "2021-02-01T00:00:00", "InvoiceDate < '2021-02-01'"),
    ("BillingCity", "contains", "AR", "lower(BillingCity) LIKE '%ar%'"),
    ("BillingCountry", "startswith", "ge", "BillingCountry LIKE 'Ge%'"),
    ("BillingCity", "endswith", "IA", "lower(BillingCity) LIKE '%ia'"),
    ("BillingPostalCode", "contains", 1, "BillingPostalCode LIKE '%1%'"),
    ("BillingCountry", "in", ["Canada", "France"], "BillingCountry IN ('Canada', 'France')"),
    ("BillingCountry", "in", "Canada, France", "BillingCountry IN ('Canada', 'France')"),
    ("CustomerId", "in", [1, "2", 3], "CustomerId IN (1, 2, 3)"),
    ("Total", "between", [5, "6"], "Total BETWEEN 5 AND 6"),
    (
        "InvoiceDate",
        "between",
        "2021-01-01,2021-01-31",
        "InvoiceDate BETWEEN '2021-01-01' AND '2021-01-31 00:00:00'",
    ),
    ("BillingState", "empty", None, "BillingState IS NULL OR BillingState = ''"),
    ("BillingState", "notempty", "ignored", "BillingState IS NOT NULL AND BillingState <> ''"),
    ("BillingState", "eq", None, "BillingState IS NULL"),
    ("BillingState", "ne", None, "BillingState IS NOT NULL"),
]


@pytest.mark.parametrize(
    ("field", "operator", "value", "where"),
    OPERATOR_CASES,
    ids=[f"{case[0]}-{case[1]}-{case[2]}" for case in OPERATOR_CASES],
)
def test_operator_matches_sql(
    api: Api,
    chinook: ApiConnector,
    chinook_sqlite_path: Path,
    field: str,
    operator: str,
    value: Any,
    where: str,
) -> None:
    expected = sql_rows(
        chinook_sqlite_path, f"SELECT InvoiceId FROM Invoice WHERE {where} ORDER BY InvoiceId"
    )

    response = restricted(api, chinook, "Invoice", [(field, operator, value)])

    assert ids(response) == [row[0] for row in expected]
    assert expected, "the case must select some rows to prove anything"


def test_restrictions_combine_with_and(
    api: Api, chinook: ApiConnector, chinook_sqlite_path: Path
) -> None:
    expected = sql_rows(
        chinook_sqlite_path,
        "SELECT InvoiceId FROM Invoice WHERE BillingCountry = 'USA' AND Total > 10 "
        "ORDER BY InvoiceId",
    )

    response = restricted(
        api, chinook, "Invoice", [("BillingCountry", "eq", "USA"), ("Total", "gt", 10)]
    )

    assert ids(response) == [row[0] for row in expected]


# Value and operator refusals --------------------------------------------------------------

VALUE_ERRORS: list[tuple[str, str, Any, str]] = [
    ("Total", "eq", "cheap", "Total"),
    ("Total", "gt", None, "Total"),
    ("Total", "eq", True, "Total"),
    ("CustomerId", "eq", "7.5", "CustomerId"),
    ("CustomerId", "eq", "1_000", "CustomerId"),
    ("CustomerId", "in", ["1", "x"], "CustomerId"),
    ("CustomerId", "in", 5, "CustomerId"),
    ("InvoiceDate", "eq", "yesterday", "InvoiceDate"),
    ("InvoiceDate", "between", ["2021-01-01"], "InvoiceDate"),
    ("InvoiceDate", "between", "2021-01-01,2021-02-01,2021-03-01", "InvoiceDate"),
    ("BillingCity", "contains", ["a"], "BillingCity"),
    ("BillingCity", "eq", {"a": 1}, "BillingCity"),
    ("Total", "eq", "NaN", "Total"),
]


@pytest.mark.parametrize(
    ("field", "operator", "value", "named"),
    VALUE_ERRORS,
    ids=[f"{case[0]}-{case[1]}-{case[2]}" for case in VALUE_ERRORS],
)
def test_bad_value_is_400(
    api: Api, chinook: ApiConnector, field: str, operator: str, value: Any, named: str
) -> None:
    response = restricted(api, chinook, "Invoice", [(field, operator, value)])

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_value"
    assert f"field {named}" in response.json()["error"]


@pytest.mark.parametrize("operator", ["like", "EQ", "", "==", "regex"])
def test_bad_operator_is_400(api: Api, chinook: ApiConnector, operator: str) -> None:
    response = restricted(api, chinook, "Invoice", [("Total", operator, 1)])

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request"
    assert "Invalid operator" in response.json()["error"]


def test_binary_field_comparison_is_400(api: Api, northwind: ApiConnector) -> None:
    response = restricted(api, northwind, "Categories", [("Picture", "eq", "AAAA")])

    assert response.status_code == 400
    assert "Picture" in response.json()["error"]


def test_binary_field_notempty_works(api: Api, northwind: ApiConnector) -> None:
    response = restricted(api, northwind, "Categories", [("Picture", "notempty", None)])

    assert ids(response, "CategoryID") == list(range(1, 9))


def test_unknown_field_id_is_400(api: Api, chinook: ApiConnector) -> None:
    response = api.query(
        {
            "Id": chinook.entity_id("Invoice"),
            "Query": {"Fields": [{"EntityFieldId": "no-such-field"}]},
        }
    )

    assert response.status_code == 400
    assert response.json() == {"error": "Unknown field no-such-field", "code": "unknown_field"}


def test_field_of_other_list_is_400(api: Api, chinook: ApiConnector) -> None:
    track_name = api.fields(chinook.entity_id("Track"))["Name"]

    response = api.query(
        {"Id": chinook.entity_id("Invoice"), "Query": {"Fields": [{"EntityFieldId": track_name}]}}
    )

    assert response.status_code == 400
    assert response.json()["code"] == "unknown_field"


def test_unknown_entity_is_404(api: Api) -> None:
    response = api.query({"Id": "no-such-list"})

    assert response.status_code == 404
    assert response.json()["code"] == "entity_not_found"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"Id": "x", "Query": {"MaxRecords": "many"}},
        {"Id": "x", "Query": {"Restrictions": [{"Operator": "eq"}]}},
        {"Id": "x", "Query": {"Sort": []}},
        {"Id": "x", "Query": {"Companies": [{"CompanyId": "a"}, {"CompanyId": "b"}]}},
        {"Id": "x", "Extra": 1},
    ],
    ids=["no_id", "text_max", "no_field", "unknown_key", "two_companies", "extra_top"],
)
def test_malformed_query_is_422(api: Api, body: dict[str, Any]) -> None:
    response = api.query(body)

    assert response.status_code == 422
    assert response.json()["code"] == "invalid_body"


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({"MaxRecords": 0}, "invalid_max_records"),
        ({"MaxRecords": -5}, "invalid_max_records"),
        ({"MaxRecords": 5001}, "invalid_max_records"),
        ({"Skip": -1}, "invalid_skip"),
    ],
)
def test_bad_paging_is_400(
    api: Api, chinook: ApiConnector, query: dict[str, Any], code: str
) -> None:
    response = api.query({"Id": chinook.entity_id("Invoice"), "Query": query})

    assert response.status_code == 400
    assert response.json()["code"] == code


def test_unknown_format_is_400(api: Api, chinook: ApiConnector) -> None:
    response = api.query({"Id": chinook.entity_id("Invoice"), "Format": "yaml"})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_format"


# Fields, ordering, paging -----------------------------------------------------------------


def test_fields_ordering_paging(api: Api, chinook: ApiConnector, chinook_sqlite_path: Path) -> None:
    entity_id = chinook.entity_id("Invoice")
    fields = api.fields(entity_id)
    expected = sql_rows(
        chinook_sqlite_path,
        "SELECT Total, InvoiceId FROM Invoice ORDER BY Total DESC, InvoiceDate, InvoiceId "
        "LIMIT 7 OFFSET 30",
    )

    response = api.query(
        {
            "Id": entity_id,
            "Query": {
                "Fields": [
                    {"EntityFieldId": fields["Total"]},
                    {"EntityFieldId": fields["InvoiceId"]},
                ],
                "OrderBy": [
                    {"EntityFieldId": fields["Total"], "Descending": True},
                    {"EntityFieldId": fields["InvoiceDate"]},
                ],
                "Skip": 30,
                "MaxRecords": 7,
                "Count": True,
            },
        }
    )

    assert [list(row) for row in response.json()] == [["Total", "InvoiceId"]] * 7
    assert [(row["Total"], row["InvoiceId"]) for row in response.json()] == expected
    assert response.headers["X-Total-Count"] == "412"


def test_count_follows_restrictions(api: Api, chinook: ApiConnector) -> None:
    response = restricted(
        api, chinook, "Invoice", [("BillingCountry", "eq", "Canada")], Count=True, MaxRecords=1
    )

    assert response.headers["X-Total-Count"] == "56"
    assert len(response.json()) == 1


def test_default_max_records_is_100(api: Api, chinook: ApiConnector) -> None:
    response = api.query({"Id": chinook.entity_id("Track")})

    assert len(response.json()) == 100


# Non-ASCII text ---------------------------------------------------------------------------

NAMES = [
    ("František", "Wichterlová", "Czech Republic"),
    ("Stanisław", "Wójcik", "Poland"),
    ("João", "Fernandes", "Portugal"),
    ("Luís", "Gonçalves", "Brazil"),
]


@pytest.mark.parametrize(("first", "last", "country"), NAMES)
@pytest.mark.parametrize("format", ["json", "csv", "xml"])
def test_non_ascii_name_intact(
    api: Api, chinook: ApiConnector, first: str, last: str, country: str, format: str
) -> None:
    entity_id = chinook.entity_id("Customer")
    fields = api.fields(entity_id)

    response = api.query(
        {
            "Id": entity_id,
            "Format": format,
            "Query": {
                "Fields": [
                    {"EntityFieldId": fields["FirstName"]},
                    {"EntityFieldId": fields["LastName"]},
                    {"EntityFieldId": fields["Country"]},
                ],
                "Restrictions": [
                    {"EntityFieldId": fields["FirstName"], "Operator": "eq", "Value": first}
                ],
            },
        }
    )

    assert response.status_code == 200
    text = response.content.decode("utf-8")
    if format == "json":
        rows = [tuple(row.values()) for row in response.json()]
    elif format == "csv":
        rows = [tuple(row) for row in csv.reader(io.StringIO(text))][1:]
    else:
        rows = [
            tuple(record.findtext(name) for name in ("FirstName", "LastName", "Country"))
            for record in ET.fromstring(response.content).findall("Record")
        ]
    assert rows == [(first, last, country)]


def test_non_ascii_contains(api: Api, chinook: ApiConnector) -> None:
    response = restricted(api, chinook, "Customer", [("LastName", "contains", "ó")])

    assert [row["LastName"] for row in response.json()] == ["Wójcik"]


@pytest.mark.parametrize("wildcard", ["%", "_", "%a%"])
def test_contains_escapes_wildcards(api: Api, chinook: ApiConnector, wildcard: str) -> None:
    response = restricted(api, chinook, "Invoice", [("BillingCity", "contains", wildcard)])

    assert ids(response) == []
