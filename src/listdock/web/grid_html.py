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
from typing import Any

from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup, escape

from listdock.services.embed import Column, WidgetPage

# Joins every cell of a page so that one escape call covers them all; cells containing it are
# escaped one by one instead.
_CELL_SEPARATOR = "\x00"
_SELECT_CELL = '<td><input type="checkbox" class="ld-select" aria-label="Select this record"></td>'
_SELECT_HEADER = '<th><span class="empty" aria-hidden="true">✓</span></th>'
_EMPTY = '  <p class="empty">No records match.</p>\n'


def grid_content(page: WidgetPage) -> Markup:
    """Return a grid page's content: its table and pager, or a note that nothing matches."""
    if not page.rows:
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
        last = min(view.skip + len(page.rows), page.total_count)
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


def grid_rows(page: WidgetPage, record_actions: bool) -> Markup:
    """Return the ``<tr>`` elements of a grid page, every value escaped."""
    cells = [cell for row in page.rows for cell in row.cells]
    joined = _CELL_SEPARATOR.join(cells)
    if joined.count(_CELL_SEPARATOR) == max(len(cells) - 1, 0):
        escaped = str(escape(joined)).split(_CELL_SEPARATOR)
    else:
        escaped = [str(escape(cell)) for cell in cells]

    starts = ['<td class="number">' if column.numeric else "<td>" for column in page.columns]
    select = _SELECT_CELL if record_actions else ""
    details = ""
    if page.details:
        buttons = "".join(
            f'<button type="button" data-detail="{escape(detail.relationship_id)}">'
            f"{escape(detail.name)}</button> "
            for detail in page.details
        )
        details = f"<td>{buttons}</td>"
    row_format = "".join(f"{start}{{}}</td>" for start in starts)

    lines = []
    width = len(starts)
    for index, row in enumerate(page.rows):
        key = f" data-key='{_key_json(row.key)}'" if row.key else ""
        row_cells = row_format.format(*escaped[index * width : (index + 1) * width])
        lines.append(f"<tr{key}>{select}{row_cells}{details}</tr>\n")
    return Markup("".join(lines))  # noqa: S704 (every value above is escaped)


def _key_json(key: dict[str, Any]) -> str:
    """Return ``htmlsafe_json_dumps(key, sort_keys=True)``, faster for integer values."""
    parts = []
    for name in sorted(key):
        value = key[name]
        text = str(value) if type(value) is int else str(htmlsafe_json_dumps(value))
        parts.append(f"{_name_json(name)}: {text}")
    return "{" + ", ".join(parts) + "}"


@functools.lru_cache(maxsize=1024)
def _name_json(name: str) -> str:
    return str(htmlsafe_json_dumps(name))
