from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"

    def ready(self) -> None:
        # Registers the <id:...> path converter before any URLconf is imported.
        from . import converters  # noqa: F401
