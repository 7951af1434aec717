from django.apps import AppConfig


class ReportingConfig(AppConfig):
    name = "apps.reporting"
    label = "reporting"
    verbose_name = "Report exercise"

    def ready(self) -> None:
        from apps.exercises.registry import ExerciseSpec, exercise_register
        from apps.exercises.rescore import rescorer_register
        from apps.inference.registry import on_job_finished
        from ml.contracts import REPORT_JUDGE_TASK, REPORT_SCORE_TASK

        from .models import ReportAttempt
        from .rescore import RESCORER, on_score_finished
        from .selectors import reportable_case_ids_in_set
        from .services import on_judge_finished

        on_job_finished(REPORT_SCORE_TASK, on_score_finished)
        on_job_finished(REPORT_JUDGE_TASK, on_judge_finished)
        rescorer_register(RESCORER)
        exercise_register(
            ExerciseSpec(
                kind=ReportAttempt.EXERCISE,
                attempt_model=ReportAttempt,
                case_ids_in_set=reportable_case_ids_in_set,
                job_fields=("job", "judge_job", "rescore_job"),
            )
        )
