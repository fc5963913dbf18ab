"""Prompt audio for Asterisk: names, texts, rendering and staleness.

The IVR plays prompts by name: ``greeting`` (the mandated opening line), ``menu-<menu id>``
(each menu's prompt), and the fixed ``invalid``, ``timeout``, ``goodbye`` and ``transfer``
texts from ``config.prompts``. Each is a file ``<prompts.directory>/<name>.wav`` in the
format Asterisk plays without transcoding (8 kHz 16-bit mono PCM) and is played as
``<asterisk_prefix>/<name>``.

A prompt is spoken by espeak-ng (via pinyin, recordings/speech.py) unless the menu has
an admin's recording (``prompt_file``), which wins: it is copied when already in phone
format, else converted with sox. Beside every WAV a sidecar ``<name>.wav.sha256`` holds a
hash of what it was made from (the text and voice, or the admin file's bytes), so an
unchanged prompt is not rendered again and a changed one shows as *stale*.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from dataclasses import astuple, dataclass, replace
from pathlib import Path
from typing import Literal

from recordings.audio import AudioError, probe_wav
from recordings.speech import DEFAULT_VOICE, SpeechError, Voice, synthesize
from settings import Config

FIXED = ("invalid", "timeout", "goodbye", "transfer", "retry")
GREETING = "greeting"

Status = Literal["ok", "rendered", "missing", "stale", "error"]
Source = Literal["tts", "admin file"]


@dataclass(frozen=True)
class PromptStatus:
    """One prompt: its name, what it says, where its WAV is and whether that WAV is current."""

    name: str
    text: str
    file: Path
    status: Status
    source: Source = "tts"
    admin_file: Path | None = None  # the admin's recording this prompt is made from, if any
    detail: str = ""  # why status is "error" (or "missing" for a missing admin file)

    @property
    def playback(self) -> str:
        """What the IVR passes to Playback/STREAM FILE (no extension)."""
        return self.name

    def as_dict(self) -> dict[str, str | None]:
        return {
            "name": self.name, "text": self.text, "file": str(self.file), "status": self.status,
            "source": self.source, "admin_file": str(self.admin_file) if self.admin_file else None,
            "detail": self.detail,
        }  # fmt: skip


def menu_prompt_name(menu_id: str) -> str:
    return f"menu-{menu_id}"


def prompt_texts(config: Config) -> dict[str, str]:
    """Every prompt the IVR can play, name -> text, in the order a caller meets them."""
    texts = {GREETING: config.opening_line}
    for menu_id, menu in config.menus.items():
        texts[menu_prompt_name(menu_id)] = menu.prompt
    for name in FIXED:
        texts[name] = getattr(config.prompts, name)
    return texts


def prompt_dir(config: Config) -> Path:
    return config.path(config.prompts.directory)


def playback_name(config: Config, name: str) -> str:
    """``custom/menu-main``: the name Asterisk plays (prefix + prompt name)."""
    prefix = config.prompts.asterisk_prefix.strip("/")
    return f"{prefix}/{name}" if prefix else name


def _admin_files(config: Config) -> dict[str, Path]:
    return {
        menu_prompt_name(menu_id): config.path(menu.prompt_file)
        for menu_id, menu in config.menus.items()
        if menu.prompt_file is not None
    }


def _sidecar(wav: Path) -> Path:
    return wav.with_name(wav.name + ".sha256")


def _tts_hash(text: str, voice: Voice) -> str:
    # The voice is part of the key: new espeak settings make every prompt stale.
    return hashlib.sha256(repr(("tts", text, *astuple(voice))).encode()).hexdigest()


def _file_hash(path: Path) -> str:
    h = hashlib.sha256(b"admin file\0")
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 16), b""):
            h.update(block)
    return h.hexdigest()


def _wanted_hash(text: str, admin: Path | None, voice: Voice) -> str:
    """What the sidecar must hold for the WAV to be current; raises OSError for a missing admin file."""
    return _file_hash(admin) if admin is not None else _tts_hash(text, voice)


def _current(wav: Path, wanted: str) -> Status:
    if not wav.is_file():
        return "missing"
    try:
        recorded = _sidecar(wav).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return "stale"  # a WAV nobody can vouch for (copied in by hand, or an interrupted render)
    return "ok" if recorded == wanted else "stale"


def prompt_status(config: Config, voice: Voice = DEFAULT_VOICE) -> list[PromptStatus]:
    """Each prompt as ok / missing / stale (text, voice or admin file changed since it was rendered)."""
    out: list[PromptStatus] = []
    admin = _admin_files(config)
    directory = prompt_dir(config)
    for name, text in prompt_texts(config).items():
        wav = directory / f"{name}.wav"
        source: Source = "admin file" if name in admin else "tts"
        try:
            status = _current(wav, _wanted_hash(text, admin.get(name), voice))
            detail = ""
        except OSError as exc:
            status, detail = "missing", f"admin file {admin[name]}: {exc.strerror or exc}"
        out.append(PromptStatus(name, text, wav, status, source, admin.get(name), detail))
    return out


def render_prompts(config: Config, force: bool = False, voice: Voice = DEFAULT_VOICE) -> list[PromptStatus]:
    """Render every prompt that is missing or stale (all of them with ``force``).

    A prompt that cannot be made (espeak-ng missing, an admin file that is not audio)
    comes back with status "error" and a one-line detail; the others are still rendered.
    """
    directory = prompt_dir(config)
    directory.mkdir(parents=True, exist_ok=True)
    out: list[PromptStatus] = []
    for item in prompt_status(config, voice):
        if item.detail:  # the admin file is gone: keep whatever WAV exists, say so
            out.append(replace(item, status="error"))
            continue
        if item.status == "ok" and not force:
            out.append(item)
            continue
        try:
            wanted = _wanted_hash(item.text, item.admin_file, voice)
            if item.admin_file is not None:
                _install_admin_file(item.admin_file, item.file)
            else:
                _render_tts(item.text, item.file, voice)
            _write_atomic(_sidecar(item.file), (wanted + "\n").encode("ascii"))
        except (SpeechError, AudioError, OSError) as exc:
            out.append(replace(item, status="error", detail=str(exc)))
            continue
        out.append(replace(item, status="rendered"))
    return out


def _tmp_beside(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = _tmp_beside(path)
    with tmp.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _render_tts(text: str, wav: Path, voice: Voice) -> None:
    # Written beside and renamed, so Asterisk never plays a half-written prompt.
    tmp = _tmp_beside(wav).with_suffix(".wav")
    try:
        synthesize(text, tmp, voice)
        os.replace(tmp, wav)
    finally:
        tmp.unlink(missing_ok=True)


def _install_admin_file(src: Path, wav: Path) -> None:
    """Copy an admin's recording that is already 8 kHz 16-bit mono PCM, else convert it with sox."""
    tmp = _tmp_beside(wav).with_suffix(".wav")
    try:
        try:
            phone = probe_wav(src).is_phone_format
        except AudioError:
            phone = False  # not a WAV we read (mp3, ogg, ...): let sox try
        if phone:
            shutil.copyfile(src, tmp)
        else:
            if shutil.which("sox") is None:
                raise SpeechError("sox not found: run ./dev.sh setup (or: apt-get install sox)")
            done = subprocess.run(
                ["sox", str(src), "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", str(tmp)],
                capture_output=True, check=False, timeout=120,
            )  # fmt: skip
            if done.returncode != 0:
                lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
                raise AudioError(src, f"sox cannot convert it: {lines[-1] if lines else 'no message'}")
        probe_wav(tmp)  # what we hand Asterisk must at least be a readable WAV
        os.replace(tmp, wav)
    finally:
        tmp.unlink(missing_ok=True)
