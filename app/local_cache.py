"""Per-process caches of rarely changing rows that hot paths read on every request.

The official account answers every SCAN with a station's card and who is on duty there;
those rows change a few times a month, the pushes arrive by the hundred a second. A
``LocalCache`` keeps such values in the worker's memory for ``ttl`` seconds and:

- empties itself as soon as this process flushes, commits or rolls back a change to one
  of the models it depends on (ORM objects, or ``update()``/``delete()`` through the
  session), so whoever made a change sees it on their next request;
- never stores a value loaded while such a change was under way (a generation count), so a
  reader racing a writer cannot put an old row back after the writer cleared it;
- lets other processes (other gunicorn workers, other hosts) see a change within ``ttl``.

Caches live per application (``app.extensions``), so two apps in one process — as in the
tests — never share entries. The session hooks are registered when this module is imported
(before any cache can be filled), as SQLAlchemy's ``listens_for`` decorators do.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Hashable
from typing import Any

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

_MISSING = object()
# Every cache of every app, so a write can clear the ones that depend on what it touched.
_all_caches: weakref.WeakSet[LocalCache] = weakref.WeakSet()
# The tables some cache depends on: writes to any other table cost nothing here.
_watched: set[str] = set()
_TOUCHED = "local_cache_touched"


class LocalCache:
    """A TTL cache of one process, cleared whenever this process writes one of ``depends_on``."""

    def __init__(
        self, name: str, ttl: float, depends_on: tuple[type, ...], *, max_entries: int = 10_000
    ) -> None:
        self.name = name
        self.ttl = ttl
        self.max_entries = max_entries
        self.tables = frozenset(model.__table__.name for model in depends_on)
        self._data: dict[Hashable, tuple[float, Any]] = {}
        self._generation = 0
        self._lock = threading.Lock()
        _all_caches.add(self)
        _watched.update(self.tables)

    def get(self, key: Hashable, load: Callable[[], Any]) -> Any:
        """The cached value of ``key``, or ``load()``'s (stored unless a write intervened)."""
        entry = self._data.get(key, _MISSING)
        now = time.monotonic()
        if entry is not _MISSING and entry[0] > now:
            return entry[1]
        generation = self._generation
        value = load()
        with self._lock:
            if generation == self._generation:
                if len(self._data) >= self.max_entries:
                    self._data.clear()  # bounded memory; entries are cheap to load again
                self._data[key] = (now + self.ttl, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._generation += 1
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)


def app_cache(name: str, ttl: float, depends_on: tuple[type, ...]) -> LocalCache:
    """The current app's cache called ``name`` (made on first use)."""
    caches = current_app.extensions.setdefault("local_caches", {})
    cache = caches.get(name)
    if cache is None:
        cache = caches.setdefault(name, LocalCache(name, ttl, depends_on))
    return cache


def _clear_for(tables: set[str]) -> None:
    for cache in list(_all_caches):
        if cache.tables & tables:
            cache.clear()


def _remember(session: Session, tables: set[str]) -> None:
    tables &= _watched
    if tables:
        session.info.setdefault(_TOUCHED, set()).update(tables)
        _clear_for(tables)


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context) -> None:
    # new/dirty/deleted still show what this flush wrote.
    objects = (*session.new, *session.dirty, *session.deleted)
    _remember(session, {table.name for obj in objects for table in _tables_of(obj)})


@event.listens_for(Session, "do_orm_execute")
def _on_execute(state: ORMExecuteState) -> None:
    if state.is_update or state.is_delete or state.is_insert:
        table = getattr(state.statement, "table", None)
        if table is not None:
            _remember(state.session, {table.name})


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_soft_rollback")
def _after_end(session: Session, *_args) -> None:
    # Once more at the end: a reader that loaded between the flush and the commit (seeing
    # the old rows) must not keep them, and a rolled-back change must not linger.
    tables = session.info.pop(_TOUCHED, None)
    if tables:
        _clear_for(tables)


def _tables_of(obj) -> tuple:
    mapper = getattr(type(obj), "__mapper__", None)
    return tuple(mapper.tables) if mapper is not None else ()
