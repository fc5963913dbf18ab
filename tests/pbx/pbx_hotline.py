"""Hotline as the real-PBX tests drive it: only through its CLI, as subprocesses.

The suite never imports the service's packages (they are being moved between packages);
it writes a config, runs ``hotline menu prompts``, ``hotline serve`` and reads the call
log with ``hotline calls list/show --json``, as an operator would.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

SECRET_ENV = "HOTLINE_AMI_SECRET"  # config.yaml's ami.secret_env


def hotline_exe() -> str:
    """The ``hotline`` script of the virtualenv running pytest."""
    here = Path(sys.executable).parent / "hotline"
    return str(here) if here.exists() else (shutil.which("hotline") or "hotline")


def write_config(shipped: Path, dest: Path, *, ami_port: int, sounds: Path, recordings: Path,
                 database: Path) -> Path:
    """A copy of the shipped config.yaml pointed at the lab.

    The menus stay as shipped, plus ``#`` -> hangup on the entry menu: the shipped
    menus have no hangup option, and a route type no caller can reach is not tested."""
    yaml = YAML(typ="rt")
    data = yaml.load(shipped.read_text(encoding="utf-8"))
    ami = data["ami"]
    ami["host"], ami["port"], ami["username"] = "127.0.0.1", ami_port, "hotline"
    ami["secret"], ami["secret_env"] = "", SECRET_ENV  # the secret comes from the environment only
    data["database"]["url"] = f"sqlite:///{database}"
    data["recording"]["directory"] = str(recordings)
    data["recording"]["asterisk_directory"] = str(recordings)  # Asterisk and Hotline share the disk
    data["prompts"]["directory"] = str(sounds)
    entry = data["ivr"]["entry_menu"]
    data["ivr"].pop("schedule", None)  # business hours off: the cases call the entry menu at any hour
    data["menus"][entry]["options"]["#"] = {"action": "hangup"}
    with dest.open("w", encoding="utf-8") as fh:
        yaml.dump(data, fh)
    return dest


class Hotline:
    """Runs ``hotline`` commands against one config, with the AMI secret in the environment."""

    def __init__(self, config: Path, secret: str) -> None:
        self.config = config
        self.env = {**os.environ, SECRET_ENV: secret, "PYTHONUNBUFFERED": "1"}
        self.env.pop("HOTLINE_CONFIG", None)

    def run(self, *args: str, timeout: float = 120, nice: bool = False) -> subprocess.CompletedProcess[str]:
        cmd = [hotline_exe(), *args, "--config", str(self.config)]
        if nice:  # while calls run: stay out of the way of serve, Asterisk and SIPp
            cmd = ["nice", "-n", "10", *cmd]
        return subprocess.run(cmd, env=self.env, capture_output=True, text=True, timeout=timeout)

    def json(self, *args: str, nice: bool = False) -> Any:
        res = self.run(*args, "--json", nice=nice)
        if res.returncode != 0:
            raise RuntimeError(f"hotline {' '.join(args)} --json: exit {res.returncode}: {res.stderr.strip()}")
        return json.loads(res.stdout)

    def calls(self) -> list[dict[str, Any]]:
        return list(self.json("calls", "list", "--limit", "500"))

    def show(self, refs: list[str]) -> dict[str, dict[str, Any]]:
        """``calls show REF --json`` for each ref, two at a time (each is a Python start-up)."""
        with ThreadPoolExecutor(max_workers=2) as pool:
            return dict(zip(refs, pool.map(lambda ref: dict(self.json("calls", "show", ref)), refs), strict=True))

    def closed_call(self, ref: str, timeout: float = 30) -> dict[str, Any]:
        """``calls show REF --json`` once the row is closed and its recordings checked (the
        call store writes in its own process, so the row can land just after serve's log line)."""
        deadline = time.monotonic() + timeout
        while True:
            d = self.json("calls", "show", ref, nice=True)
            settled = d["ended_at"] is not None and all(r["status"] != "recording" for r in d["recordings"])
            if settled or time.monotonic() > deadline:
                return dict(d)
            time.sleep(1.0)


def by_number(rows: list[dict[str, Any]], numbers: set[str]) -> dict[str, dict[str, Any]]:
    """``calls list`` rows by caller number. The log shows only a caller's last four digits
    (PII), so the test numbers differ in those."""
    tails = {n[-4:]: n for n in numbers}
    assert len(tails) == len(numbers), "test caller numbers must differ in their last 4 digits"
    return {tails[r["caller"][-4:]]: r for r in rows if (r["caller"] or "")[-4:] in tails}


class Serve:
    """``hotline serve`` as a subprocess; its log (stderr) goes to a file tests can quote."""

    def __init__(self, hotline: Hotline, log: Path) -> None:
        self.log = log
        out = open(log, "wb")  # noqa: SIM115 -- lives as long as the process
        # A little ahead of other work on the machine (not as far as Asterisk): its replies
        # to AGI events decide when prompts start and whether a key lands in a menu.
        self.proc = subprocess.Popen(
            ["nice", "-n", "-5", hotline_exe(), "serve", "--config", str(hotline.config), "--no-transcribe"],
            env=hotline.env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
        out.close()

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "serving " in self.text():
                return
            if self.proc.poll() is not None:
                raise RuntimeError(f"hotline serve exited with {self.proc.returncode}:\n{self.text()[-3000:]}")
            time.sleep(0.2)
        raise RuntimeError(f"hotline serve not ready after {timeout:.0f}s:\n{self.text()[-3000:]}")

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""

    def ended(self) -> dict[str, str]:
        """Calls whose end serve has logged: the caller's last four digits (all the log shows
        of a number) -> the call's Uniqueid. Reading the log is free, where every ``hotline
        calls`` command is a Python start-up of a few CPU seconds."""
        found = re.findall(r"ivr\.service: call (\S+) \S*?(\d{4}) -> .* ended", self.text())
        return {tail: uniqueid for uniqueid, tail in found}

    def stop(self, timeout: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        return self.proc.returncode
