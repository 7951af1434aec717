"""A migration linter for Postgres (R13), in place of django-migration-linter (not installed).

Every project migration is rendered to the SQL Postgres would run (what ``sqlmigrate`` prints:
``MigrationExecutor.collect_sql``), and each statement that touches a table the migration did not
create is checked against what locks or breaks a live deployment:

- ``type``: ``ALTER COLUMN ... TYPE`` rewrites the table under an ACCESS EXCLUSIVE lock;
- ``not-null``: ``SET NOT NULL`` scans the table under that lock;
- ``add-not-null``: ``ADD COLUMN ... NOT NULL`` without a ``DEFAULT`` fails on a table with rows;
- ``index``: ``CREATE INDEX`` without ``CONCURRENTLY`` blocks writes while it builds;
- ``constraint``: ``ADD CONSTRAINT`` (check, unique, foreign key) without ``NOT VALID`` validates
  every row under a lock that blocks writes;
- ``drop``: ``DROP COLUMN``/``DROP TABLE``, and ``rename``: ``RENAME``, break the previous release
  while it still runs during a rolling deploy;

and, per operation, ``irreversible``: a ``RunPython`` without ``reverse_code`` or a ``RunSQL``
without ``reverse_sql`` cannot be rolled back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.apps import apps
from django.db import connection
from django.db.migrations import Migration
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.operations import RunPython, RunSQL

CREATE_TABLE = re.compile(r'^CREATE TABLE "(\w+)"', re.IGNORECASE)
TABLE_OF = re.compile(
    r'^(?:ALTER TABLE|DROP TABLE|CREATE (?:UNIQUE )?INDEX [^;]*? ON) "(\w+)"', re.I
)
RULES: dict[str, re.Pattern[str]] = {
    "type": re.compile(r'ALTER COLUMN "\w+" TYPE', re.I),
    "not-null": re.compile(r"SET NOT NULL", re.I),
    "add-not-null": re.compile(r"ADD COLUMN (?:(?!DEFAULT)[^,;])* NOT NULL", re.I),
    "index": re.compile(r"^CREATE (?:UNIQUE )?INDEX (?!CONCURRENTLY)", re.I),
    "constraint": re.compile(r"ADD CONSTRAINT (?!.*NOT VALID)", re.I),
    "drop": re.compile(r"^DROP TABLE|DROP COLUMN", re.I),
    "rename": re.compile(r"RENAME (?:COLUMN|TO)", re.I),
}


@dataclass(frozen=True)
class Finding:
    app: str
    migration: str
    rule: str
    statement: str

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.app, self.migration, self.rule)


def project_apps() -> set[str]:
    """The project's apps that have migrations."""
    migrated = MigrationLoader(None, ignore_no_migrations=True).migrated_apps
    return {c.label for c in apps.get_app_configs() if c.name.startswith("apps.")} & migrated


def lint_statements(app: str, name: str, statements: list[str]) -> list[Finding]:
    """The findings of one migration's SQL; tables it creates itself are new, so exempt."""
    created = {m[1] for s in statements if (m := CREATE_TABLE.match(s.strip()))}
    findings = []
    for statement in statements:
        text = " ".join(statement.split())
        table = TABLE_OF.match(text)
        if text.startswith("--") or (table and table[1] in created) or CREATE_TABLE.match(text):
            continue
        for rule, pattern in RULES.items():
            if pattern.search(text):
                findings.append(Finding(app, name, rule, text[:200]))
    return findings


def lint_operations(app: str, name: str, operations: list[object]) -> list[Finding]:
    return [
        Finding(app, name, "irreversible", type(op).__name__)
        for op in operations
        if isinstance(op, RunPython | RunSQL) and not op.reversible
    ]


def collected_sql(loader: MigrationLoader, migration: Migration) -> list[str]:
    """What ``sqlmigrate`` prints for the migration, forwards, on this connection."""
    return loader.collect_sql([(migration, False)])


def lint_migration(app: str, migration: Migration, statements: list[str]) -> list[Finding]:
    return lint_statements(app, migration.name, statements) + lint_operations(
        app, migration.name, migration.operations
    )


def lint_project() -> list[Finding]:
    """Every project migration, as Postgres would run it forwards."""
    loader = MigrationLoader(connection, replace_migrations=False)
    ours = project_apps()
    findings = []
    for (app, _name), migration in sorted(loader.disk_migrations.items()):
        if app in ours:
            findings += lint_migration(app, migration, collected_sql(loader, migration))
    return findings
