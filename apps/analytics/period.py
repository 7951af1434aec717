"""The date filter of the analytics pages and exports: the last 7, 30 or 90 days, everything, or
a range of days (from and to, both included, in the site's time zone). One parser for every page
and export, so a bad date gets the same clear message everywhere (never a 500)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.db.models import Q
from django.utils import timezone

LAST_CHOICES = (
    ("all", "All time"),
    ("7", "Last 7 days"),
    ("30", "Last 30 days"),
    ("90", "Last 90 days"),
)
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)


@dataclass(frozen=True)
class Period:
    """Attempts submitted in [start, end): None is unbounded."""

    start: datetime | None = None
    end: datetime | None = None
    last: str = "all"  # the preset chosen, or "" for a range of days
    date_from: date | None = None
    date_to: date | None = None

    @property
    def bounded(self) -> bool:
        return self.start is not None or self.end is not None

    def q(self, field: str = "submitted_at") -> Q:
        condition = Q()
        if self.start is not None:
            condition &= Q(**{f"{field}__gte": self.start})
        if self.end is not None:
            condition &= Q(**{f"{field}__lt": self.end})
        return condition

    @property
    def params(self) -> dict[str, str]:
        """The query parameters that give this period back (none for all time)."""
        if self.last and self.last != "all":
            return {"last": self.last}
        out = {}
        if self.date_from:
            out["from"] = self.date_from.isoformat()
        if self.date_to:
            out["to"] = self.date_to.isoformat()
        return out

    @property
    def query(self) -> str:
        """``?…`` for links that keep the period (empty for all time)."""
        return f"?{urlencode(self.params)}" if self.params else ""

    @property
    def label(self) -> str:
        if self.last and self.last != "all":
            return dict(LAST_CHOICES)[self.last].lower()
        if self.date_from and self.date_to:
            return f"{self.date_from:%Y-%m-%d} to {self.date_to:%Y-%m-%d}"
        if self.date_from:
            return f"since {self.date_from:%Y-%m-%d}"
        if self.date_to:
            return f"up to {self.date_to:%Y-%m-%d}"
        return "all time"


ALL_TIME = Period()


class PeriodForm(forms.Form):
    last = forms.ChoiceField(choices=LAST_CHOICES, required=False, label="Period")
    # ``from`` and ``to`` in the query string (``from`` is a Python keyword): see ``period_form``.
    date_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput({"type": "date"})
    )
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput({"type": "date"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        for name, day in (("date_from", start), ("date_to", end)):
            if day is not None and not EARLIEST <= day <= LATEST:
                self.add_error(name, f"Pick a date between {EARLIEST} and {LATEST}.")
        if start and end and start > end:
            self.add_error("date_to", "The “to” date must be on or after the “from” date.")
        return data

    def period(self) -> Period:
        data = self.cleaned_data
        start, end = data.get("date_from"), data.get("date_to")
        if start or end:
            return Period(
                start=_midnight(start) if start else None,
                end=_midnight(end + timedelta(days=1)) if end else None,
                last="",
                date_from=start,
                date_to=end,
            )
        last = data.get("last") or "all"
        if last == "all":
            return ALL_TIME
        return Period(start=timezone.now() - timedelta(days=int(last)), last=last)


def _midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def period_form(params: Any) -> PeriodForm:
    """The bound filter form of a request's GET parameters (``last``, ``from``, ``to``)."""
    data = {
        "last": params.get("last", ""),
        "date_from": params.get("from", ""),
        "date_to": params.get("to", ""),
    }
    return PeriodForm(data)


def period_of(params: Any) -> tuple[Period, PeriodForm]:
    """The period a request asks for, and its form; an invalid filter gives all time and a form
    whose errors say what was wrong (the caller answers 400 with them)."""
    form = period_form(params)
    return (form.period() if form.is_valid() else ALL_TIME), form


def period_errors(form: PeriodForm) -> str:
    """The form's errors in one sentence, for an export's 400 answer."""
    return " ".join(str(message) for errors in form.errors.values() for message in errors)
