from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "apps.analytics"
    verbose_name = "Educators' analytics"

    def ready(self) -> None:
        # Registers the research token's OpenAPI scheme (drf-spectacular finds extensions by import).
        from apps.analytics import schema  # noqa: F401
