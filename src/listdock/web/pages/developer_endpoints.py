"""Developer › API endpoints: create and edit named endpoints, with a curl line and a
"try it" panel that calls the endpoint from the browser.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from listdock.errors import ListdockError
from listdock.security.policy import Access
from listdock.security.roles import DEVELOP
from listdock.services.endpoints import (
    ENDPOINT_OPERATORS,
    EndpointPatch,
    EndpointSpec,
    ParameterSpec,
)
from listdock.web.deps import AccessDep, PostUserDep, ServicesDep, SessionDep, UserDep
from listdock.web.list_choices import list_company_choices
from listdock.web.pages.security_users import redirect
from listdock.web.sessions import WebUser

router = APIRouter(include_in_schema=False)


def _endpoints_page(
    request: Request,
    services: ServicesDep,
    session: Session,
    user: WebUser,
    access: Access,
    error: str | None = None,
    form: dict[str, Any] | None = None,
) -> Response:
    access.require(DEVELOP, "Developer")
    return services.pages.render(
        request,
        "pages/developer_endpoints.html",
        {
            "endpoints": services.endpoints.list_visible(session, access),
            "choices": list_company_choices(services.connectors, session, access),
            "error": error,
            "form": form or {},
            "section": "endpoints",
        },
        user=user,
        status_code=400 if error else 200,
    )


@router.get("/developer")
def developer_home(
    request: Request, user: UserDep, access: AccessDep, services: ServicesDep, session: SessionDep
) -> Response:
    return _endpoints_page(request, services, session, user, access)


@router.get("/developer/endpoints")
def endpoints_page(
    request: Request, user: UserDep, access: AccessDep, services: ServicesDep, session: SessionDep
) -> Response:
    return _endpoints_page(request, services, session, user, access)


@router.post("/developer/endpoints")
def create_endpoint(
    request: Request,
    user: PostUserDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
    name: Annotated[str, Form()] = "",
    list_and_company: Annotated[str, Form()] = "",
    max_records: Annotated[str, Form()] = "",
) -> Response:
    """Create an endpoint over a list in one company; parameters are added on its page."""
    entity_id, _, company_id = list_and_company.partition("|")
    try:
        endpoint = services.endpoints.create(
            session,
            access,
            EndpointSpec(
                name=name,
                entity_id=entity_id or None,
                company_id=company_id or None,
                max_records=int(max_records) if max_records.strip().isdigit() else None,
            ),
            actor_id=user.principal_id,
        )
        session.commit()
    except ListdockError as failure:
        session.rollback()
        return _endpoints_page(
            request,
            services,
            session,
            user,
            access,
            error=f"{failure.message}. Correct it and try again.",
            form={"name": name, "list_and_company": list_and_company, "max_records": max_records},
        )
    return redirect(f"/developer/endpoints/{endpoint.id}", "endpoint_saved")


@router.get("/developer/endpoints/{endpoint_id}")
def endpoint_page(
    endpoint_id: str,
    request: Request,
    user: UserDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
    error: str | None = None,
) -> Response:
    access.require(DEVELOP, "Developer")
    endpoint = services.endpoints.get_visible(session, access, endpoint_id)
    target = services.endpoints.target(session, endpoint)
    base = str(request.base_url).rstrip("/")
    return services.pages.render(
        request,
        "pages/developer_endpoint.html",
        {
            "endpoint": endpoint,
            "target": target,
            "fields": sorted(target.exposed.values(), key=lambda field: field.position),
            "field_names": {field.id: field.api_name for field in target.exposed.values()},
            "operators": ENDPOINT_OPERATORS,
            "base_url": base,
            "section": "endpoints",
            "error": error,
        },
        user=user,
    )


def _current_parameters(endpoint: Any) -> list[ParameterSpec]:
    return [
        ParameterSpec(
            name=parameter.name,
            entity_field_id=parameter.entity_field_id,
            operator=parameter.operator,
            required=parameter.required,
            default=parameter.default,
            fixed=parameter.fixed,
        )
        for parameter in endpoint.parameters
    ]


@router.post("/developer/endpoints/{endpoint_id}/parameters")
def add_parameter(
    endpoint_id: str,
    request: Request,
    user: PostUserDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
    name: Annotated[str, Form()] = "",
    entity_field_id: Annotated[str, Form()] = "",
    operator: Annotated[str, Form()] = "eq",
    required: Annotated[str | None, Form()] = None,
    default: Annotated[str, Form()] = "",
    fixed: Annotated[str | None, Form()] = None,
    remove: Annotated[str, Form()] = "",
) -> Response:
    """Add a parameter to an endpoint, or remove the one named in ``remove``."""
    endpoint = services.endpoints.get_visible(session, access, endpoint_id)
    parameters = _current_parameters(endpoint)
    if remove:
        parameters = [parameter for parameter in parameters if parameter.name != remove]
    else:
        parameters.append(
            ParameterSpec(
                name=name,
                entity_field_id=entity_field_id,
                operator=operator,
                required=bool(required),
                default=default or None,
                fixed=bool(fixed),
            )
        )
    try:
        services.endpoints.update(
            session, access, endpoint.id, EndpointPatch(parameters=tuple(parameters))
        )
        session.commit()
    except ListdockError as failure:
        session.rollback()
        return endpoint_page(
            endpoint_id,
            request,
            user,
            access,
            services,
            session,
            error=f"{failure.message}. Correct it and try again.",
        )
    return redirect(f"/developer/endpoints/{endpoint_id}", "endpoint_saved")


@router.post("/developer/endpoints/{endpoint_id}/delete")
def delete_endpoint(
    endpoint_id: str,
    user: PostUserDep,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> Response:
    services.endpoints.delete(session, access, endpoint_id)
    session.commit()
    return redirect("/developer/endpoints", "endpoint_deleted")
