from django import forms
from django.conf import settings
from django.contrib.auth.forms import UserCreationForm

from .models import User, time_zone_names


def _time_zone_choices() -> list[tuple[str, str]]:
    return [("", f"The site's time zone ({settings.TIME_ZONE})")] + [
        (name, name) for name in sorted(time_zone_names())
    ]


class ProfileForm(forms.Form):
    display_name = forms.CharField(max_length=120, required=False)
    email = forms.EmailField(required=False)
    time_zone = forms.ChoiceField(
        choices=_time_zone_choices,
        required=False,
        help_text="Your days (streak, today's goal) start at midnight here.",
    )


class SignupForm(UserCreationForm):
    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")
