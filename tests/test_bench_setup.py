"""`make bench` on a fresh clone installs what every benchmark imports."""

from __future__ import annotations

import os
import subprocess
import tomllib

from corpus.config import REPO_ROOT


def _dry_run(target: str) -> str:
    """The commands `make` would run for `target` in a clone with nothing installed.

    Run as its own make, not a sub-make of `make test` (which would print its directory lines)."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    return subprocess.run(
        ["make", "-n", "-B", "--no-print-directory", target, "VENV=/nonexistent/venv"],
        cwd=REPO_ROOT, capture_output=True, text=True, check=True, env=env,
    ).stdout


def test_make_bench_installs_the_bench_extra_and_datatrove_in_its_own_venv():
    commands = _dry_run("bench")
    bench_extra = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["bench"]
    assert any(dep.startswith("rensa") for dep in bench_extra)  # bench/minhash.py imports rensa
    assert "/nonexistent/venv/bin/pip install -q -e '.[dev,bench]'" in commands
    assert "bench/.venv-datatrove/bin/pip install -q -r bench/datatrove-requirements.txt" in commands
    assert commands.rstrip().endswith("bench/minhash.py")  # after the installs: the benches that need them
    assert commands.index("bench/stages.py") > commands.index("pip install -q -e '.[dev,bench]'")
