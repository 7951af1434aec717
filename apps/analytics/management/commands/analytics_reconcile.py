"""Check the dashboard's weekly summaries against a recount of every attempt (RELIABILITY R16);
``--fix`` stores the recount. Exit status 1 when they differ and were not fixed."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.analytics.summary import reconcile


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--fix", action="store_true", help="store the recount where it differs")

    def handle(self, *args: Any, **options: Any) -> None:
        report = reconcile(fix=options["fix"])
        self.stdout.write(
            f"{report.checked} weekly summaries recounted: {len(report.missing)} missing, "
            f"{len(report.extra)} extra, {len(report.different)} different"
        )
        for label, keys in (
            ("missing", report.missing),
            ("extra", report.extra),
            ("different", report.different),
        ):
            for user_id, kind, week in keys[:20]:
                self.stdout.write(f"  {label}: user {user_id} {kind} week of {week}")
        if report.ok:
            self.stdout.write("in agreement")
        elif options["fix"]:
            self.stdout.write("fixed: the recount is stored")
        else:
            raise CommandError("the weekly summaries differ from the attempts (run with --fix)")
