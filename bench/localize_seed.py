"""Seed data for the ``load`` section of bench/localize.py, run in a child process with the bench
environment (DATABASE_URL etc.): everything is built through the services, as a real deployment
would hold it. Writes the set, the cases' truth and the residents' session keys as JSON."""

from __future__ import annotations

import json
import os
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESIDENTS = 110
CASES = 12
BOX_LABELS = ("Nodule", "Mass", "Effusion", "Atelectasis", "Cardiomegaly", "Pneumothorax")


def seed(out: Path) -> None:
    """Runs in a child process with the bench environment: build the data through the services."""
    import io

    import django

    django.setup()
    from django.db import transaction
    from django.test import Client
    from PIL import Image

    from apps.accounts.services import user_create
    from apps.cases.imaging import ingest_image
    from apps.cases.services import case_create, case_image_add, case_publish
    from apps.cases.services.boxes import MarkedBox
    from apps.cases.services.findings import TruthFinding, case_truth_replace
    from apps.cases.services.sets import case_set_assign, case_set_case_add, case_set_create
    from apps.cohorts.services import cohort_create, cohort_join_by_code

    rng = random.Random(11)
    # Sessions come from force_login: no password is ever typed, so none is hashed (a million
    # PBKDF2 rounds per resident made the seed the slowest part of a run on a loaded machine).
    password = None
    educator = user_create(username="bench-educator", password=password, role="educator")
    cohort = cohort_create(actor=educator, name="Bench cohort")
    buffer = io.BytesIO()
    Image.effect_noise((512, 512), 40).convert("L").save(buffer, format="PNG")
    png = buffer.getvalue()
    case_set = case_set_create(actor=educator, name="Bench set", mode="practice")
    cases = []
    for n in range(CASES):
        case = case_create(actor=educator, title=f"Bench case {n}", patient_age=50 + n, view="PA")
        case_image_add(actor=educator, case=case, ingested=ingest_image(png), source=png)
        findings = []
        for label in rng.sample(BOX_LABELS, rng.randint(1, 3)):
            x1, y1 = rng.uniform(0.05, 0.6), rng.uniform(0.05, 0.6)
            box = (x1, y1, x1 + rng.uniform(0.1, 0.3), y1 + rng.uniform(0.1, 0.3))
            findings.append(
                TruthFinding(label, [[MarkedBox(label, box, "r1")]], f"{label} on the film.")
            )
        if n % 3 == 0:
            findings.append(TruthFinding("Emphysema", [], "Hyperlucent lungs."))
        with transaction.atomic():
            case_truth_replace(case=case, findings=findings, is_normal=False)
        case_publish(actor=educator, case=case)  # precomputes the reference explanations
        case_set_case_add(actor=educator, case_set=case_set, case=case)
        cases.append(
            {
                "id": case.pk,
                "truth": [
                    {"label": f.label, "box": list(f.regions[0][0].box)}
                    for f in findings
                    if f.regions
                ],
            }
        )
    case_set_assign(actor=educator, case_set=case_set, cohort=cohort)
    sessions = []
    for n in range(RESIDENTS):
        user = user_create(username=f"bench-resident-{n}", password=password, role="resident")
        cohort_join_by_code(user=user, code=cohort.join_code)
        client = Client()
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        sessions.append(client.cookies["sessionid"].value)
    out.write_text(json.dumps({"set_id": case_set.pk, "cases": cases, "sessions": sessions}))


if __name__ == "__main__":
    # The checkout the bench runs (PYTHONPATH: this one, or an older commit's to compare with).
    sys.path.insert(0, os.environ.get("PYTHONPATH", "").split(os.pathsep)[0] or str(ROOT))
    seed(Path(sys.argv[1]))
