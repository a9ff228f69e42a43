"""The HTML of a grid widget's content and of every widget's pager, written in Python.

A grid page is mostly its rows, and a template loop over every cell costs several times what
building the same text in Python costs, so ``grid_content`` writes the whole grid fragment:
the table (header, rows) and the pager. The embed templates call these functions, and the
cached view path calls ``grid_content`` without a template, so both send the same bytes.

Every value is escaped by ``markupsafe.escape`` and every record key written as Jinja's
``tojson`` filter writes it (``htmlsafe_json_dumps`` with sorted keys), which is what the
templates' autoescaping would do.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from itertools import chain
from typing import Any

from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup, escape

from listdock.services.widget_pages import Column, WidgetPage

# Joins the cells of a column so that one escape call covers them all. A column with a cell
# that contains it is escaped cell by cell instead.
_CELL_SEPARATOR = "\x00"
_SELECT_CELL = '<td><input type="checkbox" class="ld-select" aria-label="Select this record"></td>'
_SELECT_HEADER = '<th><span class="empty" aria-hidden="true">✓</span></th>'
_EMPTY = '  <p class="empty">No records match.</p>\n'
_INTEGERS_ONLY = frozenset({int})


def grid_content(page: WidgetPage) -> Markup:
    """Return a grid page's content: its table and pager, or a note that nothing matches."""
    if not page.row_count:
        return Markup(_EMPTY + _pager_text(page))  # noqa: S704 (constant text and numbers)
    record_actions = page.record_actions
    sort = page.view.sort.lower() if page.view.sort else None
    header = _grid_header(
        tuple(page.columns), sort, page.view.descending, record_actions, bool(page.details)
    )
    table = (
        f'  <table class="grid">\n    <thead><tr>\n{header}    </tr></thead>\n    <tbody>\n'
        f"{grid_rows(page, record_actions)}    </tbody>\n  </table>\n"
    )
    return Markup(table + _pager_text(page))  # noqa: S704 (every value is escaped)


@functools.lru_cache(maxsize=256)
def _grid_header(
    columns: tuple[Column, ...],
    sort: str | None,
    descending: bool,
    record_actions: bool,
    details: bool,
) -> str:
    """Return the header cells: one sort button per column, marked on the sorted one."""
    parts = [_SELECT_HEADER] if record_actions else []
    for column in columns:
        current = sort is not None and sort == column.api_name.lower()
        attributes = ' class="number"' if column.numeric else ""
        marker = ""
        if current:
            attributes += f' aria-sort="{"descending" if descending else "ascending"}"'
            marker = " ▼" if descending else " ▲"
        name, label = escape(column.api_name), escape(column.label)
        parts.append(
            f"  <th{attributes}>\n"
            f'    <button type="button" data-sort-by="{name}" title="Sort by {label}">'
            f"{label}{marker}</button>\n  </th>\n"
        )
    if details:
        parts.append("<th>Details</th>")
    return "".join(parts)


def pager(page: WidgetPage) -> Markup:
    """Return the pager (previous, position, next); empty when nothing matches at all."""
    return Markup(_pager_text(page))  # noqa: S704 (numbers only)


def _pager_text(page: WidgetPage) -> str:
    if not page.total_count:
        return ""
    view = page.view
    previous = " disabled" if not page.has_previous else ""
    following = " disabled" if not page.has_next else ""
    if page.widget.type == "single_record":
        position = f"Record {view.skip + 1} of {page.total_count}"
    else:
        last = min(view.skip + page.row_count, page.total_count)
        position = f"{view.skip + 1}–{last} of {page.total_count}"
    return (
        '<div class="pager">\n'
        f'  <button type="button" data-skip="{max(view.skip - page.page_size, 0)}"{previous}>'
        "Previous</button>\n"
        f"  <span>{position}</span>\n"
        f'  <button type="button" data-skip="{view.skip + page.page_size}"{following}>'
        "Next</button>\n"
        "</div>\n"
    )


def grid_rows(page: WidgetPage, record_actions: bool) -> str:
    """Return the ``<tr>`` elements of a grid page, every value escaped.

    One format string with a slot per key value and cell, repeated once per row, is filled
    with the page's values in one operation.
    """
    if not page.row_count:
        return ""
    key_texts: list[list[str]] = []
    opening = "<tr"
    if page.key_names:
        # tojson writes a key's names in sorted order.
        order = sorted(range(len(page.key_names)), key=page.key_names.__getitem__)
        slots = []
        for index in order:
            slots.append(_literal(_name_json(page.key_names[index])) + ": %s")
            key_texts.append(_json_texts(page.key_columns[index]))
        opening += " data-key='{" + ", ".join(slots) + "}'"
    opening += ">" + (_SELECT_CELL if record_actions else "")

    cells = "".join(
        ('<td class="number">' if column.numeric else "<td>") + "%s</td>" for column in page.columns
    )
    details = ""
    if page.details:
        buttons = "".join(
            f'<button type="button" data-detail="{escape(detail.relationship_id)}">'
            f"{escape(detail.name)}</button> "
            for detail in page.details
        )
        details = _literal(f"<td>{buttons}</td>")
    row_format = opening + cells + details + "</tr>\n"

    values = zip(*key_texts, *map(_escaped, page.cells), strict=True)
    return (row_format * page.row_count) % tuple(chain.from_iterable(values))


def _literal(text: str) -> str:
    """Return ``text`` for a %-format string, where it must stand for itself."""
    return text.replace("%", "%%")


def _escaped(texts: list[str]) -> list[str]:
    """Return the texts escaped for HTML, in one call unless a text contains the separator."""
    joined = _CELL_SEPARATOR.join(texts)
    if joined.count(_CELL_SEPARATOR) == len(texts) - 1:
        return str(escape(joined)).split(_CELL_SEPARATOR)
    return [str(escape(text)) for text in texts]


def _json_texts(values: Sequence[Any]) -> list[str]:
    """Return each value as ``htmlsafe_json_dumps`` writes it, faster for integers."""
    if set(map(type, values)) == _INTEGERS_ONLY:
        return list(map(str, values))
    return [str(htmlsafe_json_dumps(value)) for value in values]


@functools.lru_cache(maxsize=1024)
def _name_json(name: str) -> str:
    return str(htmlsafe_json_dumps(name))
