"""The whole file: Config holds every section under its key and checks what spans sections
(routes resolve, a dialled number answers by one schedule).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, model_validator

from settings.base import FieldError, Strict, did_you_mean
from settings.menus import Extension, IvrSettings, Menu, Queue, route_target_problem
from settings.qa import QaSettings
from settings.schedules import Schedule
from settings.service import AmiSettings, DatabaseSettings, PromptSettings, RecordingSettings, database_url_in
from settings.transcription import AsrSettings, WorkersSettings


class Config(Strict):
    company: str
    opening_line: str
    ami: AmiSettings = AmiSettings()
    database: DatabaseSettings = DatabaseSettings()
    recording: RecordingSettings = RecordingSettings()
    prompts: PromptSettings = PromptSettings()
    ivr: IvrSettings = IvrSettings()
    queues: dict[str, Queue] = {}
    extensions: dict[str, Extension] = {}
    menus: Annotated[dict[str, Menu], Field(min_length=1)]
    schedules: dict[str, Schedule] = {}
    asr: AsrSettings = AsrSettings()
    workers: WorkersSettings = WorkersSettings()
    qa: QaSettings = QaSettings()
    source: Path | None = Field(default=None, exclude=True)  # the file this came from

    @model_validator(mode="after")
    def _routes_resolve(self) -> Config:
        if self.ivr.entry_menu not in self.menus:
            raise FieldError(("ivr", "entry_menu"), f"unknown menu '{self.ivr.entry_menu}'")
        if self.ivr.schedule is not None and self.ivr.schedule not in self.schedules:
            known = ", ".join(self.schedules) or "none"
            raise FieldError(("ivr", "schedule"), f"unknown schedule '{self.ivr.schedule}' (configured: {known})"
                              f"{did_you_mean(self.ivr.schedule, self.schedules)}")
        owner: dict[str, str] = {}
        for name, sched in self.schedules.items():
            for number in sched.numbers:
                if owner.setdefault(number, name) != name:
                    raise FieldError(("schedules", name, "numbers"), f"number {number} is also in schedule "
                                      f"{owner[number]} (a dialled number answers by one schedule)")
        for name, menu in self.menus.items():
            routes = [((*(), "fallback"), menu.fallback)]
            routes += [(("options", d), r) for d, r in menu.options.items()]
            routes += [(("collect", "next"), menu.collect.next)] if menu.collect else []
            for loc, route in routes:
                problem = route_target_problem(route.action, route.target, menus=self.menus, queues=self.queues,
                                               extensions=self.extensions)  # fmt: skip
                if problem:
                    raise FieldError(("menus", name, *loc, "target"), problem)
        return self

    def path(self, value: Path | str) -> Path:
        """A path from the config, made absolute against the config file's folder."""
        p = Path(value).expanduser()
        if p.is_absolute() or self.source is None:
            return p
        return (self.source.parent / p).resolve()

    @property
    def database_url(self) -> str:
        return database_url_in(self.database.url, self.source.parent if self.source else None)

