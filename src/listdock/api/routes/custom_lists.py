"""Custom lists: creation over a table or view, and deletion."""

from __future__ import annotations

from fastapi import APIRouter, Response

from listdock.api.deps import AccessDep, ServicesDep, SessionDep
from listdock.api.schemas import ErrorOut
from listdock.api.schemas_saved import CustomListIn, CustomListOut
from listdock.services.custom_lists import CustomListSpec, CustomRestrictionInput, VariableInput

router = APIRouter(tags=["lists"])

ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorOut},
    403: {"model": ErrorOut},
    404: {"model": ErrorOut},
    409: {"model": ErrorOut},
}


@router.post(
    "/entity/{EntityId}/custom-list",
    response_model=CustomListOut,
    status_code=201,
    responses=ERRORS,
)
def create_custom_list(
    EntityId: str,  # noqa: N803
    body: CustomListIn,
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> CustomListOut:
    """Create a custom list over this list (connector role CustomListContributor)."""
    spec = CustomListSpec(
        name=body.Name,
        fields=tuple(body.Fields),
        restrictions=tuple(
            CustomRestrictionInput(
                entity_field_id=item.EntityFieldId,
                operator=item.Operator,
                value=item.Value,
                variable=item.Variable,
            )
            for item in body.Restrictions
        ),
        variables=tuple(
            VariableInput(name=item.Name, type=item.Type, default=item.Default)
            for item in body.Variables
        ),
    )
    entity = services.custom_lists.create(session, access, EntityId, spec)
    session.commit()
    return CustomListOut.of(entity)


@router.delete("/entity/{EntityId}", status_code=204, responses=ERRORS)
def delete_custom_list(
    EntityId: str,  # noqa: N803
    access: AccessDep,
    services: ServicesDep,
    session: SessionDep,
) -> Response:
    """Delete a custom list; tables and views cannot be deleted (400)."""
    services.custom_lists.delete(session, access, EntityId)
    session.commit()
    return Response(status_code=204)
