"""`hotline demo` (and `menu walk`) never write to a config file they did not create (issue 16).

`hotline demo --workdir .` used to rewrite the admin's config.yaml (AMI port, secret_env, paths).
These run the real demo (simulator + service, one scripted call, no transcription) from a folder
holding an admin's config.yaml, and check the file byte for byte.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.demo import DEMO_MARK, DemoError, write_config

# What is checked here is files in the admin's folder. The demo's database work (the whole shipped demo,
# `hotline demo` in-process, in its own folder) and the service's call rows (what a walk writes) run on
# PostgreSQL in these modules: ~50 s of demos saved there.
pytestmark = pytest.mark.covered_on_postgres_by("tests/test_privacy_outputs.py", "tests/test_ivr_calls.py",
                                                reason="checks the admin's config file, not the database")

ROOT = Path(__file__).resolve().parent.parent
# An admin's own config: nulls (asr.model_dir), end-of-line comments, one more comment of theirs:
# everything the old rewrite changed.
MINE = (ROOT / "config.yaml").read_text(encoding="utf-8").replace("ami:\n", "# mine, do not touch\nami:\n", 1)


@pytest.fixture
def admin_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "hotline"
    folder.mkdir()
    (folder / "config.yaml").write_text(MINE, encoding="utf-8")
    return folder


def hotline(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`hotline ARGS` run from ``folder`` (its ./config.yaml the default, as for an admin in that folder)."""
    env = {k: v for k, v in os.environ.items() if k != "HOTLINE_CONFIG"} | {"COLUMNS": "200"}
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], cwd=folder, env=env, capture_output=True,
                          text=True, timeout=300)  # fmt: skip


def demo(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return hotline(folder, "demo", "--no-transcribe", "--calls", "1", "--speed", "8", *args)


def last_line(out: str) -> str:
    return [line for line in out.splitlines() if line.strip()][-1]


def test_demo_with_workdir_here_leaves_the_admins_config_byte_identical(admin_folder: Path) -> None:
    mine = admin_folder / "config.yaml"
    before, stamp = mine.read_bytes(), mine.stat().st_mtime_ns
    run = demo(admin_folder, "--workdir", ".")
    assert run.returncode == 0, run.stderr
    assert mine.read_bytes() == before and mine.stat().st_mtime_ns == stamp
    own = admin_folder / "hotline-demo" / "config.yaml"  # the demo works in a folder of its own beside it
    assert own.read_text(encoding="utf-8").startswith(DEMO_MARK)
    assert not (admin_folder / "hotline.db").exists() and not (admin_folder / "var").exists()
    assert last_line(run.stdout) == f"Browse them: hotline qa web --config {own}"
    # a second run reuses its own folder (its own config may be rewritten), still not the admin's
    again = demo(admin_folder, "--workdir", ".")
    assert again.returncode == 0, again.stderr
    assert mine.read_bytes() == before


def test_demo_temp_folder_is_removed_unless_kept(admin_folder: Path) -> None:
    before = (admin_folder / "config.yaml").read_bytes()
    kept = demo(admin_folder, "--keep")
    assert kept.returncode == 0, kept.stderr
    line = last_line(kept.stdout)
    assert line.startswith("Browse them: hotline qa web --config ")
    demo_config = Path(line.rsplit(" ", 1)[1])
    assert demo_config.is_file() and demo_config.parent != admin_folder
    gone = demo(admin_folder)
    assert gone.returncode == 0, gone.stderr
    line = last_line(gone.stdout)
    assert line.startswith("Removed ") and "`hotline demo --keep`" in line and "hotline qa web --config" in line
    assert not Path(line.split()[1].rstrip(";")).exists()
    assert (admin_folder / "config.yaml").read_bytes() == before


def test_write_config_refuses_a_config_it_did_not_write(admin_folder: Path) -> None:
    mine = admin_folder / "config.yaml"
    before = mine.read_bytes()
    with pytest.raises(DemoError, match="not written by the demo"):
        write_config(mine, admin_folder, port=5038)
    assert mine.read_bytes() == before


def test_menu_walk_with_workdir_here_leaves_the_admins_config_byte_identical(admin_folder: Path) -> None:
    mine = admin_folder / "config.yaml"
    before = mine.read_bytes()
    run = hotline(admin_folder, "menu", "walk", "--workdir", ".", "--speed", "16")
    assert run.returncode == 0, run.stdout + run.stderr
    assert mine.read_bytes() == before
    assert (admin_folder / "hotline-demo" / "config.yaml").read_text(encoding="utf-8").startswith(DEMO_MARK)
