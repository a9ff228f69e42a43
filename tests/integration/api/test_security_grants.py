"""Connector grants and what they make visible: lists, companies, fields and data.

Nothing is visible to a principal until it is granted. A list or company outside its grants
returns 404 on every route, exactly like one that does not exist, and is absent from every listing.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from alembic import command
from sqlalchemy import update

from listdock.db import alembic_config
from listdock.domain.models import ConnectorGrant, EntityField
from listdock.errors import InvalidInputError
from listdock.services.grants import GrantSpec

from .conftest import API, ApiConnector, connector_body, create_connector, field_ids
from .security_support import Caller, add_principal, error_code, invoice_action_id, put_grant

if TYPE_CHECKING:
    from fastapi.testclient import TestClient
    from tests.integration.conftest import Login

    from listdock.app import Services


@pytest.fixture
def reader(services: Services) -> Caller:
    """An API user with the ApiReader role and no grant."""
    return add_principal(services, "Reader", ("ApiReader",))


@pytest.fixture
def two_companies(
    client: TestClient, admin: Login, chinook_sqlite_path: Path, tmp_path: Path
) -> ApiConnector:
    """Chinook with two companies: the sample file and a copy of it."""
    copy = tmp_path / "chinook_copy.db"
    shutil.copyfile(chinook_sqlite_path, copy)
    body = connector_body("Chinook", "sqlite", [str(chinook_sqlite_path), str(copy)])
    return create_connector(client, admin, body)


@pytest.fixture
def other_chinook(client: TestClient, admin: Login, chinook_sqlite_path: Path) -> ApiConnector:
    """A second connector on the Chinook sample, with details and lists of its own."""
    body = connector_body("Chinook copy", "sqlite", [str(chinook_sqlite_path)])
    return create_connector(client, admin, body)


def customer_detail_id(client: TestClient, admin: Login, connector: ApiConnector) -> str:
    """Return the id of the Customer to Invoice detail, discovered from a foreign key."""
    response = client.get(
        f"{API}/entity/{connector.entity_id('Customer')}/relationship", headers=admin.headers
    )
    assert response.status_code == 200, response.text
    details = {detail["Name"]: detail for detail in response.json()}
    return str(details["Invoice"]["RelationshipId"])


def entity_data(client: TestClient, caller: Caller, entity_id: str, **params: Any) -> Any:
    return client.get(f"{API}/entity/{entity_id}/data", params=params, headers=caller.headers)


def query(client: TestClient, caller: Caller, entity_id: str, company_id: str) -> Any:
    body = {"Id": entity_id, "Query": {"Companies": [{"CompanyId": company_id}], "MaxRecords": 2}}
    return client.post(f"{API}/query", json=body, headers=caller.headers)


def entity_ids(client: TestClient, caller: Caller, path: str = "/entity") -> set[str]:
    response = client.get(f"{API}{path}", headers=caller.headers)
    assert response.status_code == 200, response.text
    return {entity["EntityId"] for entity in response.json()}


# Reading and changing grants --------------------------------------------------------------


def test_put_grant_returns_it(
    client: TestClient, admin: Login, reader: Caller, chinook: ApiConnector
) -> None:
    invoice = chinook.entity_id("Invoice")

    response = put_grant(
        client,
        admin.headers,
        f"/user/{reader.principal_id}",
        chinook.id,
        Roles=["user"],
        Companies=chinook.company_ids,
        Lists=[invoice],
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["UserId"] == reader.principal_id
    assert body["Roles"] == ["User"]
    assert body["Companies"] == chinook.company_ids
    assert body["Lists"] == [invoice]
    assert body["Details"] == []
    assert body["Actions"] == []


def test_get_grant_reads_it(
    client: TestClient, admin: Login, reader: Caller, chinook: ApiConnector
) -> None:
    path = f"/user/{reader.principal_id}"
    put_grant(client, admin.headers, path, chinook.id, Details="all", Actions="all")

    response = client.get(f"{API}{path}/connector/{chinook.id}", headers=admin.headers)

    assert response.status_code == 200
    body = response.json()
    assert body["Companies"] == "all"
    assert body["Lists"] == "all"
    assert body["Details"] == "all"
    assert body["Actions"] == "all"


def test_delete_grant_removes_access(
    client: TestClient, admin: Login, reader: Caller, chinook: ApiConnector
) -> None:
    path = f"/user/{reader.principal_id}"
    put_grant(client, admin.headers, path, chinook.id)
    invoice = chinook.entity_id("Invoice")
    before = entity_data(client, reader, invoice)

    deleted = client.delete(f"{API}{path}/connector/{chinook.id}", headers=admin.headers)
    read = client.get(f"{API}{path}/connector/{chinook.id}", headers=admin.headers)
    after = entity_data(client, reader, invoice)

    assert before.status_code == 200
    assert deleted.status_code == 204
    assert read.status_code == 404
    assert after.status_code == 404


@pytest.mark.parametrize(
    ("parts", "code"),
    [
        ({"Roles": ["Owner"]}, "unknown_role"),
        ({"Lists": ["not-a-list"]}, "unknown_grant_target"),
        ({"Companies": ["not-a-company"]}, "unknown_grant_target"),
        ({"Details": ["not-a-detail"]}, "unknown_grant_target"),
        ({"Actions": ["not-an-action"]}, "unknown_grant_target"),
    ],
    ids=["unknown role", "unknown list", "unknown company", "unknown detail", "unknown action"],
)
def test_bad_grant_400(
    client: TestClient,
    admin: Login,
    reader: Caller,
    chinook: ApiConnector,
    parts: dict[str, Any],
    code: str,
) -> None:
    response = put_grant(client, admin.headers, f"/user/{reader.principal_id}", chinook.id, **parts)

    assert response.status_code == 400
    assert error_code(response) == code


@pytest.mark.parametrize("lists", ["some", ["ok", 3], {"all": True}])
def test_grant_part_shape_422(
    client: TestClient, admin: Login, reader: Caller, chinook: ApiConnector, lists: Any
) -> None:
    response = put_grant(
        client, admin.headers, f"/user/{reader.principal_id}", chinook.id, Lists=lists
    )

    assert response.status_code == 422


def test_unknown_grant_key_422(
    client: TestClient, admin: Login, reader: Caller, chinook: ApiConnector
) -> None:
    response = put_grant(
        client, admin.headers, f"/user/{reader.principal_id}", chinook.id, Fields="all"
    )

    assert response.status_code == 422
    assert error_code(response) == "invalid_body"


def test_team_grant_round_trip(client: TestClient, admin: Login, chinook: ApiConnector) -> None:
    team_id = client.post(f"{API}/team", json={"Name": "Sales"}, headers=admin.headers).json()[
        "TeamId"
    ]
    path = f"{API}/team/{team_id}/connector/{chinook.id}"

    put = put_grant(client, admin.headers, f"/team/{team_id}", chinook.id, Roles=["Reader"])
    read = client.get(path, headers=admin.headers)
    deleted = client.delete(path, headers=admin.headers)

    assert put.status_code == 200
    assert read.json()["TeamId"] == team_id
    assert read.json()["Roles"] == ["Reader"]
    assert deleted.status_code == 204
    assert client.get(path, headers=admin.headers).status_code == 404


# Details and actions in a grant ----------------------------------------------------------


def test_grant_stores_details_and_actions(
    client: TestClient, admin: Login, reader: Caller, chinook: ApiConnector
) -> None:
    detail = customer_detail_id(client, admin, chinook)
    action = invoice_action_id(client, admin, chinook)
    path = f"/user/{reader.principal_id}"

    put = put_grant(
        client, admin.headers, path, chinook.id, Details=[detail, detail], Actions=[action]
    )
    read = client.get(f"{API}{path}/connector/{chinook.id}", headers=admin.headers)

    assert put.status_code == 200, put.text
    assert put.json()["Details"] == [detail]
    assert put.json()["Actions"] == [action]
    assert read.json()["Details"] == [detail]
    assert read.json()["Actions"] == [action]


def test_grant_all_details_and_actions(
    client: TestClient, admin: Login, reader: Caller, chinook: ApiConnector
) -> None:
    invoice_action_id(client, admin, chinook)
    path = f"/user/{reader.principal_id}"

    put = put_grant(client, admin.headers, path, chinook.id, Details="all", Actions="all")
    read = client.get(f"{API}{path}/connector/{chinook.id}", headers=admin.headers)

    assert put.status_code == 200, put.text
    assert read.json()["Details"] == "all"
    assert read.json()["Actions"] == "all"


@pytest.mark.parametrize("part", ["Details", "Actions"])
def test_other_connector_id_400(
    client: TestClient,
    admin: Login,
    reader: Caller,
    chinook: ApiConnector,
    other_chinook: ApiConnector,
    part: str,
) -> None:
    if part == "Details":
        foreign = customer_detail_id(client, admin, other_chinook)
    else:
        foreign = invoice_action_id(client, admin, other_chinook)
    path = f"/user/{reader.principal_id}"

    response = put_grant(client, admin.headers, path, chinook.id, **{part: [foreign]})
    read = client.get(f"{API}{path}/connector/{chinook.id}", headers=admin.headers)

    assert response.status_code == 400
    assert response.json() == {
        "error": f"{part} contains an id that is not in this connector: {foreign}",
        "code": "unknown_grant_target",
    }
    assert read.status_code == 404


def test_team_grant_other_connector_action_400(
    client: TestClient, admin: Login, chinook: ApiConnector, other_chinook: ApiConnector
) -> None:
    team_id = client.post(f"{API}/team", json={"Name": "Sales"}, headers=admin.headers).json()[
        "TeamId"
    ]
    own = invoice_action_id(client, admin, chinook)
    foreign = invoice_action_id(client, admin, other_chinook)

    response = put_grant(
        client, admin.headers, f"/team/{team_id}", chinook.id, Actions=[own, foreign]
    )

    assert response.status_code == 400
    assert error_code(response) == "unknown_grant_target"
    assert foreign in response.json()["error"]


def grant_spec(**parts: Any) -> GrantSpec:
    """Return a User grant on every company and list, with ``parts`` replacing any part."""
    fields: dict[str, Any] = {
        "roles": ["User"],
        "companies": "all",
        "lists": "all",
        "details": [],
        "actions": [],
    }
    fields.update(parts)
    return GrantSpec(**fields)


@pytest.mark.parametrize("part", ["details", "actions"])
@pytest.mark.parametrize("source", ["unknown", "other connector"])
def test_service_rejects_foreign_ids(
    client: TestClient,
    admin: Login,
    services: Services,
    reader: Caller,
    chinook: ApiConnector,
    other_chinook: ApiConnector,
    part: str,
    source: str,
) -> None:
    if source == "unknown":
        rejected = "not-an-id"
    elif part == "details":
        rejected = customer_detail_id(client, admin, other_chinook)
    else:
        rejected = invoice_action_id(client, admin, other_chinook)

    with services.sessions.begin() as session, pytest.raises(InvalidInputError) as raised:
        services.grants.put(
            session,
            chinook.id,
            grant_spec(**{part: [rejected]}),
            principal_id=reader.principal_id,
            actor_id=None,
        )

    assert raised.value.code == "unknown_grant_target"
    assert raised.value.message.startswith(part.capitalize())
    assert raised.value.message.endswith(rejected)


def test_service_stores_own_ids(
    client: TestClient, admin: Login, services: Services, reader: Caller, chinook: ApiConnector
) -> None:
    detail = customer_detail_id(client, admin, chinook)
    action = invoice_action_id(client, admin, chinook)

    with services.sessions.begin() as session:
        grant = services.grants.put(
            session,
            chinook.id,
            grant_spec(details=[detail], actions=[action]),
            principal_id=reader.principal_id,
            actor_id=None,
        )
        details, actions = grant.details, grant.actions

    assert details == [detail]
    assert actions == [action]


def test_service_keeps_all(services: Services, reader: Caller, chinook: ApiConnector) -> None:
    with services.sessions.begin() as session:
        grant = services.grants.put(
            session,
            chinook.id,
            grant_spec(details="all", actions="all"),
            principal_id=reader.principal_id,
            actor_id=None,
        )
        details, actions = grant.details, grant.actions

    assert details == "all"
    assert actions == "all"


# Deleted objects leave grants -------------------------------------------------------------


@pytest.fixture(params=["user", "team"])
def holder_path(request: pytest.FixtureRequest, client: TestClient, admin: Login) -> str:
    """The API path of a grant holder: an API user with ApiReader, or a team."""
    if request.param == "user":
        services: Services = request.getfixturevalue("services")
        return f"/user/{add_principal(services, 'Holder', ('ApiReader',)).principal_id}"
    response = client.post(f"{API}/team", json={"Name": "Holders"}, headers=admin.headers)
    assert response.status_code == 201, response.text
    return f"/team/{response.json()['TeamId']}"


def read_grant(client: TestClient, admin: Login, path: str, connector_id: str) -> dict[str, Any]:
    response = client.get(f"{API}{path}/connector/{connector_id}", headers=admin.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def put_back(client: TestClient, admin: Login, path: str, grant: dict[str, Any]) -> Any:
    """PUT the parts of a grant read from the API back unchanged."""
    parts = ("Roles", "Companies", "Lists", "Details", "Actions")
    return client.put(
        f"{API}{path}/connector/{grant['ConnectorId']}",
        json={part: grant[part] for part in parts},
        headers=admin.headers,
    )


def album_detail_id(client: TestClient, admin: Login, connector: ApiConnector) -> str:
    """Return the id of the Album to Track detail, discovered from a foreign key."""
    response = client.get(
        f"{API}/entity/{connector.entity_id('Album')}/relationship", headers=admin.headers
    )
    assert response.status_code == 200, response.text
    details = {detail["Name"]: detail for detail in response.json()}
    return str(details["Track"]["RelationshipId"])


def test_deleted_action_leaves_grant(
    client: TestClient, admin: Login, chinook: ApiConnector, holder_path: str
) -> None:
    remaining = invoice_action_id(client, admin, chinook)
    deleted = client.post(
        f"{API}/entity/{chinook.entity_id('Customer')}/action",
        json={"Name": "Remove customer", "ActionType": "delete"},
        headers=admin.headers,
    ).json()["ActionId"]
    put = put_grant(client, admin.headers, holder_path, chinook.id, Actions=[remaining, deleted])
    assert put.status_code == 200, put.text

    removed = client.delete(f"{API}/action/{deleted}", headers=admin.headers)
    grant = read_grant(client, admin, holder_path, chinook.id)
    again = put_back(client, admin, holder_path, grant)

    assert removed.status_code == 204
    assert grant["Actions"] == [remaining]
    assert again.status_code == 200, again.text
    assert again.json()["Actions"] == [remaining]


def test_deleted_detail_leaves_grant(
    client: TestClient, admin: Login, chinook: ApiConnector, holder_path: str
) -> None:
    remaining = album_detail_id(client, admin, chinook)
    deleted = customer_detail_id(client, admin, chinook)
    put = put_grant(client, admin.headers, holder_path, chinook.id, Details=[remaining, deleted])
    assert put.status_code == 200, put.text

    removed = client.delete(f"{API}/relationship/{deleted}", headers=admin.headers)
    grant = read_grant(client, admin, holder_path, chinook.id)
    again = put_back(client, admin, holder_path, grant)

    assert removed.status_code == 204
    assert grant["Details"] == [remaining]
    assert again.status_code == 200, again.text
    assert again.json()["Details"] == [remaining]


def custom_list_with_detail_and_action(
    client: TestClient, admin: Login, connector: ApiConnector
) -> tuple[str, str, str]:
    """Create a custom list over Invoice with a detail to InvoiceLine and a webhook action.

    Returns the ids of the custom list, its detail and its action. The action's URL is never
    called.
    """
    invoice_fields = field_ids(client, admin, connector.entity_id("Invoice"))
    created = client.post(
        f"{API}/entity/{connector.entity_id('Invoice')}/custom-list",
        json={"Name": "Big invoices", "Fields": [invoice_fields["InvoiceId"]]},
        headers=admin.headers,
    )
    assert created.status_code == 201, created.text
    custom = str(created.json()["EntityId"])
    custom_fields = field_ids(client, admin, custom)
    line_fields = field_ids(client, admin, connector.entity_id("InvoiceLine"))
    detail = client.post(
        f"{API}/entity/{custom}/relationship",
        json={
            "Name": "Lines",
            "ToEntityId": connector.entity_id("InvoiceLine"),
            "Fields": [
                {
                    "FromEntityFieldId": custom_fields["InvoiceId"],
                    "ToEntityFieldId": line_fields["InvoiceId"],
                }
            ],
        },
        headers=admin.headers,
    )
    assert detail.status_code == 201, detail.text
    action = client.post(
        f"{API}/entity/{custom}/action",
        json={
            "Name": "Notify",
            "ActionType": "webhook",
            "Scope": "list",
            "Url": "http://127.0.0.1:9/never-called",
        },
        headers=admin.headers,
    )
    assert action.status_code == 201, action.text
    return custom, str(detail.json()["RelationshipId"]), str(action.json()["ActionId"])


def test_deleted_custom_list_leaves_grant(
    client: TestClient, admin: Login, chinook: ApiConnector, holder_path: str
) -> None:
    custom, custom_detail, custom_action = custom_list_with_detail_and_action(
        client, admin, chinook
    )
    invoice = chinook.entity_id("Invoice")
    detail = customer_detail_id(client, admin, chinook)
    action = invoice_action_id(client, admin, chinook)
    put = put_grant(
        client,
        admin.headers,
        holder_path,
        chinook.id,
        Lists=[custom, invoice],
        Details=[custom_detail, detail],
        Actions=[custom_action, action],
    )
    assert put.status_code == 200, put.text

    removed = client.delete(f"{API}/entity/{custom}", headers=admin.headers)
    grant = read_grant(client, admin, holder_path, chinook.id)
    again = put_back(client, admin, holder_path, grant)

    assert removed.status_code == 204
    assert grant["Lists"] == [invoice]
    assert grant["Details"] == [detail]
    assert grant["Actions"] == [action]
    assert again.status_code == 200, again.text


def test_delete_keeps_all_parts(
    client: TestClient, admin: Login, chinook: ApiConnector, holder_path: str
) -> None:
    action = invoice_action_id(client, admin, chinook)
    put = put_grant(client, admin.headers, holder_path, chinook.id, Details="all", Actions="all")
    assert put.status_code == 200, put.text

    client.delete(f"{API}/action/{action}", headers=admin.headers)
    client.delete(
        f"{API}/relationship/{customer_detail_id(client, admin, chinook)}", headers=admin.headers
    )
    grant = read_grant(client, admin, holder_path, chinook.id)

    assert grant["Lists"] == "all"
    assert grant["Details"] == "all"
    assert grant["Actions"] == "all"


def test_delete_leaves_other_connector_grant(
    client: TestClient,
    admin: Login,
    reader: Caller,
    chinook: ApiConnector,
    other_chinook: ApiConnector,
) -> None:
    deleted = invoice_action_id(client, admin, chinook)
    other = invoice_action_id(client, admin, other_chinook)
    path = f"/user/{reader.principal_id}"
    put_grant(client, admin.headers, path, other_chinook.id, Actions=[other])
    before = read_grant(client, admin, path, other_chinook.id)

    client.delete(f"{API}/action/{deleted}", headers=admin.headers)
    after = read_grant(client, admin, path, other_chinook.id)

    assert after == before


# Nothing until granted --------------------------------------------------------------------


def test_ungranted_sees_no_connector(
    client: TestClient, reader: Caller, chinook: ApiConnector
) -> None:
    listed = client.get(f"{API}/connector", headers=reader.headers)
    single = client.get(f"{API}/connector/{chinook.id}", headers=reader.headers)

    assert listed.json() == []
    assert single.status_code == 404
    assert error_code(single) == "connector_not_found"


def test_ungranted_sees_no_lists(client: TestClient, reader: Caller, chinook: ApiConnector) -> None:
    invoice = chinook.entity_id("Invoice")

    assert entity_ids(client, reader) == set()
    assert client.get(f"{API}/entity/{invoice}", headers=reader.headers).status_code == 404
    assert entity_data(client, reader, invoice).status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/connector/{connector}",
        "/connector/{connector}/entity",
        "/connector/{connector}/company",
        "/connector/{connector}/entityGroup",
    ],
)
def test_ungranted_connector_routes_404(
    client: TestClient, reader: Caller, chinook: ApiConnector, path: str
) -> None:
    response = client.get(f"{API}{path.format(connector=chinook.id)}", headers=reader.headers)

    assert response.status_code == 404
    assert error_code(response) == "connector_not_found"


# Reader -----------------------------------------------------------------------------------


def test_reader_role_sees_lists(
    client: TestClient, admin: Login, reader: Caller, chinook: ApiConnector
) -> None:
    put_grant(client, admin.headers, f"/user/{reader.principal_id}", chinook.id, Roles=["Reader"])
    invoice = chinook.entity_id("Invoice")

    fields = client.get(f"{API}/entity/{invoice}/field", headers=reader.headers)

    assert invoice in entity_ids(client, reader)
    assert fields.status_code == 200
    assert "Total" in {field["ApiName"] for field in fields.json()}


def test_reader_role_gets_no_data(
    client: TestClient, admin: Login, reader: Caller, chinook: ApiConnector
) -> None:
    put_grant(client, admin.headers, f"/user/{reader.principal_id}", chinook.id, Roles=["Reader"])
    invoice = chinook.entity_id("Invoice")

    by_get = entity_data(client, reader, invoice)
    by_query = query(client, reader, invoice, chinook.company_ids[0])

    assert by_get.status_code == 403
    assert error_code(by_get) == "no_data_grant"
    assert by_query.status_code == 403
    assert error_code(by_query) == "no_data_grant"


# Lists and companies outside the grant ----------------------------------------------------


def test_ungranted_list_404_everywhere(
    client: TestClient, admin: Login, reader: Caller, chinook: ApiConnector
) -> None:
    invoice = chinook.entity_id("Invoice")
    customer = chinook.entity_id("Customer")
    company = chinook.company_ids[0]
    put_grant(client, admin.headers, f"/user/{reader.principal_id}", chinook.id, Lists=[invoice])

    responses = {
        "entity": client.get(f"{API}/entity/{customer}", headers=reader.headers),
        "field": client.get(f"{API}/entity/{customer}/field", headers=reader.headers),
        "default-field": client.get(
            f"{API}/entity/{customer}/default-field", headers=reader.headers
        ),
        "data": entity_data(client, reader, customer),
        "query": query(client, reader, customer, company),
    }

    for route, response in responses.items():
        assert response.status_code == 404, route
        assert error_code(response) == "entity_not_found", route
    assert entity_data(client, reader, invoice).status_code == 200


def test_ungranted_list_absent_from_listings(
    client: TestClient, admin: Login, reader: Caller, chinook: ApiConnector
) -> None:
    invoice = chinook.entity_id("Invoice")
    put_grant(client, admin.headers, f"/user/{reader.principal_id}", chinook.id, Lists=[invoice])

    assert entity_ids(client, reader) == {invoice}
    assert entity_ids(client, reader, f"/connector/{chinook.id}/entity") == {invoice}


def test_ungranted_company_404(
    client: TestClient, admin: Login, reader: Caller, two_companies: ApiConnector
) -> None:
    first, second = two_companies.company_ids
    invoice = two_companies.entity_id("Invoice")
    put_grant(
        client, admin.headers, f"/user/{reader.principal_id}", two_companies.id, Companies=[first]
    )

    by_get = entity_data(client, reader, invoice, company=second)
    by_query = query(client, reader, invoice, second)
    allowed = entity_data(client, reader, invoice, company=first)

    assert by_get.status_code == 404
    assert error_code(by_get) == "company_not_found"
    assert by_query.status_code == 404
    assert error_code(by_query) == "company_not_found"
    assert allowed.status_code == 200


def test_ungranted_company_absent_from_listings(
    client: TestClient, admin: Login, reader: Caller, two_companies: ApiConnector
) -> None:
    first, _ = two_companies.company_ids
    put_grant(
        client, admin.headers, f"/user/{reader.principal_id}", two_companies.id, Companies=[first]
    )

    companies = client.get(f"{API}/connector/{two_companies.id}/company", headers=reader.headers)
    connector = client.get(f"{API}/connector/{two_companies.id}", headers=reader.headers)

    assert [company["CompanyId"] for company in companies.json()] == [first]
    assert [company["CompanyId"] for company in connector.json()["Companies"]] == [first]


# Surface role, union of grants, hidden fields ---------------------------------------------


def test_data_needs_api_reader(
    client: TestClient, admin: Login, services: Services, chinook: ApiConnector
) -> None:
    developer = add_principal(services, "Developer", ("Developer",))
    put_grant(client, admin.headers, f"/user/{developer.principal_id}", chinook.id)
    invoice = chinook.entity_id("Invoice")

    by_get = entity_data(client, developer, invoice)
    by_query = query(client, developer, invoice, chinook.company_ids[0])

    assert by_get.status_code == 403
    assert error_code(by_get) == "missing_role"
    assert by_query.status_code == 403
    assert error_code(by_query) == "missing_role"


def test_administrator_reads_without_grant(
    client: TestClient, services: Services, chinook: ApiConnector
) -> None:
    other_admin = add_principal(services, "Other Admin", ("Administrator",))

    response = entity_data(client, other_admin, chinook.entity_id("Invoice"))

    assert response.status_code == 200


def test_team_and_direct_grants_union(
    client: TestClient, admin: Login, reader: Caller, chinook: ApiConnector
) -> None:
    invoice = chinook.entity_id("Invoice")
    customer = chinook.entity_id("Customer")
    team_id = client.post(f"{API}/team", json={"Name": "Sales"}, headers=admin.headers).json()[
        "TeamId"
    ]
    client.post(
        f"{API}/team/{team_id}/member", json={"UserId": reader.principal_id}, headers=admin.headers
    )
    put_grant(client, admin.headers, f"/user/{reader.principal_id}", chinook.id, Lists=[invoice])
    put_grant(client, admin.headers, f"/team/{team_id}", chinook.id, Lists=[customer])

    assert entity_data(client, reader, invoice).status_code == 200
    assert entity_data(client, reader, customer).status_code == 200
    assert entity_data(client, reader, chinook.entity_id("Track")).status_code == 404


def test_team_role_widens_direct_reader(
    client: TestClient, admin: Login, reader: Caller, chinook: ApiConnector
) -> None:
    invoice = chinook.entity_id("Invoice")
    team_id = client.post(f"{API}/team", json={"Name": "Sales"}, headers=admin.headers).json()[
        "TeamId"
    ]
    client.post(
        f"{API}/team/{team_id}/member", json={"UserId": reader.principal_id}, headers=admin.headers
    )
    put_grant(client, admin.headers, f"/user/{reader.principal_id}", chinook.id, Roles=["Reader"])
    before = entity_data(client, reader, invoice)

    put_grant(client, admin.headers, f"/team/{team_id}", chinook.id, Lists=[invoice])
    after = entity_data(client, reader, invoice)

    assert before.status_code == 403
    assert after.status_code == 200


def test_removed_team_member_loses_grant(
    client: TestClient, admin: Login, reader: Caller, chinook: ApiConnector
) -> None:
    invoice = chinook.entity_id("Invoice")
    team_id = client.post(f"{API}/team", json={"Name": "Sales"}, headers=admin.headers).json()[
        "TeamId"
    ]
    member_path = f"{API}/team/{team_id}/member"
    client.post(member_path, json={"UserId": reader.principal_id}, headers=admin.headers)
    put_grant(client, admin.headers, f"/team/{team_id}", chinook.id)
    before = entity_data(client, reader, invoice)

    client.delete(f"{member_path}/{reader.principal_id}", headers=admin.headers)
    after = entity_data(client, reader, invoice)

    assert before.status_code == 200
    assert after.status_code == 404


def test_hidden_field_stays_invisible(
    client: TestClient,
    admin: Login,
    reader: Caller,
    services: Services,
    chinook: ApiConnector,
) -> None:
    invoice = chinook.entity_id("Invoice")
    put_grant(client, admin.headers, f"/user/{reader.principal_id}", chinook.id)
    with services.sessions.begin() as session:
        session.execute(
            update(EntityField)
            .where(EntityField.entity_id == invoice, EntityField.api_name == "Total")
            .values(hidden=True)
        )

    fields = client.get(f"{API}/entity/{invoice}/field", headers=reader.headers)
    rows = entity_data(client, reader, invoice, MaxRecords=1)
    asked = entity_data(client, reader, invoice, fields="InvoiceId,Total")
    ordered = entity_data(client, reader, invoice, orderby="Total desc")

    assert "Total" not in {field["ApiName"] for field in fields.json()}
    assert "Total" not in rows.json()[0]
    assert asked.status_code == 400
    assert ordered.status_code == 400


def test_migration_drops_stale_grant_ids(
    client: TestClient,
    admin: Login,
    services: Services,
    chinook: ApiConnector,
    holder_path: str,
) -> None:
    kept_action = invoice_action_id(client, admin, chinook)
    kept_list = chinook.entity_id("Invoice")
    put = put_grant(
        client, admin.headers, holder_path, chinook.id, Lists=[kept_list], Actions=[kept_action]
    )
    assert put.status_code == 200, put.text
    # A grant written before deletions cleaned grants: it names objects that are gone.
    with services.sessions.begin() as session:
        session.execute(
            update(ConnectorGrant)
            .where(ConnectorGrant.connector_id == chinook.id)
            .values(
                lists=[kept_list, "gone-list"],
                details=["gone-detail"],
                actions=["gone-action", kept_action],
            )
        )

    with services.engine.begin() as connection:
        config = alembic_config(services.engine)
        config.attributes["connection"] = connection
        command.downgrade(config, "0006")
        command.upgrade(config, "head")
    grant = read_grant(client, admin, holder_path, chinook.id)

    assert grant["Lists"] == [kept_list]
    assert grant["Details"] == []
    assert grant["Actions"] == [kept_action]
    assert put_back(client, admin, holder_path, grant).status_code == 200
