from django.apps import AppConfig


class LocalizationConfig(AppConfig):
    name = "apps.localization"
    label = "localization"
    verbose_name = "Localize exercise"

    def ready(self) -> None:
        from apps.cases.registry import on_case_published
        from apps.exercises.registry import ExerciseSpec, exercise_register
        from apps.exercises.rescore import rescorer_register
        from apps.inference.registry import on_job_finished

        from .explanations import EXPLAIN_TASK, localization_explanations_store
        from .explanations import on_case_published as precompute_explanations
        from .models import LocalizationAttempt
        from .rescore import RESCORER
        from .selectors import published_case_ids

        on_case_published(precompute_explanations)
        on_job_finished(EXPLAIN_TASK, localization_explanations_store)
        rescorer_register(RESCORER)
        exercise_register(
            ExerciseSpec(
                kind=LocalizationAttempt.EXERCISE,
                attempt_model=LocalizationAttempt,
                case_ids_in_set=published_case_ids,
                job_fields=("explain_job",),
            )
        )
