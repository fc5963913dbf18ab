"""Service-policy QA (POLICY.md): rules on transcripts and call events, flags, review.

The API other packages use:

- ``qa.scan.scan_call(session, config, call_id) -> list[Flag]``: every rule on a stored
  call; idempotent; run by the transcription worker after it saves a transcript.
- ``qa.scan.scan_text(config, text, speaker) -> list[Hit]``: the text rules on one
  utterance (``hotline qa scan``).
- ``qa.review.review(session, flag_id, reviewer, decision, note) -> Review``.
- Personal data is found and masked by ``transcribe.pii`` (below QA, so transcribe's own
  output can be masked too); ``qa.rules`` flags it and masks what reviewers see.

Modules: ``matcher`` (Aho-Corasick phrase rules; pinyin and fuzzy search are ``transcribe.phonetic``,
shared with the audio check), ``rules`` (the policy on one call, no database), ``scan`` (database
in and out), ``review``, ``views`` (what reviewers see), ``report``, ``evaluate`` (labelled-set
precision/recall, pinyin study), ``commands`` (``hotline qa``), ``web`` (the review page).
"""
