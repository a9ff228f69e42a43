"""Built-in roles and the permissions custom roles are built from.

System roles apply everywhere; connector roles apply within one connector through a grant.
"""

from __future__ import annotations

from typing import Final

# System permissions.
MANAGE_ACCOUNT: Final = "account.manage"
MANAGE_SECURITY: Final = "security.manage"
DEVELOP: Final = "develop"
ADD_CONNECTORS: Final = "connectors.add"
OPEN_WIDGETS: Final = "widgets.open"
READ_API: Final = "api.read"

SYSTEM_PERMISSIONS: Final = (
    MANAGE_ACCOUNT,
    MANAGE_SECURITY,
    DEVELOP,
    ADD_CONNECTORS,
    OPEN_WIDGETS,
    READ_API,
)

# Connector permissions.
CONNECTOR_ADMINISTER: Final = "connector.administer"
CONNECTOR_VIEW_DATA: Final = "connector.view_data"
CONNECTOR_SEE_LISTS: Final = "connector.see_lists"
CONNECTOR_CUSTOM_LISTS: Final = "connector.custom_lists"
CONNECTOR_EXPORT_EXCEL: Final = "connector.export_excel"
CONNECTOR_EXPORT_TEXT: Final = "connector.export_text"

CONNECTOR_PERMISSIONS: Final = (
    CONNECTOR_ADMINISTER,
    CONNECTOR_VIEW_DATA,
    CONNECTOR_SEE_LISTS,
    CONNECTOR_CUSTOM_LISTS,
    CONNECTOR_EXPORT_EXCEL,
    CONNECTOR_EXPORT_TEXT,
)

BUILT_IN_SYSTEM_ROLES: Final[dict[str, tuple[tuple[str, ...], str]]] = {
    "Administrator": (SYSTEM_PERMISSIONS, "Everything, including account settings."),
    "SecurityManager": (
        (MANAGE_SECURITY,),
        "Manage users, API users, teams, role assignments, grants and everyone's tokens.",
    ),
    "Developer": (
        (DEVELOP,),
        "Create and edit widgets, named endpoints, custom lists and shared favorites.",
    ),
    "Contributor": ((ADD_CONNECTORS,), "Add connectors and manage the ones they added."),
    "WidgetReader": ((OPEN_WIDGETS,), "Open widgets."),
    "ApiReader": ((READ_API,), "Call named endpoints and the REST API's data routes."),
}

BUILT_IN_CONNECTOR_ROLES: Final[dict[str, tuple[tuple[str, ...], str]]] = {
    "Administrator": (CONNECTOR_PERMISSIONS, "Everything in the connector."),
    "User": (
        (CONNECTOR_VIEW_DATA, CONNECTOR_SEE_LISTS),
        "View the granted companies, lists and details; run the granted actions.",
    ),
    "Reader": ((CONNECTOR_SEE_LISTS,), "See the connector's lists and fields without data."),
    "CustomListContributor": ((CONNECTOR_CUSTOM_LISTS,), "Create custom lists."),
    "ExcelExporter": ((CONNECTOR_EXPORT_EXCEL,), "Export data as XLSX."),
    "TextExporter": ((CONNECTOR_EXPORT_TEXT,), "Export data as CSV and text."),
}
