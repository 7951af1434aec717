from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "apps.analytics"
    verbose_name = "Educators' analytics"

    def ready(self) -> None:
        # Registers the research token's OpenAPI scheme (drf-spectacular finds extensions by import).
        from apps.analytics import schema  # noqa: F401
        from apps.analytics.summary import attempt_week_refresh
        from apps.exercises.hooks import on_attempt_recorded

        # The weekly summaries follow every submit, score and re-score.
        on_attempt_recorded(attempt_week_refresh)
