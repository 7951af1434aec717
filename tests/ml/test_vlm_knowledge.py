from __future__ import annotations

from ml import taxonomy
from ml.config import MLConfig
from ml.vlm import ExplainRequest, get_explainer
from ml.vlm.knowledge import KnowledgeExplainer
from ml.vlm.text import first_sentences

IMAGE_LEFT_UPPER = (0.15, 0.15, 0.3, 0.3)  # image left half = patient's right on a frontal film
IMAGE_RIGHT_LOWER = (0.65, 0.6, 0.85, 0.78)


def explain(**fields: object) -> str:
    return KnowledgeExplainer().explain(ExplainRequest.from_dict(fields)).text


def test_the_default_explainer_is_the_knowledge_base() -> None:
    explainer = get_explainer(MLConfig())
    explanation = explainer.explain(ExplainRequest(label="Nodule", error="missed"))

    assert explainer.name == "knowledge"
    assert explanation.backend == "knowledge"
    assert explanation.model_id == "knowledge-base"
    assert explanation.prompt_version == "kb-3"
    assert explanation.fallback_reason is None


def test_a_box_on_the_image_left_of_a_pa_film_is_the_patients_right() -> None:
    text = explain(label="Nodule", error="missed", box=IMAGE_LEFT_UPPER, view="PA")

    assert text.startswith(
        "You missed a nodule in the right upper zone (the patient's right, on the left of the image)."
    )


def test_ap_films_use_the_patients_frame_too() -> None:
    text = explain(label="Nodule", error="missed", box=IMAGE_RIGHT_LOWER, view="AP")

    assert text.startswith(
        "You missed a nodule in the left lower zone (the patient's left, on the right of the image)."
    )


def test_a_lateral_film_has_no_side() -> None:
    text = explain(label="Effusion", error="reference", box=IMAGE_RIGHT_LOWER, view="LL")

    assert text.startswith("This film shows effusion in the lower zone on the lateral view.")
    assert "left" not in text.split(".")[0] and "right" not in text.split(".")[0]


def test_missed_finding_uses_the_taxonomy_description_and_the_report_sentence() -> None:
    text = explain(
        label="nodules",  # any synonym resolves to the canonical label
        error="missed",
        box=IMAGE_LEFT_UPPER,
        sentence="There is a 2 cm nodule in the right upper zone.",
    )
    description = taxonomy.get("Nodule").description

    assert text == (
        "You missed a nodule in the right upper zone (the patient's right, on the left of the image). "
        f"A nodule is {description[0].lower()}{description[1:].split('. ')[0].rstrip('.')}. "
        'The report reads: "There is a 2 cm nodule in the right upper zone."'
    )


def test_mislabelled_says_what_the_resident_called_it_and_what_it_is() -> None:
    text = explain(
        label="Mass",
        error="mislabelled",
        box=IMAGE_RIGHT_LOWER,
        marked_label="Nodule",
        marked_box=IMAGE_RIGHT_LOWER,
    )

    assert text.startswith(
        "You marked the right place in the left lower zone (the patient's left, on the right of the image), but you called "
        "it a nodule; it is a mass. Size separates them: a nodule is up to 3 cm across, a mass "
        "is larger."
    )


def test_false_positive_box_is_placed_from_the_residents_box() -> None:
    text = explain(
        label="Effusion",
        error="false_positive",
        marked_label="effusion",
        marked_box=IMAGE_LEFT_UPPER,
    )

    assert text.startswith(
        "You marked effusion in the right upper zone (the patient's right, on the left of the image), but the reference "
        "readers found no effusion there. Effusion is "
    )


def test_select_findings_have_no_location() -> None:
    missed = explain(label="Emphysema", error="missed")
    ticked = explain(label="Emphysema", error="false_positive", marked_label="Emphysema")

    assert missed.startswith("You did not mark emphysema, which is present on this film. ")
    assert ticked.startswith("You ticked emphysema, but the reference readers did not find it")


def test_midline_boxes_read_as_the_centre_of_the_chest() -> None:
    text = explain(label="Cardiomegaly", error="reference", box=(0.35, 0.4, 0.65, 0.75))

    assert text.startswith("This film shows cardiomegaly in the centre of the chest.")


def test_unknown_labels_and_views_still_get_an_answer() -> None:
    text = explain(label="Zebra sign", error="missed", box=IMAGE_LEFT_UPPER, view="OBLIQUE")

    assert text == "You missed zebra sign."


def test_explanations_without_case_context_are_deterministic() -> None:
    request = ExplainRequest(
        label="Pneumothorax",
        error="missed",
        box=(0.6, 0.1, 0.9, 0.35),
        sentence="Large left pneumothorax. Mediastinal shift to the right.",
    )
    explainer = KnowledgeExplainer()

    texts = [explanation.text for explanation in explainer.explain_many([request, request])]
    # Pneumothorax's description has two sentences; only the first is used.
    definition = first_sentences(taxonomy.get("Pneumothorax").description, 1)

    assert texts[0] == texts[1]
    assert texts[0] == (
        "You missed pneumothorax in the left upper zone (the patient's left, on the right of the image). "
        f"Pneumothorax is {definition[0].lower()}{definition[1:]} "
        'The report reads: "Large left pneumothorax. Mediastinal shift to the right."'
    )
