from django.apps import AppConfig


class LocalizationConfig(AppConfig):
    name = "apps.localization"
    label = "localization"
    verbose_name = "Localize exercise"

    def ready(self) -> None:
        from apps.cases.registry import on_case_published
        from apps.inference.registry import on_job_finished

        from .explanations import EXPLAIN_TASK, localization_explanations_store
        from .explanations import on_case_published as precompute_explanations

        on_case_published(precompute_explanations)
        on_job_finished(EXPLAIN_TASK, localization_explanations_store)
