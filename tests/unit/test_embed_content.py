"""Widget content written in Python matches a template that writes every part with Jinja.

``reference/embed_content.html`` is the embed content template written wholly as a template
(header, rows and pager as loops with autoescaping and ``tojson``). The content template in
use writes the grid and the pager in Python (``listdock.web.grid_html``) because that is
faster. Both must give the same bytes for every page, whatever the values contain.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from jinja2 import Environment, FileSystemLoader, select_autoescape

from listdock.domain.models import Widget
from listdock.services.display import column_keys, column_texts, display_text, key_value
from listdock.services.widget_pages import (
    Column,
    OfferedAction,
    OfferedDetail,
    ViewState,
    WidgetPage,
)
from listdock.web.embed import TEMPLATES
from listdock.web.grid_html import grid_content

REFERENCE = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "reference"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
).get_template("embed_content.html")

TEXT = st.text(
    alphabet=st.sampled_from(
        ["a", "B", "<", ">", "&", "'", '"', "\x00", "é", " ", "1", "{", "}", "%"]
    )
)
KEY_VALUES = st.one_of(st.integers(), TEXT, st.none(), st.booleans())
WIDGET_TYPES = st.sampled_from(["grid", "cards", "single_record"])


@st.composite
def pages(draw: st.DrawFn) -> WidgetPage:
    width = draw(st.integers(min_value=1, max_value=4))
    columns = [
        Column(
            draw(st.sampled_from(["Id", "name", "Name", "a<b"])), draw(TEXT), draw(st.booleans())
        )
        for _ in range(width)
    ]
    key_names = draw(st.lists(TEXT, max_size=2, unique=True))
    row_count = draw(st.integers(min_value=0, max_value=5))
    cells = [draw(st.lists(TEXT, min_size=row_count, max_size=row_count)) for _ in columns]
    key_columns = [
        draw(
            st.one_of(
                st.lists(st.integers(), min_size=row_count, max_size=row_count),
                st.lists(KEY_VALUES, min_size=row_count, max_size=row_count),
            )
        )
        for _ in key_names
    ]
    actions = [
        OfferedAction(
            draw(TEXT),
            draw(TEXT),
            "change_field",
            draw(st.sampled_from(["record", "list"])),
            "OK",
            "Cancel",
            True,
            [],
        )
        for _ in range(draw(st.integers(0, 2)))
    ]
    page_size = draw(st.integers(min_value=1, max_value=30))
    skip = draw(st.integers(min_value=0, max_value=60))
    return WidgetPage(
        widget=Widget(type=draw(WIDGET_TYPES), name="Widget"),
        columns=columns,
        cells=cells,
        key_names=tuple(key_names),
        key_columns=key_columns,
        row_count=row_count,
        total_count=draw(st.integers(min_value=0, max_value=100)),
        view=ViewState(
            skip=skip,
            sort=draw(st.sampled_from([None, "", "id", "NAME", "Name", "a<B", "other"])),
            descending=draw(st.booleans()),
        ),
        page_size=page_size,
        actions=actions,
        details=[OfferedDetail(draw(TEXT), draw(TEXT)) for _ in range(draw(st.integers(0, 2)))],
        has_keys=draw(st.booleans()),
    )


@settings(max_examples=500, deadline=None)
@given(pages())
def test_content_matches_the_reference_template(page: WidgetPage) -> None:
    record_actions = page.has_keys and any(action.scope == "record" for action in page.actions)

    expected = REFERENCE.render(page=page)

    assert page.record_actions == record_actions
    assert TEMPLATES.get_template("embed/content.html").render(page=page) == expected
    if page.widget.type == "grid":
        assert str(grid_content(page)) == expected


def test_grid_content_escapes_markup() -> None:
    page = WidgetPage(
        widget=Widget(type="grid", name="Grid"),
        columns=[Column("Name", "<b>Name</b>", False)],
        cells=[["<script>alert('x')</script>"]],
        key_names=("Id",),
        key_columns=[["a'b<"]],
        row_count=1,
        total_count=1,
        view=ViewState(),
        page_size=25,
    )

    html = str(grid_content(page))

    assert "<script>" not in html
    assert "<b>" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert 'data-key=\'{"Id": "a\\u0027b\\u003c"}\'' in html


VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.decimals(allow_nan=False, allow_infinity=False, places=3),
    st.text(max_size=5),
    st.binary(max_size=5),
    st.dates(),
    st.datetimes(),
    st.times(),
)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.lists(VALUES, max_size=6),
        st.lists(st.integers(), max_size=6),
        st.lists(st.text(max_size=5), max_size=6),
        st.lists(st.floats(allow_nan=False), max_size=6),
        st.lists(st.decimals(allow_nan=False, allow_infinity=False, places=2), max_size=6),
    ),
    st.sampled_from(["string", "integer", "decimal", "boolean", "date", "datetime"]),
    st.one_of(st.none(), st.integers(min_value=0, max_value=4)),
)
def test_column_texts_match_display_text(
    values: list[Any], field_type: str, places: int | None
) -> None:
    expected = [display_text(value, field_type, places) for value in values]

    assert column_texts(tuple(values), field_type, places) == expected


@given(st.lists(st.one_of(VALUES, st.just(Decimal("1.50")), st.just(dt.date(2020, 1, 2)))))
def test_column_keys_match_key_value(values: list[Any]) -> None:
    assert list(column_keys(tuple(values))) == [key_value(value) for value in values]
