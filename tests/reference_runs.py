"""Uninterrupted reference outputs for the resume and cluster tests.

A run's manifest names its run id and config hash, and both include the output
location, so an interrupted run can only be byte-compared with a reference
published at the same location. `reference_at` gives that: the units of one
uninterrupted serial run, finalized at the location under test, its published
bytes kept, the folder emptied again for the run being tested.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from corpus.config import RunConfig, load_config
from ray_jobs.pipeline import run
from corpus.layout import WORK


def copy_five_warcs(folder: Path, data_dir: Path) -> Path:
    """Five small real WARCs (one twice), so a run lasts long enough to interrupt."""
    shutil.copy(data_dir / "warc/dolma/sample-0000.warc.gz", folder / "dolma-copy.warc.gz")
    for rel in ("dolma/sample-0000.warc.gz", "resiliparse/clueweb-quirk.warc.gz", "resiliparse/warcfile.warc.gz",
                "ukwa/IAH-urls-wget.warc.gz"):  # fmt: skip
        shutil.copy(data_dir / "warc" / rel, folder / rel.replace("/", "-"))
    return folder


def five_warc_config(inputs: Path, out: Path) -> RunConfig:
    """The run of `copy_five_warcs`'s folder into `out`, default settings."""
    return load_config(None, {"input": [f"{inputs}/*.warc.gz"], "output": str(out), "ray.progress": False})


def reference_at(units_from: Path, cfg: RunConfig) -> dict[str, bytes]:
    """Published bytes of an uninterrupted run at `cfg.output`, built from `units_from`'s finished units."""
    out = Path(cfg.output)
    shutil.copytree(units_from / WORK, out / WORK, ignore=shutil.ignore_patterns("samples"))
    run(cfg, executor="serial")
    reference = published(out)
    shutil.rmtree(out)
    return reference


def published(out: Path) -> dict[str, bytes]:
    """What consumers read: every shard and the manifest, byte for byte."""
    files = sorted(out.glob("shards/**/*.parquet")) + [out / "manifest.json"]
    assert len(files) > 1, f"nothing published under {out}"
    return {str(p.relative_to(out)): p.read_bytes() for p in files}


def ledgers(out: Path) -> dict[str, int]:
    """Ledger entries by name with their modification times (a rewrite changes the time)."""
    return {p.name: p.stat().st_mtime_ns for p in (out / WORK / "units").glob("*.json")}
