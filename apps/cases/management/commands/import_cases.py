"""python manage.py import_cases --format nih data/cxr-demo --case-set "NIH demo" --publish"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from apps.accounts.models import Role, User
from apps.cases.importers import FORMATS, ImportFailed, import_path


def default_owner() -> User:
    owner = (
        User.objects.filter(is_active=True, role=Role.ADMIN).order_by("pk").first()
        or User.objects.filter(is_active=True, is_superuser=True).order_by("pk").first()
    )
    if owner is None:
        raise CommandError("No administrator exists to own the cases: pass --owner USERNAME.")
    return owner


class Command(BaseCommand):
    help = "Import chest X-ray cases from a dataset folder (or zip, for --format dicom)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--format", required=True, choices=sorted(FORMATS))
        parser.add_argument(
            "--case-set", dest="case_set", help="add the cases to this set (created if new)"
        )
        parser.add_argument(
            "--owner", help="username of the educator who will own the cases (default: first admin)"
        )
        parser.add_argument(
            "--publish", action="store_true", help="publish every case that has ground truth"
        )
        parser.add_argument(
            "--allow-non-chest", action="store_true", help="accept DICOM that is not a chest film"
        )
        parser.add_argument("--json", action="store_true", help="print the summary as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        if not path.is_absolute():
            path = (Path.cwd() / path) if path.exists() else Path(settings.BASE_DIR) / path
        if options["owner"]:
            owner = User.objects.filter(username=options["owner"]).first()
            if owner is None:
                raise CommandError(f"No user named {options['owner']!r}.")
        else:
            owner = default_owner()
        bar = tqdm(total=0, unit="case", disable=options["json"] or options["verbosity"] == 0)

        def progress(done: int, total: int, message: str) -> None:
            bar.total = total
            bar.update(done - bar.n)
            bar.set_postfix_str(message[-30:], refresh=False)

        try:
            summary = import_path(
                options["format"],
                path,
                owner=owner,
                case_set_name=options["case_set"],
                publish=options["publish"],
                allow_non_chest=options["allow_non_chest"],
                progress=progress,
            )
        except ImportFailed as exc:
            raise CommandError(str(exc)) from None
        finally:
            bar.close()
        result = summary.as_dict()
        if options["json"]:
            self.stdout.write(json.dumps(result, indent=2))
            return
        rate = (
            (summary.created + summary.updated + summary.unchanged) / summary.seconds
            if summary.seconds
            else 0
        )
        self.stdout.write(
            f"created {summary.created}, updated {summary.updated}, unchanged {summary.unchanged}, "
            f"skipped {len(summary.skipped)} in {summary.seconds:.1f} s ({rate:.1f} cases/s)"
        )
        for skipped in summary.skipped:
            self.stdout.write(f"  skipped {skipped['external_id']}: {skipped['reason']}")
        for warning in summary.warnings:
            self.stdout.write(f"  warning: {warning}")
        if summary.warning_count > len(summary.warnings):
            self.stdout.write(f"  ... {summary.warning_count} warnings in all")
        for problem in summary.problems:
            self.stdout.write(f"  problem: {problem}")
