"""Confidence on every flag: the mapping of scores, and what a scan stores."""

from __future__ import annotations

import math

import pytest

from qa.confidence import LISTEN_BELOW, asr_confidence, flag_confidence, scores_for, shown_severity


def test_asr_score_is_the_per_token_probability() -> None:
    assert asr_confidence(None) is None
    assert asr_confidence(0.0) == 1.0
    assert asr_confidence(-0.5) == pytest.approx(math.exp(-0.5))
    assert asr_confidence(0.3) == 1.0  # a positive logprob is noise, not more than certain


def test_the_audio_check_outweighs_the_transcript() -> None:
    # the free transcript is sure of the words, the phrase scored against the audio is not: listen
    conf, listen = flag_confidence(-0.05, 0.1)
    assert conf < LISTEN_BELOW and listen
    # a garbled transcript, but the phrase is clearly in the audio: a breach
    conf, listen = flag_confidence(-1.5, 0.95)
    assert conf >= LISTEN_BELOW and not listen
    # the audio doubted the phrase (its "no" is at most 0.49): a confident transcript does not make it sure
    conf, listen = flag_confidence(-0.05, 0.49)
    assert listen and conf == 0.49
    # no audio check: the ASR's score alone decides
    assert flag_confidence(-0.2, None) == (round(math.exp(-0.2), 3), False)
    assert flag_confidence(-1.2, None)[1] is True


def test_missing_phrase_flags_turn_the_audio_score_round() -> None:
    # "no opening line" while the decoder is sure the opening line is in the audio: unsure flag
    conf, listen = flag_confidence(-0.1, 0.9, absence=True)
    assert listen and conf < LISTEN_BELOW
    asr, verify, conf2, listen2 = scores_for("opening", -0.1, 0.9)
    assert asr == round(math.exp(-0.1), 3)
    assert verify == 0.9 and (conf2, listen2) == (conf, listen)  # stored as given, combined turned round


def test_event_flags_are_sure_and_severity_shown() -> None:
    assert scores_for("hangup", None, None) == (None, None, 1.0, False)
    assert scores_for("review", None, None)[3] is True  # an unreadable transcript: always listened to
    assert shown_severity("high", True) == "listen"
    assert shown_severity("high", False) == "high"
    assert shown_severity("high", True, "confirmed") == "high"  # a person listened: the verdict stands
