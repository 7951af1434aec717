import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from apps.inference.models import Job
from apps.inference.services import inference_job_dispatch
from ml.contracts import PING_GPU_TASK, PING_TASK


class Command(BaseCommand):
    help = (
        "Send a ping job to the scoring (or gpu) queue and wait for a worker to answer; a gpu "
        "worker answers with its health: the model of each job kind, whether it is loaded, on "
        "which device, and the memory in use."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--gpu", action="store_true", help="ping the gpu queue instead")
        parser.add_argument("--timeout", type=float, default=30.0)

    def handle(self, *args: object, **options: object) -> None:
        kind = PING_GPU_TASK if options["gpu"] else PING_TASK
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
        result = job.result or {}
        self.stdout.write(
            self.style.SUCCESS(f"answered by {result.get('host')} (pid {result.get('pid')})")
        )
        health = result.get("health")
        if health:
            for line in health_lines(health):
                self.stdout.write(line)


def health_lines(health: dict[str, Any]) -> list[str]:
    """The worker's health report as a few readable lines."""
    lines = []
    for model in health.get("models", []):
        name = model.get("model_id") or model.get("endpoint_model") or model.get("path") or "-"
        state = "loaded" if model.get("loaded") else "not loaded yet"
        if model.get("backend") in ("knowledge", "none"):
            state = "no model"
        line = f"  {model.get('kind')}: {model.get('backend')} {name} ({state})"
        if model.get("loaded") and model.get("device") not in (None, "none"):
            line += f" on {model['device']} {model.get('dtype', '')}".rstrip()
            if model.get("parameters"):
                line += f", {model['parameters']:,} parameters"
        if model.get("backend") == "transformers":
            line += f", batch up to {model.get('batch_size')}"
        lines.append(line)
    accelerator = health.get("accelerator") or {}
    if accelerator.get("cuda"):
        lines.append(
            f"  device: {accelerator.get('name')}, "
            f"{accelerator.get('memory_allocated_mb')} MiB allocated, "
            f"{accelerator.get('memory_free_mb')} of {accelerator.get('memory_total_mb')} MiB free"
        )
    elif accelerator.get("torch"):
        lines.append(f"  device: CPU (torch {accelerator['torch']}, no CUDA)")
    else:
        lines.append("  device: none in use (torch not loaded)")
    if health.get("process_memory_mb") is not None:
        lines.append(f"  worker memory: {health['process_memory_mb']} MiB resident")
    return lines
