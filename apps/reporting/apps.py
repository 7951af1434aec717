from django.apps import AppConfig


class ReportingConfig(AppConfig):
    name = "apps.reporting"
    label = "reporting"

    def ready(self) -> None:
        # Scores come back as finished jobs; the hooks store them inside the finishing transaction.
        from apps.inference.registry import on_job_finished

        from .services import JUDGE_TASK, SCORE_TASK, on_judge_finished, on_score_finished

        on_job_finished(SCORE_TASK, on_score_finished)
        on_job_finished(JUDGE_TASK, on_judge_finished)
