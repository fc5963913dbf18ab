"""Reports pages of the review app: period figures, rule health, charts and CSV export.

The figures themselves are computed in qa (qa/report.py, qa/health.py, qa/periods.py) so the
CLI and these pages show the same numbers; this module only reads the request and renders.
"""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
