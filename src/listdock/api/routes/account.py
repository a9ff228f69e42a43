"""The account."""

from __future__ import annotations

from fastapi import APIRouter

from listdock.api.deps import CallerDep, ServicesDep, SessionDep
from listdock.api.schemas import AccountOut

router = APIRouter(tags=["account"])


@router.get("/account", response_model=AccountOut)
def read_account(caller: CallerDep, services: ServicesDep, session: SessionDep) -> AccountOut:
    return AccountOut.of(services.accounts.get(session))
