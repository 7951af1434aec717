from django import forms
from django.contrib.auth.password_validation import validate_password


class CohortForm(forms.Form):
    name = forms.CharField(max_length=120)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)


class InvitationForm(forms.Form):
    email = forms.EmailField(
        required=False, help_text="Optional: who the link is for (not sent by email)."
    )
    note = forms.CharField(max_length=120, required=False)
    days_valid = forms.IntegerField(min_value=1, max_value=60, initial=14)


class CoEducatorForm(forms.Form):
    username = forms.CharField(
        max_length=150, help_text="An educator's username; they will see and run this cohort."
    )


class JoinCodeForm(forms.Form):
    code = forms.CharField(max_length=16, label="Join code")


class InvitationSignupForm(forms.Form):
    username = forms.CharField(max_length=150)
    email = forms.EmailField(required=False)
    password = forms.CharField(widget=forms.PasswordInput, min_length=8)

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        validate_password(password)
        return password
