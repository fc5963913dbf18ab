"""`hotline recordings`: the command group. Its commands (purge, hold) live in app/retention.py:
deciding what a recording is still needed for reads QA's flags and the transcription jobs,
which sit above this package; cli.py puts them on this group."""

from __future__ import annotations

from cliutil import command_group

recordings_app = command_group("Call recordings on disk: retention and legal holds.")
