from django.apps import AppConfig


class InferenceConfig(AppConfig):
    name = "apps.inference"
    label = "inference"

    def ready(self) -> None:
        from django.conf import settings
        from django.db.models.signals import post_save

        from . import checks  # noqa: F401  (registers the broker's deploy check)
        from .services import close_sockets_of_ended_sessions

        post_save.connect(
            close_sockets_of_ended_sessions,
            sender=settings.AUTH_USER_MODEL,
            dispatch_uid="inference.close_sockets_of_ended_sessions",
        )
