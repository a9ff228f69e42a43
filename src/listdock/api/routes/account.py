"""The account and its principals."""

from __future__ import annotations

from fastapi import APIRouter

from listdock.api.deps import CallerDep, ServicesDep, SessionDep
from listdock.api.schemas import AccountOut, UserOut

router = APIRouter(tags=["account"])


@router.get("/account", response_model=AccountOut)
def read_account(caller: CallerDep, services: ServicesDep, session: SessionDep) -> AccountOut:
    return AccountOut.of(services.accounts.get(session))


@router.get("/user", response_model=list[UserOut])
def list_users(caller: CallerDep, services: ServicesDep, session: SessionDep) -> list[UserOut]:
    return [UserOut.of(principal) for principal in services.principals.list_all(session)]


@router.get("/user/{UserId}", response_model=UserOut)
def read_user(
    UserId: str,
    caller: CallerDep,
    services: ServicesDep,
    session: SessionDep,  # noqa: N803
) -> UserOut:
    return UserOut.of(services.principals.get(session, UserId))
