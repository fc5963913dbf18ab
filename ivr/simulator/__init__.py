"""A faithful Asterisk 20 stand-in: AMI over TCP, channels, Async AGI, DTMF, Dial/Queue, MixMonitor.

Used by ``hotline demo``, ``hotline menu walk`` and the IVR tests. See ``server.py`` for
the AMI side, ``call.py`` for a call's life, ``script.py`` for the scripted callers.
"""

from ivr.simulator.call import SimCall
from ivr.simulator.script import Agent, CallScript, Press, Say
from ivr.simulator.server import AsteriskSimulator

__all__ = ["Agent", "AsteriskSimulator", "CallScript", "Press", "Say", "SimCall"]
