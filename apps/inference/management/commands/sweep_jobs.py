from django.core.management.base import BaseCommand

from apps.inference.services import inference_jobs_sweep


class Command(BaseCommand):
    help = (
        "Re-send jobs whose message was lost and fail jobs that used up their attempts (for cron)."
    )

    def handle(self, *args: object, **options: object) -> None:
        counts = inference_jobs_sweep()
        self.stdout.write(f"resent {counts['resent']}, failed {counts['failed']}")
