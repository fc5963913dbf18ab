"""`hotline recordings`: the command group. Its commands (purge, hold, redact) live in app/: deciding
what a recording is still needed for reads QA's flags and the transcription jobs, and redacting
reads transcripts, all above this package; cli.py puts them on this group."""

from __future__ import annotations

from cliutil import command_group

recordings_app = command_group("Call recordings on disk: retention, legal holds, redacted copies.")
