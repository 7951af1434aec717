import time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from apps.inference.models import Job
from apps.inference.services import inference_job_dispatch


class Command(BaseCommand):
    help = "Send a ping job to the scoring (and gpu) queue and wait for a worker to answer."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--gpu", action="store_true", help="ping the gpu queue instead")
        parser.add_argument("--timeout", type=float, default=30.0)

    def handle(self, *args: object, **options: object) -> None:
        kind = "ml.diagnostics.ping_gpu" if options["gpu"] else "ml.diagnostics.ping"
        with transaction.atomic():
            job = inference_job_dispatch(kind=kind, payload={"echo": "ping"})
        deadline = time.monotonic() + float(options["timeout"])  # type: ignore[arg-type]
        while time.monotonic() < deadline:
            job = Job.objects.get(pk=job.pk)
            if job.is_final:
                break
            time.sleep(0.2)
        if job.status != "done":
            raise CommandError(f"job {job.pk} is {job.status}: {job.error or 'no answer in time'}")
        self.stdout.write(self.style.SUCCESS(f"answered by {job.result}"))
