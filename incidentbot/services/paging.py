"""Pages of a long list that the database counts and cuts, so that only a page's rows are ever
loaded, however long the list is (the incident list, an incident's timeline)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """Page ``page`` of ``pages``: its ``items``, out of ``total`` in all."""

    items: Sequence[T]
    page: int
    pages: int
    total: int
    per_page: int

    @property
    def first(self) -> int:
        """The position of the page's first item in the whole list, from 1 (0 if empty)."""
        return (self.page - 1) * self.per_page + 1 if self.items else 0

    @property
    def last(self) -> int:
        return self.first + len(self.items) - 1 if self.items else 0


def page_of(session: Session, query: Select[T], *, page: int, per_page: int) -> Page[T]:
    """Page ``page`` (from 1; past the end, the last) of what ``query`` selects, in its order:
    one count and one slice, both by the database."""
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    items = session.scalars(query.limit(per_page).offset((page - 1) * per_page)).all()
    return Page(items=items, page=page, pages=pages, total=total, per_page=per_page)
