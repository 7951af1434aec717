"""A ``values()`` queryset's SQL built once per process and re-run with fresh parameters.

Building and compiling a queryset with subqueries costs the ORM several milliseconds of CPU (the
submit profile, bench/localize.py --section profile, found it was most of the submit's hot reads),
while running its SQL costs a fraction of one. ``compiled_values`` builds the queryset with
sentinel arguments, keeps its SQL and the place of each argument among its parameters, and runs
that SQL with the real arguments: the rule stays written once, in the ORM, and only its
compilation is cached.

The queryset must depend on its arguments only through the parameters it passes to the
database, and on nothing else that varies (its shape is the caller's ``key``). An argument turned
into another value before it reaches the SQL (a date taken from a datetime, a pk read off a model)
would be frozen into the cached SQL, so the queryset is built twice with different sentinels and
anything that moves without being an argument is refused.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Hashable, Iterator
from datetime import UTC, date, datetime, timedelta
from threading import Lock
from typing import Any

from django.db import connections, transaction
from django.db.models import QuerySet
from django.db.models.sql import UpdateQuery


class CompiledQueryError(RuntimeError):
    """The queryset cannot be cached: a parameter varies without being an argument."""


class _Compiled:
    def __init__(self, sql: str, params: list[Any], slots: list[str | None], names: list[str]):
        self.sql = sql
        self.params = params  # the constants; a slot's place holds None
        self.slots = slots  # per parameter: the argument it takes, or None for a constant
        self.names = names
        self.converters: dict[int, tuple[list[Any], Any]] = {}


_CACHE: dict[Hashable, _Compiled] = {}
_LOCK = Lock()


def _sentinel(value: Any, n: int) -> Any:
    """A value of the argument's type that no real argument or constant will equal."""
    if isinstance(value, bool) or value is None:
        raise CompiledQueryError("booleans and None belong in the shape key, not the arguments")
    if isinstance(value, int):
        return -1_987_000_000 - n
    if isinstance(value, uuid.UUID):
        return uuid.UUID(int=0x5E_7715E1 << 64 | n)
    if isinstance(value, datetime):
        return datetime(1901, 2, 3, tzinfo=UTC) + timedelta(microseconds=n)
    if isinstance(value, str):
        return f"\x1fsentinel-{n}"
    raise CompiledQueryError(f"no sentinel for {type(value).__name__}")


def _select_sql(built: QuerySet[Any], using: str) -> tuple[str, Any]:
    return built.query.get_compiler(using).as_sql()  # type: ignore[no-any-return]


def _update_sql(built: tuple[QuerySet[Any], dict[str, Any]], using: str) -> tuple[str, Any]:
    queryset, values = built
    query = queryset.query.chain(UpdateQuery)
    query.add_update_values(values)
    return query.get_compiler(using).as_sql()  # type: ignore[no-any-return]


def _compile(
    build: Callable[..., Any],
    args: dict[str, Any],
    using: str,
    offset: int,
    to_sql: Callable[[Any, str], tuple[str, Any]] = _select_sql,
) -> tuple[str, list[Any], list[str | None], Any]:
    sentinels = {name: _sentinel(value, offset + i) for i, (name, value) in enumerate(args.items())}
    by_value = {(type(v), v): name for name, v in sentinels.items()}
    built = build(**sentinels)
    sql, params = to_sql(built, using)
    slots = [by_value.get((type(p), p)) for p in params]
    if any(isinstance(p, date) and slot is None for p, slot in zip(params, slots, strict=True)):
        # A time taken while building (today's start, now) would stay in the SQL for good.
        raise CompiledQueryError("a date or time in the SQL must be an argument")
    constants = [None if slot else p for p, slot in zip(params, slots, strict=True)]
    return sql, constants, slots, built


def _compiled(
    key: Hashable, build: Callable[..., QuerySet[Any]], args: dict[str, Any], using: str
) -> _Compiled:
    connection = connections[using]
    full_key = (connection.vendor, using, key)
    found = _CACHE.get(full_key)
    if found is not None:
        return found
    sql, constants, slots, queryset = _compile(build, args, using, 0)
    sql2, constants2, slots2, _ = _compile(build, args, using, 1000)
    if sql != sql2 or constants != constants2 or slots != slots2:
        raise CompiledQueryError(f"{key!r}: a parameter varies without being an argument")
    query = queryset.query
    names = [*query.extra_select, *query.values_select, *query.annotation_select]
    compiled = _Compiled(sql, constants, slots, names)
    compiler = query.get_compiler(using)
    compiler.setup_query()
    compiled.converters = compiler.get_converters([s[0] for s in compiler.select])
    if len(names) != len(compiler.select):
        raise CompiledQueryError(f"{key!r}: only a values() queryset can be compiled")
    with _LOCK:
        _CACHE.setdefault(full_key, compiled)
    return _CACHE[full_key]


