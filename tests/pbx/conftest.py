"""The real-PBX suite (marker ``pbx``): a real Asterisk 20, ``hotline serve``, SIPp callers and agents.

Once per session: Asterisk starts on free ports in a temporary folder (``start.sh`` from
``<repo>/../shared/asterisk20``), the prompts are rendered into its sounds folder, and
``hotline serve`` runs against it. Then every scenario call of ``pbx_plan`` and the 20
load calls run as ONE batch (they are independent, so the batch lasts as long as the
longest call); each test then asserts what ``hotline calls show --json`` recorded for its
call and what the MixMonitor files hold.

Without ``../shared/asterisk20`` (a fresh clone), SIPp, root (SIPp sends RTP from pcaps
through raw sockets), espeak-ng or sox, every test here is skipped with one reason.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pbx_batch import PHASES, Batch, Lab, Service, run_batch
from pbx_hotline import Hotline, Serve, write_config
from pbx_lab import AMI_SECRET, AmiTap, Asterisk, Ports, shared_dir

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SHARED = shared_dir(ROOT)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "pbx: runs against a real Asterisk 20 with SIPp callers (../shared/asterisk20)")


def _missing() -> str | None:
    """Why this machine cannot run the suite, or None."""
    if not (SHARED / "asterisk20" / "start.sh").exists():
        return f"real-PBX suite: {SHARED / 'asterisk20'} not found (the shared folder beside the repo)"
    needs = [t for t in ("sipp", "espeak-ng", "sox") if shutil.which(t) is None]
    if needs:
        return f"real-PBX suite: {', '.join(needs)} not installed (apt-get install sip-tester espeak-ng sox)"
    if os.geteuid() != 0:
        return "real-PBX suite: SIPp's play_pcap_audio sends RTP through raw sockets (run as root)"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    ours = [item for item in items if HERE in item.path.parents]
    reason = _missing() if ours else None
    if reason:
        for item in ours:
            item.add_marker(pytest.mark.skip(reason=reason))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if PHASES:
        terminalreporter.write_sep("-", "real-PBX suite: wall seconds per phase")
        for phase, seconds in PHASES.items():
            terminalreporter.write_line(f"{seconds:7.1f}  {phase}")


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """The real Asterisk on free ports, and an AMI tap logging every event to ami.log."""
    folder = tmp_path_factory.mktemp("pbx")
    t0 = time.monotonic()
    ast = Asterisk.start(SHARED, folder / "asterisk", Ports.pick())
    PHASES["Asterisk started"] = time.monotonic() - t0
    recordings = folder / "recordings"
    recordings.mkdir()
    try:
        tap = AmiTap(ast.ports.ami, folder / "ami.log")
    except OSError:
        ast.stop()
        raise
    try:
        yield Lab(ast, tap, folder, recordings)
    finally:
        tap.close()
        ast.stop()


@pytest.fixture(scope="session")
def service(lab: Lab) -> Iterator[Service]:
    """Prompts rendered into Asterisk's sounds folder, then ``hotline serve`` against it."""
    cfg = write_config(ROOT / "config.yaml", lab.folder / "config.yaml", ami_port=lab.asterisk.ports.ami,
                       sounds=lab.asterisk.sounds, recordings=lab.recordings, database=lab.folder / "hotline.db")
    hotline = Hotline(cfg, AMI_SECRET)
    t0 = time.monotonic()
    res = hotline.run("menu", "prompts")
    assert res.returncode == 0, f"hotline menu prompts failed:\n{res.stdout}\n{res.stderr}"
    PHASES["prompts rendered (hotline menu prompts)"] = time.monotonic() - t0
    t0 = time.monotonic()
    serve = Serve(hotline, lab.folder / "serve.log")
    try:
        serve.wait_ready()
        PHASES["hotline serve ready"] = time.monotonic() - t0
        yield Service(hotline, serve, lab.asterisk.sounds)
    finally:
        rc = serve.stop()
    assert rc == 0, f"hotline serve exited {rc} on SIGINT:\n{serve.text()[-2000:]}"


@pytest.fixture(scope="session")
def batch(lab: Lab, service: Service) -> Batch:
    """Every planned call, placed at once; the tests read what they left."""
    return run_batch(lab, service, SHARED / "asterisk20" / "mkpcap.py")
