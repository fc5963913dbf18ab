"""Shared settings of the fuzzers (tests/test_fuzz_*.py): 10,000 inputs each, no deadline
(the machine is shared), no example database in the tree, derandomized so a run in CI is
the run here. Each fuzzer counts the inputs it ran and checks there were 10,000.

Inputs are cheap on purpose: Hypothesis costs about 1 ms of CPU per input here, and every
extra strategy draw adds to it, so each fuzzer draws one byte string and ``Tape`` turns it
into choices (which seed, which mutations, where to cut). Hypothesis still shrinks the
bytes, so a failure is reported small."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TypeVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.internal.conjecture import providers

# Hypothesis parses every local module with ast.parse to seed inputs with its constants. On
# Python 3.11 the AST constructor's recursion counter is shared by all threads (CPython
# gh-106905), and 3.11's traceback formatting parses too, so a service thread logging an error
# while a fuzzer ran ended whole pytest sessions in an INTERNALERROR ("AST constructor
# recursion depth mismatch"), 2 runs of about 15. Our fuzzers draw bytes and choose from them
# (Tape), so the constants add nothing: the scan is switched off.
providers._get_local_constants = lambda: providers._local_constants

EXAMPLES = 10_000

FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                suppress_health_check=list(HealthCheck))
TAPE = st.binary(max_size=48)

T = TypeVar("T")


class Tape:
    """Reads choices off the drawn bytes; past the end every choice is 0."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.i = 0

    def byte(self) -> int:
        b = self.data[self.i] if self.i < len(self.data) else 0
        self.i += 1
        return b

    def pick(self, items: Sequence[T]) -> T:
        return items[self.byte() % len(items)]

    def chunk(self, n: int) -> bytes:
        out = self.data[self.i:self.i + n]
        self.i += n
        return out

    def mutate(self, base: bytes) -> bytes:
        """Up to 4 edits from the tape: flip a byte, insert bytes, delete a run, truncate."""
        out = bytearray(base)
        for _ in range(self.byte() % 5):
            kind, pos = self.byte() % 4, (self.byte() << 8 | self.byte())
            i = pos % (len(out) + 1)
            if kind == 0 and i < len(out):
                out[i] = self.byte()
            elif kind == 1:
                out[i:i] = self.chunk(self.byte() % 6)
            elif kind == 2:
                del out[i:i + 1 + self.byte() % 8]
            elif kind == 3:
                del out[i:]
        return bytes(out)


def one_line(exc: BaseException) -> None:
    text = str(exc)
    assert text and "\n" not in text and "\r" not in text, repr(text)


class Clock:
    """Wall and CPU time of a fuzz run, printed with the input count (pytest -s shows it)."""

    def __enter__(self) -> Clock:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu

    def report(self, name: str, n: int) -> None:
        print(f"\nfuzz {name}: {n} inputs, {self.wall:.1f}s wall, {self.cpu:.1f}s CPU")
