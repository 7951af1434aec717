"""Account writes."""

from __future__ import annotations

from django.db import transaction

from apps.core.exceptions import ApplicationError

from .models import Role, User


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str | None,
    role: str = Role.RESIDENT,
    email: str = "",
    display_name: str = "",
) -> User:
    if role not in Role.values:
        raise ApplicationError(f"Unknown role {role!r}", field="role")
    if User.objects.filter(username__iexact=username).exists():
        raise ApplicationError(f"The username {username!r} is taken", field="username")
    user = User(username=username, email=email, role=role, display_name=display_name)
    user.is_staff = role == Role.ADMIN
    user.is_superuser = role == Role.ADMIN
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    return user


def user_update_profile(
    *, user: User, display_name: str, email: str, time_zone: str | None = None
) -> User:
    user.display_name = display_name.strip()[:120]
    user.email = email.strip()
    if time_zone is not None:
        user.time_zone = time_zone.strip()
    user.full_clean(exclude=["password"])
    user.save(update_fields=["display_name", "email", "time_zone"])
    return user
