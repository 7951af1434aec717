"""Users carry one role; what each role may do is decided in ``permissions``."""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models


class Role(models.TextChoices):
    RESIDENT = "resident", "Resident"
    EDUCATOR = "educator", "Educator"
    ADMIN = "admin", "Administrator"


@lru_cache(maxsize=1)
def time_zone_names() -> frozenset[str]:
    """The IANA zone names this machine knows (what a resident may pick)."""
    return frozenset(available_timezones())


def validate_time_zone(value: str) -> None:
    if value and value not in time_zone_names():
        raise ValidationError(f"Unknown time zone {value!r}; use an IANA name like Europe/Paris.")


class User(AbstractUser):
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.RESIDENT)
    display_name = models.CharField(max_length=120, blank=True)
    # Where the player's days start and end (streaks, today's goal); blank: the site's TIME_ZONE.
    time_zone = models.CharField(
        max_length=64, blank=True, default="", validators=[validate_time_zone]
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=[r.value for r in Role]), name="user_role_valid"
            ),
        ]

    @property
    def zone(self) -> ZoneInfo:
        """The player's time zone (the site's when none was chosen)."""
        return ZoneInfo(self.time_zone or settings.TIME_ZONE)

    @property
    def shown_name(self) -> str:
        return self.display_name or self.get_full_name() or self.username
