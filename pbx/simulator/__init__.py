"""A faithful Asterisk 20 stand-in: AMI over TCP, chan_sip channels, Async AGI, DTMF, Dial/Queue, MixMonitor.

Used by ``hotline demo``, ``hotline menu walk`` and the IVR tests::

    async with AsteriskSimulator(sounds_dir=..., monitor_dir=..., speed=10) as sim:
        call = sim.place_call(CallScript("x", presses=(Press(4.0, "2"),), agent=Agent(answer_after=3.0)))
        await call.done

Modules, each importing only those below it (tests/test_simulator.py checks it): ``server``
(listener, event fan-out, channels, lifecycle), ``session`` (one AMI TCP session),
``actions`` (AMI actions), ``manager`` (event categories, replies), ``originate``, ``call``
(a call's clock, scripted caller and hangup orders), ``dialplan`` (the dialplan and the Async
AGI loop), ``agi`` (AGI commands), ``apps``/``queue`` (Dial, Queue, small apps), ``legs``
(agent legs, bridges), ``recorder`` (MixMonitor WAVs), ``media`` (prompts, speech,
ringback), ``records`` (Cdr, AGI env), ``channel``, ``script``.

Fidelity: every recorded real-Asterisk session (tests/fixtures/asterisk) is replayed in
tests/test_sim_vs_trace.py and matches per channel event for event, field for field; and
tests/pbx/test_pbx_stream.py places the same calls on the real Asterisk 20 and here, live,
and compares the events the service acts on (its allowance table lists what differs).
Where the simulator knowingly differs from a real Asterisk 20 with chan_sip:
- No SIP or RTP: ``RTCPSent`` is never sent; RTP QoS VarSets are sent once, with fixed
  values, at the caller's BYE; BRIDGEPEER/BRIDGEPVTCALLID are set once per bridge (Asterisk
  repeats them). Peer registration events (PeerStatus, ChallengeSent, the agents'
  SuccessfulAuth) are never sent; the script's agent is always reachable.
- Application: CoreShowChannel shows the channel's last published snapshot, so after
  ``EXEC MixMonitor`` (or Dial, Queue) over Async AGI it names that application, not AGI,
  as the after-kill trace shows; AMI Status shows the application running now (AGI). A
  snapshot is published at the start of every application and on a state or caller-ID
  change (main/pbx_app.c pbx_exec, main/channel.c); other publishing Asterisk does
  (connected line, bridges) happens only while Dial/Queue run, when the two agree anyway.
- Timing: AGIExecStart follows the AGI response at once (Asterisk: 5-25 ms). With
  ``speed`` > 1 every wall millisecond a client takes is ``speed`` call milliseconds.
- The Cdr's position rotates between three places real traces show (it has no fixed one).
- Orders no trace shows are modelled on the C sources (caller hangs up while Dial or Queue
  rings, Queue ring timeouts, AMI Hangup while bridged) and say so where they are made.
- Dialplan: ``[hotline] <any> => Answer, AGI(agi:async), Hangup`` (``answer_first=False``:
  without Answer, as ../shared/asterisk20 runs it) and ``[agents] NNNN => Dial(SIP/agentNNNN,20)``
  only. Dial takes the first of ``&``-joined interfaces and reaches the script's
  agent for that interface (``CallScript.others``, else ``agent``); every Queue name exists
  and has one member, the script's ``agent`` (a real ringall queue rings every free member).
- Not implemented (an AGI command answers ``510`` and logs a warning; an AMI action
  answers ``Invalid/unknown command``): RECORD FILE, SAY ALPHA/DATE/TIME/PHONETIC, SEND/
  RECEIVE TEXT, SPEECH, GOSUB; AMI Command, ListCommands, QueueStatus, transfers, Park,
  regex Hangup. Originate: SIP-style channels and AGI only (no Local channels).
"""

from pbx.simulator.call import SimCall
from pbx.simulator.script import Agent, CallScript, Press, Say
from pbx.simulator.server import AsteriskSimulator

__all__ = ["Agent", "AsteriskSimulator", "CallScript", "Press", "Say", "SimCall"]
