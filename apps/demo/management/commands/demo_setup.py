"""python manage.py demo_setup [--force]: demo accounts, cohort and the demo case sets."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from apps.demo.setup import demo_setup


class Command(BaseCommand):
    help = (
        "Create the demo accounts, cohort and case sets (IU X-ray, NIH ChestX-ray14); idempotent."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="run even with DEBUG off (the passwords are public!)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "demo_setup creates accounts with published passwords; it runs only with DEBUG on. "
                "Pass --force to run it anyway (never on a server others can reach)."
            )
        bar = tqdm(
            total=0, unit="case", desc="Importing demo cases", disable=options["verbosity"] == 0
        )

        def progress(done: int, total: int, message: str) -> None:
            bar.total = total
            bar.update(done - bar.n)

        try:
            result = demo_setup(progress=progress)
        finally:
            bar.close()
        self.stdout.write("Demo accounts (username / password):")
        for username, role, password, created in result.accounts:
            note = "" if created else "  (already existed; password unchanged)"
            self.stdout.write(f"  {username:<9} / {password:<18} {role}{note}")
        for name, summary in result.summaries.items():
            self.stdout.write(
                f"Case set '{name}': {summary.created} created, {summary.updated} updated, "
                f"{summary.unchanged} unchanged, {len(summary.skipped)} skipped."
            )
            for skipped in summary.skipped:
                self.stdout.write(
                    self.style.WARNING(f"  skipped {skipped['external_id']}: {skipped['reason']}")
                )
            for warning in summary.warnings:
                self.stdout.write(self.style.WARNING(f"  warning: {warning}"))
            for problem in summary.problems:
                self.stdout.write(self.style.WARNING(f"  problem: {problem}"))
        self.stdout.write(f"Done in {result.seconds:.1f} s.")
