from __future__ import annotations

from typing import Any

import pytest

from apps.cases import services
from apps.cases.models import CaseStatus, Finding, FindingBox, ReferenceReport
from apps.cases.registry import _publish_hooks, on_case_published
from apps.core.exceptions import ApplicationError
from tests.cases.factories import add_image, make_case, make_set

pytestmark = pytest.mark.django_db


def _box(label: str, box: list[float]) -> dict[str, Any]:
    return {"label": label, "box": box, "confidence": 3}


class TestBoxParsing:
    def test_canonical_labels_and_validated_boxes(self) -> None:
        boxes = services.parse_marked_boxes(
            '{"boxes": [{"label": "pleural effusion", "box": [0.1, 0.2, 0.3, 0.4]}]}'
        )
        assert boxes[0].label == "Effusion"
        assert boxes[0].box == (0.1, 0.2, 0.3, 0.4)

    def test_unknown_label_is_named(self) -> None:
        with pytest.raises(ApplicationError, match="Glorboma"):
            services.parse_marked_boxes({"boxes": [_box("Glorboma", [0.1, 0.1, 0.2, 0.2])]})

    @pytest.mark.parametrize(
        "box",
        [
            [0.1, 0.1, 1.2, 0.2],
            [0.3, 0.1, 0.2, 0.2],
            [0.1, 0.1, 0.2],
            "x",
            [0.1, float("nan"), 0.2, 0.3],
        ],
    )
    def test_bad_boxes(self, box: Any) -> None:
        with pytest.raises(ApplicationError, match=r"boxes\[0\]\.box") as caught:
            services.parse_marked_boxes({"boxes": [_box("Nodule", box)]})
        assert caught.value.field.startswith("boxes[0].box")

    def test_invalid_json_and_shape(self) -> None:
        with pytest.raises(ApplicationError, match="invalid JSON"):
            services.parse_marked_boxes("{nope")
        with pytest.raises(ApplicationError, match=r"boxes\[0\]\.color: unknown field"):
            services.parse_marked_boxes(
                {"boxes": [{**_box("Nodule", [0.1, 0.1, 0.2, 0.2]), "color": 1}]}
            )
        with pytest.raises(ApplicationError):
            services.parse_marked_boxes({"boxes": {"a": 1}})
        with pytest.raises(ApplicationError, match="normal study"):
            services.parse_marked_boxes({"boxes": [_box("No Finding", [0.1, 0.1, 0.2, 0.2])]})

    def test_grouping_readers(self) -> None:
        marked = [
            services.MarkedBox("Nodule", (0.1, 0.1, 0.3, 0.3), "R1"),
            services.MarkedBox("Nodule", (0.12, 0.1, 0.31, 0.3), "R2"),  # same lesion, other reader
            services.MarkedBox("Nodule", (0.11, 0.1, 0.3, 0.31), "R1"),  # R1 again: a new region
            services.MarkedBox("Nodule", (0.7, 0.7, 0.8, 0.8), "R2"),  # far away: its own region
        ]
        regions = services.group_reader_boxes(marked)["Nodule"]
        assert [[b.reader for b in region] for region in regions] == [["R1", "R2"], ["R1"], ["R2"]]


