"""Values every page needs: the product name and the attribution of the bundled data."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

DATA_ATTRIBUTION = (
    "Demo studies: NIH ChestX-ray14, courtesy of the NIH Clinical Center (Wang et al., "
    "ChestX-ray8, IEEE CVPR 2017); Indiana University Chest X-ray Collection via Open-i (NLM), "
    "CC BY-NC-ND 4.0, non-commercial use only (Demner-Fushman et al., JAMIA 2016)."
)


def site(request: HttpRequest) -> dict[str, Any]:
    return {"SITE_NAME": "RadGame", "DATA_ATTRIBUTION": DATA_ATTRIBUTION}
