"""Ray workers import the project the driver imports, whatever folder the run starts from."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from filters.langid import DEFAULT_LID_MODEL
from tests.conftest import DEMO_WARC, REPO

PACKAGES = ("corpus", "corpus_cli", "crawlers", "dedup", "filters", "ray_jobs")


@pytest.mark.ray
@pytest.mark.timeout(420)
def test_a_run_started_beside_packages_of_the_same_names_uses_the_project(tmp_path):
    """`filters`, `dedup` and `corpus` are other projects' names too; a folder holding
    such packages, each failing on import, must not change what the run's workers import,
    nor where they are: a path relative to that folder means the same to them."""
    for name in PACKAGES:
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text(f"raise ImportError('decoy {name} imported from the working directory')\n")
    (tmp_path / "lid.ftz").symlink_to(DEFAULT_LID_MODEL)  # named relative to the folder: workers must still be in it
    corpus = Path(sys.executable).parent / "corpus"  # the installed entry point, as a user runs it
    env = {**os.environ, "PYTHONPATH": str(REPO)}  # the project under test, as if installed
    command = [str(corpus), "run", "--input", str(DEMO_WARC), "--output", "out", "--no-progress", "--set", "langid.model=lid.ftz",
               "--set", "quality.enabled=false", "--set", "pii.enabled=false", "--set", "dedup.enabled=false"]  # fmt: skip
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=400)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "decoy" not in done.stderr
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert {shard["lang"] for shard in manifest["shards"]} == {"en", "ko"}
    assert all((tmp_path / "out" / shard["path"]).is_file() for shard in manifest["shards"])
