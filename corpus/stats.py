"""Counting is part of the contract: every stage reports documents and bytes in,
out and dropped by reason, per language, and every error by kind.

A `Stats` object is built per work unit (one input file) in whichever process
runs it, serialised to plain JSON, and merged on the driver. Merging is a sum,
so the order in which units finish does not change the totals.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

UNKNOWN_LANG = "und"
MAX_ERROR_EXAMPLES = 5


def _lang_entry() -> dict[str, Any]:
    return {"docs_in": 0, "bytes_in": 0, "docs_out": 0, "bytes_out": 0, "dropped": {}}


class Stats:
    """Per-stage, per-language counters plus errors by kind and metered time."""

    def __init__(self) -> None:
        self.stages: dict[str, dict[str, dict[str, Any]]] = defaultdict(lambda: defaultdict(_lang_entry))
        self.errors: dict[str, dict[str, Any]] = {}
        self.time: dict[str, dict[str, float]] = defaultdict(lambda: {"cpu_seconds": 0.0, "wall_seconds": 0.0})
        self.counters: dict[str, int] = defaultdict(int)

    # --- recording -----------------------------------------------------------------
    def flow(self, stage: str, lang: str, docs_in: int, bytes_in: int, docs_out: int, bytes_out: int) -> None:
        entry = self.stages[stage][lang or UNKNOWN_LANG]
        entry["docs_in"] += docs_in
        entry["bytes_in"] += bytes_in
        entry["docs_out"] += docs_out
        entry["bytes_out"] += bytes_out

    def drop(self, stage: str, lang: str, reason: str, docs: int, n_bytes: int) -> None:
        dropped = self.stages[stage][lang or UNKNOWN_LANG]["dropped"]
        slot = dropped.setdefault(reason, {"docs": 0, "bytes": 0})
        slot["docs"] += docs
        slot["bytes"] += n_bytes

    def error(self, kind: str, where: str, message: str) -> None:
        """An input problem that cost us records or a whole file; counted, never raised."""
        slot = self.errors.setdefault(kind, {"count": 0, "examples": []})
        slot["count"] += 1
        if len(slot["examples"]) < MAX_ERROR_EXAMPLES:
            slot["examples"].append(f"{where}: {message}")

    def add_time(self, stage: str, cpu_seconds: float, wall_seconds: float) -> None:
        self.time[stage]["cpu_seconds"] += cpu_seconds
        self.time[stage]["wall_seconds"] += wall_seconds

    def bump(self, counter: str, by: int = 1) -> None:
        self.counters[counter] += by

    # --- reading -------------------------------------------------------------------
    def dropped_docs(self, stage: str, reason: str | None = None) -> int:
        total = 0
        for entry in self.stages.get(stage, {}).values():
            for name, slot in entry["dropped"].items():
                if reason is None or name == reason:
                    total += slot["docs"]
        return total

    def docs_out(self, stage: str, lang: str | None = None) -> int:
        return sum(
            entry["docs_out"]
            for key, entry in self.stages.get(stage, {}).items()
            if lang is None or key == lang
        )

    # --- (de)serialising and merging -----------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "stages": {
                stage: {lang: _sorted_entry(entry) for lang, entry in sorted(langs.items())}
                for stage, langs in self.stages.items()
            },
            "errors": {kind: self.errors[kind] for kind in sorted(self.errors)},
            "time": {stage: dict(v) for stage, v in self.time.items()},
            "counters": dict(sorted(self.counters.items())),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Stats":
        stats = cls()
        stats.merge_dict(data)
        return stats

    def merge(self, other: "Stats") -> None:
        self.merge_dict(other.to_dict())

    def merge_dict(self, data: dict[str, Any]) -> None:
        for stage, langs in data.get("stages", {}).items():
            for lang, entry in langs.items():
                self.flow(stage, lang, entry["docs_in"], entry["bytes_in"], entry["docs_out"], entry["bytes_out"])
                for reason, slot in entry.get("dropped", {}).items():
                    self.drop(stage, lang, reason, slot["docs"], slot["bytes"])
        for kind, slot in data.get("errors", {}).items():
            mine = self.errors.setdefault(kind, {"count": 0, "examples": []})
            mine["count"] += slot["count"]
            room = MAX_ERROR_EXAMPLES - len(mine["examples"])
            mine["examples"].extend(slot["examples"][: max(room, 0)])
        for stage, t in data.get("time", {}).items():
            self.add_time(stage, t["cpu_seconds"], t["wall_seconds"])
        for name, value in data.get("counters", {}).items():
            self.bump(name, value)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False, ensure_ascii=False)


def _sorted_entry(entry: dict[str, Any]) -> dict[str, Any]:
    out = {k: entry[k] for k in ("docs_in", "bytes_in", "docs_out", "bytes_out")}
    out["dropped"] = {reason: entry["dropped"][reason] for reason in sorted(entry["dropped"])}
    return out
