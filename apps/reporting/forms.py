"""The findings form. It only parses; the service validates (one set of rules for HTML and API)."""

from typing import Any

from django import forms
from django.core.validators import ProhibitNullCharactersValidator


class _TextField(forms.CharField):
    """Not required, not stripped, NUL allowed through: the service refuses control characters
    and empty text with the messages the resident should see."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, strip=False, **kwargs)
        self.validators = [
            v for v in self.validators if not isinstance(v, ProhibitNullCharactersValidator)
        ]


class ReportForm(forms.Form):
    text = _TextField(widget=forms.Textarea)
    idempotency_key = forms.CharField(required=False, max_length=200, widget=forms.HiddenInput)


class DraftForm(forms.Form):
    text = _TextField()
