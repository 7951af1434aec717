from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "apps.cases"
    label = "cases"

    def ready(self) -> None:
        from apps.inference.registry import register_web_job

        from .services.imports import IMPORT_JOB, import_job
        from .services.uploads import INGEST_JOB, ingest_upload_job

        register_web_job(INGEST_JOB, ingest_upload_job)
        register_web_job(IMPORT_JOB, import_job)