class TestTruth:
    def test_boxes_set_keeps_readers_of_untouched_boxes(self, educator: Any) -> None:
        case = make_case(educator, with_truth=False, published=False)
        finding = Finding.objects.create(case=case, label="Nodule", sentence="A nodule.")
        FindingBox.objects.create(
            finding=finding, region=0, reader="R1", x1=0.1, y1=0.1, x2=0.3, y2=0.3
        )
        FindingBox.objects.create(
            finding=finding, region=0, reader="R2", x1=0.12, y1=0.1, x2=0.31, y2=0.3
        )
        marks = {
            "boxes": [
                _box("Nodule", [0.1, 0.1, 0.3, 0.3]),
                _box("Nodule", [0.12, 0.1, 0.31, 0.3]),
                _box("Mass", [0.5, 0.5, 0.9, 0.9]),
            ]
        }
        services.case_boxes_set(actor=educator, case=case, marks=marks)
        nodule = case.findings.get(label="Nodule")
        assert sorted(nodule.boxes.values_list("region", "reader")) == [(0, "R1"), (0, "R2")]
        assert nodule.sentence == "A nodule."
        assert case.findings.get(label="Mass").boxes.get().reader == "educator:educator"

    def test_selected_findings_and_normal(self, educator: Any) -> None:
        case = make_case(educator, published=False)
        services.case_selected_set(actor=educator, case=case, labels=["oedema", "Emphysema"])
        assert sorted(f.label for f in case.findings.filter(localizable=False)) == [
            "Edema",
            "Emphysema",
        ]
        assert case.findings.filter(localizable=True).count() == 1
        with pytest.raises(ApplicationError, match="Remove the findings"):
            services.case_normal_set(actor=educator, case=case, is_normal=True)
        services.case_boxes_set(actor=educator, case=case, marks={"boxes": []})
        services.case_selected_set(actor=educator, case=case, labels=[])
        services.case_normal_set(actor=educator, case=case, is_normal=True)
        case.refresh_from_db()
        assert case.is_normal and not case.findings.exists()

    def test_other_educator_may_not_edit(
        self, educator: Any, other_educator: Any, resident: Any
    ) -> None:
        case = make_case(educator, published=False)
        for actor in (other_educator, resident):
            with pytest.raises(ApplicationError):
                services.case_boxes_set(actor=actor, case=case, marks={"boxes": []})
            with pytest.raises(ApplicationError):
                services.case_update(actor=actor, case=case, title="x")

    def test_admin_may_edit(self, educator: Any, admin_user: Any) -> None:
        case = make_case(educator, published=False)
        services.case_update(actor=admin_user, case=case, title="Renamed", tags="A, b ,a")
        case.refresh_from_db()
        assert case.title == "Renamed" and case.tags == ["a", "b"]

    @pytest.mark.parametrize(
        ("facts", "field"),
        [
            ({"patient_age": 200}, "patient_age"),
            ({"patient_sex": "X"}, "patient_sex"),
            ({"difficulty": 9}, "difficulty"),
            ({"title": "  "}, "title"),
        ],
    )
    def test_update_validation(self, educator: Any, facts: dict[str, Any], field: str) -> None:
        case = make_case(educator, published=False)
        with pytest.raises(ApplicationError) as info:
            services.case_update(actor=educator, case=case, **facts)
        assert info.value.field == field

    def test_report_write_and_remove(self, educator: Any) -> None:
        case = make_case(educator, published=False)
        services.case_report_write(
            actor=educator, case=case, findings="  Clear lungs. ", impression="Normal."
        )
        assert ReferenceReport.objects.get(case=case).findings == "Clear lungs."
        with pytest.raises(ApplicationError, match="findings section"):
            services.case_report_write(actor=educator, case=case, findings="", impression="x")
        services.case_report_write(actor=educator, case=case, findings="")
        assert not ReferenceReport.objects.filter(case=case).exists()


class TestPublish:
    def test_needs_an_image_and_ground_truth(self, educator: Any) -> None:
        case = make_case(educator, published=False, with_truth=False, with_image=False)
        with pytest.raises(ApplicationError, match="image"):
            services.case_publish(actor=educator, case=case)
        add_image(educator, case)
        with pytest.raises(ApplicationError, match="ground truth"):
            services.case_publish(actor=educator, case=case)
        services.case_normal_set(actor=educator, case=case, is_normal=True)
        assert services.case_publish(actor=educator, case=case).status == CaseStatus.PUBLISHED

    def test_calls_hooks_inside_the_transaction(self, educator: Any) -> None:
        seen: list[int] = []

        def hook(case: Any) -> None:
            seen.append(case.pk)

        def failing(case: Any) -> None:
            raise RuntimeError("explainer down")

        case = make_case(educator, published=False)
        on_case_published(hook)
        try:
            services.case_publish(actor=educator, case=case)
            assert seen == [case.pk]
            services.case_unpublish(actor=educator, case=case)
            on_case_published(failing)
            with pytest.raises(RuntimeError):
                services.case_publish(actor=educator, case=case)
            case.refresh_from_db()
            assert case.status == CaseStatus.DRAFT
        finally:
            for registered in (hook, failing):
                if registered in _publish_hooks:
                    _publish_hooks.remove(registered)


