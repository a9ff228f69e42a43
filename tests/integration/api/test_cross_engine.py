"""The same data requests on Chinook through SQLite, PostgreSQL and MariaDB connectors agree.

The PostgreSQL copy names tables and columns in snake case (``invoice_line.unit_price``), so
its ApiNames differ in spelling (``unitprice``); keys are compared case-folded. Its data also
lacks the trailing space of "Edinburgh " in seven invoices of the other two copies, so string
values are compared without trailing white space. String order is left out because each
engine sorts text by its own collation.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .conftest import API, Api, ApiConnector, connector_body, server_settings

if TYPE_CHECKING:
    from tests.conftest import ServerDatabase

ENGINES = ("sqlite", "postgresql", "mysql")


def folded(name: str) -> str:
    return name.replace("_", "").casefold()


class Chinooks:
    """Chinook connected once per engine, with helpers that run one request on all three."""

    def __init__(self, api: Api, connectors: dict[str, ApiConnector]) -> None:
        self.api = api
        self.connectors = connectors

    def entity_id(self, engine: str, list_name: str) -> str:
        for name, entity in self.connectors[engine].entities.items():
            if folded(name) == folded(list_name):
                return str(entity["EntityId"])
        raise KeyError(list_name)

    def field_id(self, engine: str, entity_id: str, api_name: str) -> str:
        fields = self.api.fields(entity_id)
        return next(value for key, value in fields.items() if folded(key) == folded(api_name))

    def get(self, list_name: str, **params: Any) -> dict[str, Any]:
        """Run ``GET …/data`` on every engine; return each engine's normalised response."""
        return {
            engine: normalised(self.api.data(self.entity_id(engine, list_name), **params))
            for engine in ENGINES
        }

    def query(self, list_name: str, query: dict[str, Any]) -> dict[str, Any]:
        """Run ``POST /query`` on every engine; fields are named by ApiName in ``query``."""
        results = {}
        for engine in ENGINES:
            entity_id = self.entity_id(engine, list_name)

            def resolve(
                entry: dict[str, Any], engine: str = engine, entity: str = entity_id
            ) -> Any:
                named = dict(entry)
                named["EntityFieldId"] = self.field_id(engine, entity, named.pop("Field"))
                return named

            spec = {
                key: [resolve(entry) for entry in value] if isinstance(value, list) else value
                for key, value in query.items()
            }
            results[engine] = normalised(self.api.query({"Id": entity_id, "Query": spec}))
        return results


def normalised(response: Any) -> dict[str, Any]:
    """Return status, count, whether a next page exists, and rows with case-folded keys."""
    assert response.status_code == 200, response.text
    return {
        "count": response.headers.get("X-Total-Count"),
        "next": "Link" in response.headers,
        "rows": [
            {
                folded(key): value.rstrip() if isinstance(value, str) else value
                for key, value in row.items()
            }
            for row in response.json()
        ],
    }


@pytest.fixture
def chinooks(
    api: Api,
    chinook_sqlite_path: Path,
    chinook_postgres: ServerDatabase,
    chinook_mariadb: ServerDatabase,
) -> Chinooks:
    connectors = {
        "sqlite": api.create_connector(
            connector_body("Chinook SQLite", "sqlite", [str(chinook_sqlite_path)])
        ),
        "postgresql": api.create_connector(
            connector_body(
                "Chinook PostgreSQL",
                "postgresql",
                [chinook_postgres.database_name],
                server_settings(chinook_postgres),
            )
        ),
        "mysql": api.create_connector(
            connector_body(
                "Chinook MariaDB",
                "mysql",
                [chinook_mariadb.database_name],
                server_settings(chinook_mariadb),
            )
        ),
    }
    return Chinooks(api, connectors)


def assert_agree(results: dict[str, Any]) -> None:
    assert results["postgresql"] == results["sqlite"]
    assert results["mysql"] == results["sqlite"]
    assert results["sqlite"]["rows"], "the request must return rows to prove anything"


GET_CASES: list[tuple[str, dict[str, Any]]] = [
    ("Invoice", {"count": "true", "MaxRecords": 20}),
    ("Invoice", {"orderby": "Total desc", "MaxRecords": 30, "skip": 10}),
    ("Invoice", {"orderby": "InvoiceDate desc", "MaxRecords": 25, "count": "true"}),
    ("Invoice", {"orderby": "BillingState", "MaxRecords": 10, "fields": "InvoiceId,BillingState"}),
    ("Invoice", {"MaxRecords": 12, "skip": 400}),
    ("InvoiceLine", {"orderby": "UnitPrice desc", "MaxRecords": 50, "skip": 100}),
    ("Track", {"orderby": "Milliseconds desc", "MaxRecords": 5, "count": "true"}),
    ("Track", {"orderby": "Bytes", "MaxRecords": 1500, "fields": "TrackId,Bytes"}),
    ("Employee", {"orderby": "BirthDate", "fields": "EmployeeId,BirthDate,HireDate,ReportsTo"}),
    ("Employee", {"orderby": "ReportsTo desc", "fields": "EmployeeId,ReportsTo"}),
    ("Customer", {"fields": "CustomerId,FirstName,LastName,Company,State", "MaxRecords": 59}),
]


