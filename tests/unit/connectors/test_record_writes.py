"""Actions write records by key in batches with the same result on every engine.

Each test works inside a transaction that it rolls back, so the shared Chinook databases on
the servers stay as they were. On SQLite the tests write to a copy of the file.
"""

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from listdock.connectors.engines import ConnectionSettings, create_source_engine, sqlite_path
from listdock.errors import NotFoundError
from listdock.services.actions import write_records

ChinookSource = Any  # the ChinookSource of the source_engines fixture in conftest.py


@pytest.fixture
def transaction(source_engines: ChinookSource, tmp_path: Path) -> Iterator[sa.Connection]:
    engine = source_engines.engine
    if source_engines.connector_type == "sqlite":
        copy = tmp_path / "chinook.sqlite"
        shutil.copyfile(sqlite_path(engine.url), copy)
        engine = create_source_engine("sqlite", ConnectionSettings(), str(copy))
    with engine.connect() as connection:
        connection.begin()
        try:
            yield connection
        finally:
            connection.rollback()
    if engine is not source_engines.engine:
        engine.dispose()


def table(source: ChinookSource, name: str, *columns: str) -> sa.TableClause:
    return sa.table(source.name(name), *(sa.column(source.name(column)) for column in columns))


def test_update_in_batches(source_engines: ChinookSource, transaction: sa.Connection) -> None:
    lines = table(source_engines, "InvoiceLine", "InvoiceLineId", "Quantity")
    key, quantity = (
        lines.c[source_engines.name("InvoiceLineId")],
        lines.c[source_engines.name("Quantity")],
    )
    targets = [(1,), (2,), (3,), (4,), (5,), (3,)]

    changed = write_records(
        transaction, lines, [key.name], targets, {quantity.name: 7}, batch_size=2
    )
    rows = transaction.execute(sa.select(key, quantity).where(key <= 6).order_by(key)).all()

    assert changed == 5
    assert [tuple(row) for row in rows] == [(1, 7), (2, 7), (3, 7), (4, 7), (5, 7), (6, 1)]


def test_delete_by_composite_key(source_engines: ChinookSource, transaction: sa.Connection) -> None:
    tracks = table(source_engines, "PlaylistTrack", "PlaylistId", "TrackId")
    playlist, track = (tracks.c[source_engines.name(name)] for name in ("PlaylistId", "TrackId"))
    before = transaction.scalar(sa.select(sa.func.count()).select_from(tracks))
    targets = transaction.execute(
        sa.select(playlist, track).where(playlist == 1).order_by(track).limit(3)
    ).all()

    changed = write_records(
        transaction, tracks, [playlist.name, track.name], [tuple(row) for row in targets], None,
        batch_size=2,
    )  # fmt: skip
    after = transaction.scalar(sa.select(sa.func.count()).select_from(tracks))

    assert changed == 3
    assert before - after == 3


def test_missing_record_raises(source_engines: ChinookSource, transaction: sa.Connection) -> None:
    lines = table(source_engines, "InvoiceLine", "InvoiceLineId", "Quantity")
    names = [source_engines.name("InvoiceLineId")]

    with pytest.raises(NotFoundError):
        write_records(
            transaction, lines, names, [(1,), (999_999,)], {source_engines.name("Quantity"): 2}
        )