class TestSets:
    def test_create_add_move_remove(self, educator: Any) -> None:
        cases = [make_case(educator, title=f"c{i}") for i in range(3)]
        case_set = make_set(educator, cases)
        order = lambda: [i.case.title for i in case_set.items.order_by("position")]  # noqa: E731
        assert order() == ["c0", "c1", "c2"]
        services.case_set_case_move(
            actor=educator, case_set=case_set, case_id=cases[2].pk, offset=-1
        )
        assert order() == ["c0", "c2", "c1"]
        services.case_set_case_move(
            actor=educator, case_set=case_set, case_id=cases[0].pk, offset=-1
        )
        assert order() == ["c0", "c2", "c1"]
        services.case_set_reorder(
            actor=educator, case_set=case_set, case_ids=[c.pk for c in reversed(cases)]
        )
        assert order() == ["c2", "c1", "c0"]
        with pytest.raises(ApplicationError):
            services.case_set_reorder(actor=educator, case_set=case_set, case_ids=[cases[0].pk])
        services.case_set_case_remove(actor=educator, case_set=case_set, case_id=cases[1].pk)
        assert order() == ["c2", "c0"]
        services.case_set_case_add(actor=educator, case_set=case_set, case=cases[1])
        services.case_set_case_add(actor=educator, case_set=case_set, case=cases[1])  # idempotent
        assert order() == ["c2", "c0", "c1"]

    def test_settings_validation(self, educator: Any) -> None:
        with pytest.raises(ApplicationError):
            services.case_set_create(actor=educator, name="x", iou_threshold=1.5)
        with pytest.raises(ApplicationError):
            services.case_set_create(actor=educator, name="x", mode="exam")

    def test_shared_sets(self, educator: Any, other_educator: Any, resident: Any) -> None:
        mine = make_case(educator)
        theirs = make_case(other_educator)
        private = make_set(educator, [mine], name="private")
        shared = make_set(educator, [mine], name="shared", shared=True)
        with pytest.raises(ApplicationError):
            services.case_set_case_add(actor=other_educator, case_set=private, case=theirs)
        services.case_set_case_add(actor=other_educator, case_set=shared, case=theirs)
        with pytest.raises(ApplicationError, match="own cases"):
            services.case_set_case_add(actor=other_educator, case_set=shared, case=mine)
        services.case_set_update(actor=other_educator, case_set=shared, description="edited")
        with pytest.raises(ApplicationError, match="owner"):
            services.case_set_update(actor=other_educator, case_set=shared, shared=False)
        with pytest.raises(ApplicationError):
            services.case_set_create(actor=resident, name="x")

    def test_assign_needs_both_set_and_cohort(
        self, educator: Any, other_educator: Any, cohort: Any, other_cohort: Any
    ) -> None:
        from datetime import UTC, datetime

        case_set = make_set(educator, [make_case(educator)])
        due = datetime(2027, 1, 1, tzinfo=UTC)
        assignment = services.case_set_assign(
            actor=educator, case_set=case_set, cohort=cohort, due_at=due
        )
        assert assignment.due_at == due
        services.case_set_assign(actor=educator, case_set=case_set, cohort=cohort, due_at=None)
        assignment.refresh_from_db()
        assert assignment.due_at is None
        with pytest.raises(ApplicationError, match="cohort"):
            services.case_set_assign(actor=educator, case_set=case_set, cohort=other_cohort)
        with pytest.raises(ApplicationError):
            services.case_set_assign(actor=other_educator, case_set=case_set, cohort=other_cohort)
        services.case_set_unassign(actor=educator, case_set=case_set, cohort=cohort)
        assert not case_set.assignments.exists()