def _converted(rows: list[tuple[Any, ...]], compiled: _Compiled, using: str) -> Iterator[list[Any]]:
    connection = connections[using]
    for row in rows:
        values = list(row)
        for position, (converters, expression) in compiled.converters.items():
            value = values[position]
            for converter in converters:
                value = converter(value, expression, connection)
            values[position] = value
        yield values


def compiled_values(
    key: Hashable,
    build: Callable[..., QuerySet[Any]],
    args: dict[str, Any],
    *,
    using: str = "default",
) -> list[dict[str, Any]]:
    """The rows of ``build(**args).values(...)``, as dicts, from SQL compiled once per ``key``.

    ``key`` names the queryset's shape (everything but ``args`` that ``build`` depends on);
    ``args`` are ints, UUIDs, datetimes or strings that reach the SQL unchanged as parameters.
    """
    if connections[using].vendor != "postgresql":
        # The cache is a Postgres optimisation: other backends adapt parameters while compiling
        # (SQLite turns UUIDs and datetimes into strings), so an argument's place cannot be found.
        # The embedded default runs the queryset itself: the same rule, compiled each time.
        return list(build(**args))
    compiled = _compiled(key, build, args, using)
    with connections[using].cursor() as cursor:
        cursor.execute(compiled.sql, _params(compiled, args))
        rows = cursor.fetchall()
    return _dicts(rows, compiled, using)


Statement = tuple[Hashable, Callable[..., QuerySet[Any]], dict[str, Any]]  # key, build, args


def compiled_values_after(
    first: Statement,
    key: Hashable,
    build: Callable[..., QuerySet[Any]],
    args: dict[str, Any],
    *,
    using: str = "default",
) -> list[dict[str, Any]]:
    """``compiled_values(key, build, args)`` run right after ``compiled_values(*first)`` (whose
    rows are dropped: a lock, say), in one round trip on PostgreSQL: the two statements go in one
    query string (Django's psycopg cursors bind client-side, which allows it). They remain two
    statements, each with its own snapshot: the second reads what committed while the first
    waited, as it would in a round trip of its own."""
    if connections[using].vendor != "postgresql":
        compiled_values(*first, using=using)
        return compiled_values(key, build, args, using=using)
    lead = _compiled(first[0], first[1], first[2], using)
    compiled = _compiled(key, build, args, using)
    with connections[using].cursor() as cursor:
        cursor.execute(
            f"{lead.sql}; {compiled.sql}",
            [*_params(lead, first[2]), *_params(compiled, args)],
        )
        if not cursor.nextset():
            raise CompiledQueryError(f"{key!r}: the second statement returned no result")
        rows = cursor.fetchall()
    return _dicts(rows, compiled, using)


def _dicts(rows: list[tuple[Any, ...]], compiled: _Compiled, using: str) -> list[dict[str, Any]]:
    return [
        dict(zip(compiled.names, values, strict=True))
        for values in _converted(rows, compiled, using)
    ]


def _params(compiled: _Compiled, args: dict[str, Any]) -> list[Any]:
    return [
        args[slot] if slot is not None else constant
        for constant, slot in zip(compiled.params, compiled.slots, strict=True)
    ]


def compiled_update(
    key: Hashable,
    build: Callable[..., tuple[QuerySet[Any], dict[str, Any]]],
    args: dict[str, Any],
    *,
    using: str = "default",
) -> int:
    """``queryset.update(**values)`` for ``(queryset, values) = build(**args)``, from SQL compiled
    once per ``key`` (the same rules as ``compiled_values``: ``args`` reach the SQL unchanged);
    returns the number of rows updated. Only a plain update: no related-model updates."""
    if connections[using].vendor != "postgresql":
        queryset, values = build(**args)
        return int(queryset.update(**values))
    connection = connections[using]
    full_key = (connection.vendor, using, "update", key)
    compiled = _CACHE.get(full_key)
    if compiled is None:
        sql, constants, slots, _ = _compile(build, args, using, 0, _update_sql)
        sql2, constants2, slots2, _ = _compile(build, args, using, 1000, _update_sql)
        if sql != sql2 or constants != constants2 or slots != slots2:
            raise CompiledQueryError(f"{key!r}: a parameter varies without being an argument")
        with _LOCK:
            compiled = _CACHE.setdefault(full_key, _Compiled(sql, constants, slots, []))
    with transaction.mark_for_rollback_on_error(using), connection.cursor() as cursor:
        cursor.execute(compiled.sql, _params(compiled, args))
        return int(cursor.rowcount)


def clear() -> None:
    """Forget every compiled query (tests that change a shape's rule)."""
    with _LOCK:
        _CACHE.clear()
