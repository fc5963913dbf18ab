"""The hooks that join the packages: what happens to a call after the IVR and after the ASR.

cli.py wires these at start-up, so the packages they call are imported when a hook first runs:
`hotline --help` must not load SQLAlchemy or pypinyin's tables (about a second).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from settings import Config


def after_call(session: Session, call_id: int) -> Any:
    """A closed call's recordings are ready: queue its transcription (the IVR call store's hook)."""
    from transcribe.jobs import enqueue_call

    return enqueue_call(session, call_id)


def after_call_distributed(session: Session, call_id: int) -> Any:
    """As after_call, with workers on other hosts (workers.engine: procrastinate): the job row and
    its Procrastinate task are written in the call store's one transaction."""
    from transcribe.procrastinate_app import enqueue_and_defer

    return enqueue_and_defer(session, call_id)


def after_transcript(session: Session, config: Config, call_id: int) -> list[Any]:
    """A transcript was stored: run every QA rule on the call (the transcription workers' hook)."""
    from qa.scan import scan_call

    return scan_call(session, config, call_id)
