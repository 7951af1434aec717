"""The dashboard's residents table, server side: sortable columns, a "behind only" filter and
pages of ``PAGE_SIZE`` rows, so a cohort of hundreds renders as fast as a small one. Every link
keeps the others' choices (and the date filter)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

PAGE_SIZE = 50
# Each key's natural order, the first click: names A to Z, the furthest behind first, the weakest
# accuracy first (an empty figure always sorts last). "-key" reverses it.
SORTS = ("name", "behind", "localize", "report")
SUMMARY_SORTS = frozenset({"localize", "report"})  # need every row's figures to sort
NATURAL = {
    "name": "ascending",
    "behind": "descending",
    "localize": "ascending",
    "report": "ascending",
}


@dataclass(frozen=True)
class TableView:
    sort: str = "name"  # a key of SORTS, "-" in front reverses it
    page: int = 1
    behind_only: bool = False

    @property
    def sort_key(self) -> str:
        return self.sort.removeprefix("-")

    @property
    def reverse(self) -> bool:
        return self.sort.startswith("-")

    @property
    def offset(self) -> int:
        return (self.page - 1) * PAGE_SIZE


DEFAULT_VIEW = TableView()


def table_view(params: Any) -> TableView:
    """The table view a request asks for; anything unknown falls back to the default."""
    sort = params.get("sort", "name")
    if sort.removeprefix("-") not in SORTS:
        sort = "name"
    page = params.get("page", "1")
    number = int(page) if page.isdigit() and 0 < len(page) < 7 else 1
    return TableView(sort=sort, page=max(number, 1), behind_only=params.get("behind") == "1")


def _lateness(row: Any) -> tuple[int, int]:
    return (
        sum(c.remaining for c in row.behind),
        max((c.overdue_days or 0 for c in row.behind), default=0),
    )


def sort_rows(rows: list[Any], view: TableView) -> list[Any]:
    """Rows (already by username) in the view's order; ties keep the username order."""
    key = view.sort_key
    if key == "name":
        return rows[::-1] if view.reverse else list(rows)
    if key == "behind":
        # Natural: most cases left first, then the longest overdue.
        return sorted(rows, key=_lateness, reverse=not view.reverse)
    known = [r for r in rows if getattr(r, key).accuracy is not None]
    unknown = [r for r in rows if getattr(r, key).accuracy is None]
    known.sort(key=lambda r: getattr(r, key).accuracy, reverse=view.reverse)
    return known + unknown


@dataclass
class ResidentPage:
    rows: list[Any]
    view: TableView
    total: int  # rows after the filter
    cohort_size: int
    params: dict[str, str] = field(default_factory=dict)  # the date filter's, kept in every link

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / PAGE_SIZE))

    @property
    def first(self) -> int:
        return self.view.offset + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return self.view.offset + len(self.rows)

    def link(self, **changes: Any) -> str:
        view = replace(self.view, **changes)
        params = dict(self.params)
        if view.sort != "name":
            params["sort"] = view.sort
        if view.behind_only:
            params["behind"] = "1"
        if view.page != 1:
            params["page"] = str(view.page)
        return f"?{urlencode(params)}" if params else "?"

    @property
    def previous(self) -> str | None:
        return self.link(page=self.view.page - 1) if self.view.page > 1 else None

    @property
    def next(self) -> str | None:
        return self.link(page=self.view.page + 1) if self.view.page < self.pages else None

    def column(self, key: str) -> dict[str, str]:
        """A sortable header: its link (back to page 1) and its aria-sort state."""
        natural = NATURAL[key]
        if self.view.sort_key != key:
            return {"href": self.link(sort=key, page=1), "aria_sort": "none", "next": natural}
        state = natural if not self.view.reverse else _flip(natural)
        again = key if self.view.reverse else f"-{key}"
        return {"href": self.link(sort=again, page=1), "aria_sort": state, "next": _flip(state)}

    @property
    def columns(self) -> dict[str, dict[str, str]]:
        return {key: self.column(key) for key in SORTS}

    @property
    def filter_links(self) -> dict[str, str]:
        return {
            "everyone": self.link(behind_only=False, page=1),
            "behind": self.link(behind_only=True, page=1),
        }


def _flip(order: str) -> str:
    return "descending" if order == "ascending" else "ascending"


def clamp(view: TableView, total: int) -> TableView:
    """The view with its page inside 1..pages (a stale link to page 9 shows the last page)."""
    pages = max(1, math.ceil(total / PAGE_SIZE))
    return view if view.page <= pages else replace(view, page=pages)
