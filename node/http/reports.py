"""The subject index and reports (issue #10): the JSON API and pages that come with
verifiable status and absence.

Reserved: issue #10 adds subject reports with completeness proofs and status proofs in
bundles; their routes go on ``router`` here (``/api/v1/index/...``, ``/api/v1/reports/...``
and the subject page ``/subject/...``), and ``create_app`` already includes it. Until then
the router has no routes, so those paths answer the app's JSON 404.
"""

from __future__ import annotations

from fastapi import APIRouter

__all__ = ["router"]

router = APIRouter(tags=["reports"])
