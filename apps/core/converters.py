"""URL converters. Every numeric id in a route is an ``<id:...>``: 1..2**63-1, or the URL does
not match (a 404), so an id past Postgres' bigint never reaches a query as an OverflowError."""

from __future__ import annotations

from django.urls import register_converter

MAX_ID = 2**63 - 1


class IdConverter:
    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 1 <= number <= MAX_ID:
            raise ValueError(f"id out of range: {value}")  # Django answers "no match": a 404
        return number

    def to_url(self, value: int | str) -> str:
        number = int(value)
        if not 1 <= number <= MAX_ID:
            raise ValueError(f"id out of range: {value}")
        return str(number)


register_converter(IdConverter, "id")