@pytest.mark.parametrize(
    ("list_name", "params"),
    GET_CASES,
    ids=[f"{name}-{'-'.join(map(str, params.values()))}" for name, params in GET_CASES],
)
def test_get_data_agrees(chinooks: Chinooks, list_name: str, params: dict[str, Any]) -> None:
    assert_agree(chinooks.get(list_name, **params))


QUERY_CASES: list[tuple[str, list[tuple[str, str, Any]]]] = [
    ("count_filter", [("BillingCountry", "eq", "USA")]),
    ("numeric_gt", [("Total", "gt", 15)]),
    ("numeric_between", [("Total", "between", ["3.96", "5.94"])]),
    ("decimal_eq", [("Total", "eq", "0.99")]),
    ("date_eq", [("InvoiceDate", "eq", "2021-01-02")]),
    ("datetime_eq", [("InvoiceDate", "eq", "2021-01-11T00:00:00")]),
    ("date_range", [("InvoiceDate", "ge", "2023-03-01"), ("InvoiceDate", "lt", "2023-04-01")]),
    ("date_between", [("InvoiceDate", "between", "2024-06-01,2024-06-30")]),
    ("in_list", [("BillingCountry", "in", ["Canada", "Norway", "Chile"])]),
    ("empty", [("BillingState", "empty", None)]),
    ("notempty", [("BillingState", "notempty", None)]),
    ("ne_with_nulls", [("BillingState", "ne", "CA")]),
    ("contains", [("BillingCity", "contains", "ar")]),
    ("startswith", [("BillingCountry", "startswith", "un")]),
    ("endswith", [("BillingCity", "endswith", "O")]),
    ("integer_in_text", [("CustomerId", "in", "1,2,3")]),
]


@pytest.mark.parametrize(
    ("case", "restrictions"), QUERY_CASES, ids=[case for case, _ in QUERY_CASES]
)
def test_query_agrees(
    chinooks: Chinooks, case: str, restrictions: list[tuple[str, str, Any]]
) -> None:
    results = chinooks.query(
        "Invoice",
        {
            "Restrictions": [
                {"Field": name, "Operator": operator, "Value": value}
                for name, operator, value in restrictions
            ],
            "OrderBy": [{"Field": "Total", "Descending": True}, {"Field": "InvoiceDate"}],
            "MaxRecords": 500,
            "Count": True,
        },
    )

    assert_agree(results)


def test_pages_agree(chinooks: Chinooks) -> None:
    for skip in range(0, 412, 100):
        results = chinooks.get("Invoice", orderby="InvoiceDate desc", MaxRecords=100, skip=skip)
        assert_agree(results)
        assert results["sqlite"]["next"] is (skip + 100 < 412)


def test_non_ascii_filter_agrees(chinooks: Chinooks) -> None:
    results = chinooks.query(
        "Customer",
        {
            "Fields": [{"Field": "FirstName"}, {"Field": "LastName"}, {"Field": "Country"}],
            "Restrictions": [{"Field": "LastName", "Operator": "eq", "Value": "Wójcik"}],
        },
    )

    assert_agree(results)
    assert results["sqlite"]["rows"] == [
        {"firstname": "Stanisław", "lastname": "Wójcik", "country": "Poland"}
    ]


def test_same_entity_lists(api: Api, chinooks: Chinooks) -> None:
    names = {
        engine: sorted(folded(name) for name in connector.entities)
        for engine, connector in chinooks.connectors.items()
    }

    assert names["postgresql"] == names["sqlite"]
    assert names["mysql"] == names["sqlite"]


def test_same_field_types(api: Api, chinooks: Chinooks) -> None:
    types: dict[str, list[tuple[str, str]]] = {}
    for engine in ENGINES:
        entity_id = chinooks.entity_id(engine, "Invoice")
        response = api.client.get(f"{API}/entity/{entity_id}/field", headers=api.login.headers)
        types[engine] = [(folded(field["ApiName"]), field["Type"]) for field in response.json()]

    assert types["postgresql"] == types["sqlite"]
    assert types["mysql"] == types["sqlite"]
