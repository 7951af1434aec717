"""Values every page needs: the product name and the data attribution."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

NIH_ATTRIBUTION = (
    "Chest radiographs and boxes: NIH ChestX-ray14, courtesy of the NIH Clinical Center "
    "(Wang et al., ChestX-ray8, IEEE CVPR 2017)."
)


def site(request: HttpRequest) -> dict[str, Any]:
    return {"SITE_NAME": "RadGame", "NIH_ATTRIBUTION": NIH_ATTRIBUTION}
