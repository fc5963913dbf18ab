"""A collect menu (settings.Collect): the caller keys in a number with the recording paused.

PCI practice (Amazon Connect and Twilio offer the same): card or account digits must not sit
in call recordings. Before the ``GET DATA`` that reads them, AMI ``MixMonitorMute`` silences
both directions (ivr/recpause.py), so neither the digits' tones nor a caller saying them aloud
is kept; after it, the recording resumes. The resume is sent however the entry ended (digits,
timeout, hangup, an error); when the caller has hung up there is nothing left to resume and
the call's end closes the pause on the timeline (ivr/timeline.py).

The digits themselves go nowhere: not in the menu step (its digit is empty), the prompt's
end event (its result shows as one ``*`` per digit), the call's path or a log line. What the
call keeps is a ``collected`` event: the entry's name, how many digits came and whether they
pass Luhn (a card number keyed wrong shows as such). The digits also leave the type-ahead
buffer, so none of them answers a later menu.

If the recording cannot be paused (AMI refused, link lost) the number is not asked for: the
caller goes the menu's fallback (a person). Asterisk's "Cannot set mute flag" means nothing
records the channel (its MixMonitor failed to start): nothing to protect, the entry goes on.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ivr.recpause import NOTHING_RECORDS, RECORDING_PAUSED, RECORDING_RESUMED, PauseError, mute_recording
from ivr.tables import PROMPT_END
from menus.prompts import menu_prompt_name, playback_name
from pbx import agi
from pbx.ami_errors import AmiError
from settings import Menu, Route

if TYPE_CHECKING:
    from ivr.session import CallSession

log = logging.getLogger("ivr.session")

COLLECTED = "collected"  # the CallEvent kind: {menu, name, digits (a count), luhn}
PAUSE_FAILED = "recording_pause_failed"
RESUME_FAILED = "recording_resume_failed"


def luhn_ok(digits: str) -> bool:
    """The Luhn check (ISO/IEC 7812) card numbers carry; False for anything not all digits."""
    if not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


async def read_number(call: CallSession, menu_id: str, menu: Menu) -> Route | None:
    """Run a collect menu: its ``next`` once enough digits came, its fallback after the tries or
    when the recording cannot be paused; None when the caller hung up."""
    spec = menu.collect
    assert spec is not None
    tries = 0
    while True:
        value = await _entry(call, menu_id, menu)
        if call.caller_left:
            call._step(menu_id, None, "hangup", None, typeahead=False)
            return None
        if value is None:
            call._step(menu_id, None, "fallback", menu.fallback, typeahead=False)
            return menu.fallback
        call._event(COLLECTED, menu=menu_id, name=spec.name, digits=len(value), luhn=luhn_ok(value))
        if len(value) >= spec.min_digits:
            call._step(menu_id, None, COLLECTED, spec.next, typeahead=False)
            return spec.next
        tries += 1
        outcome = "timeout" if not value else "invalid"
        if tries > menu.retries:
            call._step(menu_id, None, "fallback", menu.fallback, typeahead=False)
            return menu.fallback
        call._step(menu_id, None, outcome, None, typeahead=False)
        await call._play(outcome)
        if call.caller_left:
            return None


async def _entry(call: CallSession, menu_id: str, menu: Menu) -> str | None:
    """The digits keyed in ('' for none), read while the recording is paused; None: not asked
    because the recording could not be paused."""
    assert menu.collect is not None
    paused = await _mute(call, True, menu_id)
    if paused is None:
        return None
    name = menu_prompt_name(menu_id)
    value, last_key = "", None
    call.digits.start()
    try:
        call._prompt_started(name, "get_data")
        res = await call._cmd(agi.get_data(playback_name(call.config, name), int(menu.timeout * 1000),
                                           menu.collect.max_digits))
        value = res.digit or ""
        call._event(PROMPT_END, name=name, result="*" * len(value) if not res.hungup else res.result,
                    endpos=res.endpos)
        call.heard.append(name)
        if value:  # the key that ended the entry: '#' before the maximum, unless the wait ran out
            short = len(value) < menu.collect.max_digits and res.data != "timeout"
            last_key = "#" if short else value[-1]
    finally:
        # Its DTMFEnd may come after the result: owed, then dropped. None of the keys is type-ahead.
        call.digits.stop(last_key)
        call.digits.clear()
        if paused:
            await _mute(call, False, menu_id)
    return value


async def _mute(call: CallSession, on: bool, menu_id: str) -> bool | None:
    """Pause or resume the call's recording: True done, False nothing records the channel,
    None it failed (the cause is logged and kept on the call)."""
    via = f"collect {menu_id}"
    try:
        await mute_recording(call.agi.ami, call.channel, on)
    except PauseError as exc:
        if exc.reason == NOTHING_RECORDS:
            return False
        problem = str(exc)
    except (AmiError, OSError) as exc:
        problem = f"AMI: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
    else:
        call._event(RECORDING_PAUSED if on else RECORDING_RESUMED, by="ivr", via=via)
        return True
    if not on and (call.caller_left or call.agi_ended.is_set()):
        return None  # hung up while paused: the recording has ended, and the call's end closes the pause
    what = "pause" if on else "resume"
    call._event(PAUSE_FAILED if on else RESUME_FAILED, via=via, error=problem[:200])
    log.warning("call %s on %s: could not %s the recording for %s: %s%s", call.uniqueid, call.channel, what, via,
                problem, " (number not asked for: fallback)" if on else " (it stays silent to the end)")
    return None
