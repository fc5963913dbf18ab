"""config.yaml validation: the shipped file passes; each kind of mistake is one clear line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from settings import ConfigError, load_config

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = (ROOT / "config.yaml").read_text(encoding="utf-8")


def broken(tmp_path: Path, old: str, new: str) -> Path:
    assert old in SHIPPED, f"test fixture out of date: {old!r} not in config.yaml"
    path = tmp_path / "config.yaml"
    path.write_text(SHIPPED.replace(old, new, 1), encoding="utf-8")
    return path


def line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(needle)


def test_shipped_config_is_valid_and_complete() -> None:
    cfg = load_config(ROOT / "config.yaml")
    assert cfg.opening_line.startswith("您好")
    assert cfg.company in cfg.opening_line
    assert cfg.ivr.entry_menu in cfg.menus
    categories = {rule.category for rule in cfg.qa.phrases}
    assert categories == {"forbidden", "vague"}
    phrases = {p for rule in cfg.qa.phrases for p in rule.wordings()}
    assert {"我不能", "这不是我们的责任", "你找错部门了", "我们非常忙", "可能"} <= phrases
    assert all(rule.source for rule in cfg.qa.phrases), "every rule names its seed source"


def test_relative_paths_resolve_against_the_config_folder(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "config.yaml"
    path.parent.mkdir()
    path.write_text(SHIPPED, encoding="utf-8")
    cfg = load_config(path)
    assert cfg.path(cfg.recording.directory) == (path.parent / "var/recordings").resolve()
    assert cfg.database_url == f"sqlite:///{(path.parent / 'var/hotline.db').resolve()}"


def test_secret_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_AMI_SECRET", "from-env")
    assert load_config(ROOT / "config.yaml").ami.password == "from-env"


@pytest.mark.parametrize(
    ("old", "new", "needle", "expected"),
    [
        ("  port: 5038", "  port: [5038", "  username: hotline", "YAML syntax"),
        ("  port: 5038", "  prot: 5038", "  prot: 5038", "ami.prot: unknown field"),
        ("  port: 5038", "  port: many", "  port: many", "ami.port: Input should be a valid integer"),
        ("target: orders}", "target: order}", "target: order}", "menus.main.options.1.target: unknown menu 'order'"),
        ("'9': {action: repeat}", "'9': {action: repeat}\n      0: {action: hangup}", "options:",
         "digit '0' appears twice"),
        ("'9': {action: repeat}", "'x': {action: repeat}", "options:", "'x' is not a DTMF key"),
        ("'9': {action: repeat}", "'9': {action: queue}", "'9': {action: queue}", "action 'queue' needs a target"),
        ("entry_menu: main", "entry_menu: mian", "entry_menu: mian", "ivr.entry_menu: unknown menu 'mian'"),
        ("    timeout: 5\n", "    timeout: 500\n", "timeout: 500",
         "menus.main.timeout: Input should be less than or equal to 30"),
    ],
    ids=["yaml-syntax", "unknown-field", "bad-type", "unknown-target", "duplicate-digit", "bad-digit",
         "missing-target", "unknown-entry-menu", "out-of-range"],
)
def test_broken_config_names_file_line_and_field(
    tmp_path: Path, old: str, new: str, needle: str, expected: str
) -> None:
    path = broken(tmp_path, old, new)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"{path}:")
    assert expected in message
    if expected != "YAML syntax":
        assert message.startswith(f"{path}:{line_of(path, needle)}:"), message


def test_a_retired_key_still_loads_with_one_line_saying_to_remove_it(tmp_path: Path,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    path = broken(tmp_path, "    within_s: 15", "    within_s: 15\n    min_similarity: 0.6")
    assert load_config(path).qa.opening.within_s == 15
    [line] = [r.getMessage() for r in caplog.records if "min_similarity" in r.getMessage()]
    assert "no longer used" in line and "remove it" in line


def test_duplicate_quoted_digit_is_rejected(tmp_path: Path) -> None:
    path = broken(tmp_path, "'9': {action: repeat}", "'9': {action: repeat}\n      '0': {action: hangup}")
    with pytest.raises(ConfigError, match="duplicate key"):
        load_config(path)


def test_missing_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="pass --config PATH"):
        load_config(tmp_path / "nope.yaml")


def test_config_check_command_exit_codes(tmp_path: Path) -> None:
    ok = subprocess.run([sys.executable, "-m", "cli", "config", "check", str(ROOT / "config.yaml")],
                        capture_output=True, text=True, cwd=ROOT)
    assert ok.returncode == 0, ok.stderr
    assert "ok" in ok.stdout
    bad = broken(tmp_path, "target: orders}", "target: order}")
    res = subprocess.run([sys.executable, "-m", "cli", "config", "check", str(bad)],
                         capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 2
    errors = [line for line in res.stderr.splitlines() if ": error: " in line]  # warnings are listed too
    assert len(errors) == 1 and "unknown menu 'order'" in errors[0]


def test_asr_defaults_are_the_engines_measured_defaults() -> None:
    from settings import AsrSettings
    from transcribe.options import AsrOptions
    from transcribe.settings_map import asr_options

    assert asr_options(AsrSettings()) == AsrOptions()
    shipped = load_config(ROOT / "config.yaml").asr
    assert asr_options(shipped) == AsrOptions(), "config.yaml ships the measured settings"
