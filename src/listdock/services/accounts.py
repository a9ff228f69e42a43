"""The one account of a deployment."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from listdock.clock import Clock
from listdock.domain.models import Account
from listdock.errors import NotFoundError


class AccountService:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def ensure(self, session: Session, name: str = "listdock") -> Account:
        """Return the account, creating it with ``name`` when the store has none."""
        account = session.scalar(select(Account).limit(1))
        if account is None:
            now = self._clock.now()
            account = Account(id=1, name=name, default_embed_origins=[], created=now, modified=now)
            session.add(account)
            session.flush()
        return account

    def get(self, session: Session) -> Account:
        """Return the account; raises NotFoundError before ``listdock init`` has run."""
        account = session.scalar(select(Account).limit(1))
        if account is None:
            raise NotFoundError("Account not found", code="account_not_found")
        return account
