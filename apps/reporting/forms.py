"""The findings form. It only parses; the service validates (one set of rules for HTML and API)."""

from django import forms


class ReportForm(forms.Form):
    # Not required and not stripped here: the service gives the clear "write your findings" error.
    text = forms.CharField(required=False, strip=False, widget=forms.Textarea)
    idempotency_key = forms.CharField(required=False, max_length=200, widget=forms.HiddenInput)


class DraftForm(forms.Form):
    text = forms.CharField(required=False, strip=False)
