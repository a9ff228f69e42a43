"""grid_rows writes exactly what a template loop with autoescaping and tojson writes."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from jinja2 import Environment

from listdock.domain.models import Widget
from listdock.services.embed import Column, OfferedDetail, Row, ViewState, WidgetPage
from listdock.web.embed import grid_rows

REFERENCE = Environment(autoescape=True).from_string(
    "{% for row in page.rows %}"
    "<tr{% if row.key %} data-key='{{ row.key|tojson }}'{% endif %}>"
    "{% if record_actions %}"
    '<td><input type="checkbox" class="ld-select" aria-label="Select this record"></td>'
    "{% endif %}"
    "{% for cell in row.cells %}"
    '<td{% if page.columns[loop.index0].numeric %} class="number"{% endif %}>{{ cell }}</td>'
    "{% endfor %}"
    "{% if page.details %}<td>{% for detail in page.details %}"
    '<button type="button" data-detail="{{ detail.relationship_id }}">{{ detail.name }}</button> '
    "{% endfor %}</td>{% endif %}"
    "</tr>\n"
    "{% endfor %}"
)

TEXT = st.text(alphabet=st.sampled_from(["a", "<", ">", "&", "'", '"', "\x00", "é", " ", "1"]))
KEY_VALUES = st.one_of(st.integers(), TEXT, st.none(), st.booleans())


@st.composite
def pages(draw: st.DrawFn) -> tuple[WidgetPage, bool]:
    width = draw(st.integers(min_value=1, max_value=4))
    columns = [
        Column(f"c{index}", f"Column {index}", draw(st.booleans())) for index in range(width)
    ]
    key_names = draw(st.lists(TEXT, max_size=2, unique=True))
    rows = [
        Row(
            cells=draw(st.lists(TEXT, min_size=width, max_size=width)),
            key={name: draw(KEY_VALUES) for name in key_names} or None,
        )
        for _ in range(draw(st.integers(min_value=0, max_value=5)))
    ]
    details = [OfferedDetail(draw(TEXT), draw(TEXT)) for _ in range(draw(st.integers(0, 2)))]
    page = WidgetPage(
        widget=Widget(type="grid", name="Grid"),
        columns=columns,
        rows=rows,
        total_count=len(rows),
        view=ViewState(),
        page_size=25,
        details=details,
    )
    return page, draw(st.booleans())


@settings(max_examples=400, deadline=None)
@given(pages())
def test_grid_rows_match_template(case: tuple[WidgetPage, bool]) -> None:
    page, record_actions = case

    expected: Any = REFERENCE.render(page=page, record_actions=record_actions)

    assert str(grid_rows(page, record_actions)) == expected


def test_grid_rows_escape_markup() -> None:
    page = WidgetPage(
        widget=Widget(type="grid", name="Grid"),
        columns=[Column("Name", "Name", False)],
        rows=[Row(cells=["<script>alert('x')</script>"], key={"Id": "a'b<"})],
        total_count=1,
        view=ViewState(),
        page_size=25,
    )

    html = str(grid_rows(page, False))

    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert 'data-key=\'{"Id": "a\\u0027b\\u003c"}\'' in html
