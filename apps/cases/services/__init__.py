"""Case library writes. Every service takes the acting user and checks what they may change."""

from apps.accounts.permissions import can_edit_case, can_edit_case_set

from .boxes import MarkedBox, canonical_label, group_reader_boxes, parse_marked_boxes
from .cases import case_create, case_publish, case_unpublish, case_update
from .findings import (
    TruthFinding,
    case_boxes_set,
    case_normal_set,
    case_report_write,
    case_selected_set,
    case_truth_replace,
)
from .images import (
    case_image_add,
    case_image_move,
    case_image_projection_set,
    case_image_remove,
    case_image_replace,
    image_attest_phi_checked,
    image_read_ocr,
)
from .sets import (
    case_set_assign,
    case_set_case_add,
    case_set_case_move,
    case_set_case_remove,
    case_set_create,
    case_set_reorder,
    case_set_unassign,
    case_set_update,
)
from .uploads import INGEST_JOB, case_upload_start

__all__ = [
    "INGEST_JOB",
    "MarkedBox",
    "TruthFinding",
    "can_edit_case",
    "can_edit_case_set",
    "canonical_label",
    "case_boxes_set",
    "case_create",
    "case_image_add",
    "case_image_move",
    "case_image_projection_set",
    "case_image_remove",
    "case_image_replace",
    "case_normal_set",
    "case_publish",
    "case_report_write",
    "case_selected_set",
    "case_set_assign",
    "case_set_case_add",
    "case_set_case_move",
    "case_set_case_remove",
    "case_set_create",
    "case_set_reorder",
    "case_set_unassign",
    "case_set_update",
    "case_truth_replace",
    "case_unpublish",
    "case_update",
    "case_upload_start",
    "group_reader_boxes",
    "image_attest_phi_checked",
    "image_read_ocr",
    "parse_marked_boxes",
]
