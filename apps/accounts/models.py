"""Users carry one role; what each role may do is decided in ``permissions``."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models


class Role(models.TextChoices):
    RESIDENT = "resident", "Resident"
    EDUCATOR = "educator", "Educator"
    ADMIN = "admin", "Administrator"


class User(AbstractUser):
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.RESIDENT)
    display_name = models.CharField(max_length=120, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=[r.value for r in Role]), name="user_role_valid"
            ),
        ]

    @property
    def shown_name(self) -> str:
        return self.display_name or self.get_full_name() or self.username
