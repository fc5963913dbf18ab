"""The wiring: `serve`, `demo`, the call log and the menu walk; the one package that knows the others.

Every other package offers plain functions and hooks; here they are put together: the IVR's
call store is given the transcription enqueue, the transcription workers are given QA's scan.
"""
