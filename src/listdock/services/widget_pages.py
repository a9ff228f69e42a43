"""The widget page model: one page of records, its columns, and the caller's actions on it.

``ViewSetup`` is the part of every page of a widget that depends on the caller, not on the
paging: the columns, the record key, and the actions, details and exports offered.
``ViewSetup.page`` turns the rows read from the source into a ``WidgetPage``, the model the
embed templates and ``listdock.web.grid_html`` render. A page stores its records column by
column, because converting and escaping a whole column at once is what makes a page cheap
to render.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from listdock.domain.models import EntityField, Widget
from listdock.services.display import column_keys, column_texts
from listdock.services.widgets import WidgetSource


@dataclass(frozen=True)
class ViewState:
    """The paging, sorting and one-field search of one request."""

    skip: int = 0
    sort: str | None = None
    descending: bool = False
    search_field: str | None = None
    search: str = ""


@dataclass(frozen=True)
class Column:
    api_name: str
    label: str
    numeric: bool


class Row(NamedTuple):
    """One record: display texts in column order and its primary key (None without one)."""

    cells: list[str]
    key: dict[str, Any] | None


@dataclass(frozen=True)
class OfferedAction:
    action_id: str
    name: str
    action_type: str
    scope: str
    confirmation_button: str
    cancel_button: str
    allow_multiple: bool
    prompts: list[Column]


@dataclass(frozen=True)
class OfferedDetail:
    relationship_id: str
    name: str


@dataclass(frozen=True)
class SummaryGroup:
    label: str
    count: int
    total: str


@dataclass
class WidgetPage:
    """Everything a template needs to render one state of a widget.

    The records are held column by column: ``cells`` has one list of display texts per
    column and ``key_columns`` one sequence of JSON-safe values per name in ``key_names``,
    each ``row_count`` long. ``rows`` gives them record by record.
    """

    widget: Widget
    columns: list[Column]
    total_count: int
    view: ViewState
    page_size: int
    cells: list[list[str]] = field(default_factory=list)
    key_names: tuple[str, ...] = ()
    key_columns: list[Sequence[Any]] = field(default_factory=list)
    row_count: int = 0
    actions: list[OfferedAction] = field(default_factory=list)
    details: list[OfferedDetail] = field(default_factory=list)
    export_formats: list[str] = field(default_factory=list)
    search_fields: list[Column] = field(default_factory=list)
    summary: list[SummaryGroup] = field(default_factory=list)
    summary_total: str = ""
    summary_labels: tuple[str, str] = ("", "")
    has_keys: bool = False

    @property
    def rows(self) -> list[Row]:
        """The records one by one: their cells in column order and their keys."""
        texts = list(zip(*self.cells, strict=True)) if self.cells else [()] * self.row_count
        keys: list[dict[str, Any] | None] = [None] * self.row_count
        if self.key_names:
            keys = [
                dict(zip(self.key_names, values, strict=True))
                for values in zip(*self.key_columns, strict=True)
            ]
        return [Row(list(cells), key) for cells, key in zip(texts, keys, strict=True)]

    @property
    def record_actions(self) -> bool:
        """Whether rows can be ticked: the caller is offered an action on single records."""
        return self.has_keys and any(action.scope == "record" for action in self.actions)

    @property
    def has_previous(self) -> bool:
        return self.view.skip > 0

    @property
    def has_next(self) -> bool:
        return self.view.skip + self.page_size < self.total_count


@dataclass(frozen=True)
class ViewSetup:
    """The columns, actions, details and exports that every page of a widget shows one caller."""

    widget: Widget
    columns: list[Column]
    page_size: int
    key_fields: list[EntityField]
    actions: list[OfferedAction]
    details: list[OfferedDetail]
    export_formats: list[str]

    def empty_page(self, view: ViewState) -> WidgetPage:
        return WidgetPage(
            widget=self.widget,
            columns=self.columns,
            total_count=0,
            view=view,
            page_size=self.page_size,
            search_fields=self.columns,
            actions=self.actions,
            details=self.details,
            export_formats=self.export_formats,
            has_keys=bool(self.key_fields),
        )

    def page(
        self, source: WidgetSource, view: ViewState, total: int, rows: list[tuple[Any, ...]]
    ) -> WidgetPage:
        """Return the page showing ``rows``: the shown fields, then the key fields."""
        page = self.empty_page(view)
        page.total_count = total
        if not rows:
            return page
        field_count = len(source.fields)
        columns = list(zip(*rows, strict=True))
        if len(columns) != field_count + len(self.key_fields):
            raise ValueError("Each row needs a value per shown field and per key field")
        page.cells = [
            column_texts(values, item.type, item.decimal_places)
            for values, item in zip(columns, source.fields, strict=False)
        ]
        page.key_names = tuple(item.api_name for item in self.key_fields)
        page.key_columns = [column_keys(values) for values in columns[field_count:]]
        page.row_count = len(rows)
        return page
