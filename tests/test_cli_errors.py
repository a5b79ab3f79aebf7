"""What a person sees when they get the command wrong: exit 2, one clear line, no traceback."""

from __future__ import annotations

import re
import subprocess
import sys

import click
import pytest
import typer
from typer.testing import CliRunner

from corpus_cli.main import app
from tests.conftest import DEMO_WARC

RUN = ["run", "--input", str(DEMO_WARC), "--output", "out"]


def invoke(args: list[str]):
    return CliRunner().invoke(app, args)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--set", "langid.languages=[en"], "not valid YAML"),
        (["--set", "read=5", "--set", "read.max_payload_bytes=1"], "read is already set to 5"),
        (["--set", "langid.languages=[kr]"], "did you mean ko?"),
        (["--set", "read.max_payload_bytez=1"], "did you mean read.max_payload_bytes?"),
        (["--workers", "-1"], "--workers"),
    ],
)
def test_config_mistakes_exit_2_with_a_message(args, message):
    result = invoke([*RUN, *args])
    assert result.exit_code == 2, result.output
    assert message in result.stderr and "Traceback" not in result.stderr


def test_a_config_file_that_is_not_utf8_exits_2(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_bytes(b"langid:\n  languages: [\xff]\n")
    result = invoke(["run", str(path), "--input", str(DEMO_WARC), "--output", "out"])
    assert result.exit_code == 2 and "not UTF-8" in result.stderr


def test_bracketed_text_in_errors_is_printed(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("langid: [unclosed\n")
    result = invoke(["run", str(path), "--input", str(DEMO_WARC), "--output", "out"])
    assert result.exit_code == 2 and "langid: [unclosed" in result.stderr


def _commands(group: click.Group, prefix: tuple[str, ...] = ()):
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from _commands(command, (*prefix, name))
        else:
            yield (*prefix, name), command


@pytest.mark.parametrize(
    "path, command", [pytest.param(*pc, id=" ".join(pc[0])) for pc in _commands(typer.main.get_command(app))]
)
def test_every_option_help_is_shown_whole(path, command):
    """Brackets in help (`--set langid.languages=[ko]`) survive; nothing is eaten as markup."""
    shown = " ".join(invoke([*path, "--help"]).output.split())
    for param in command.params:
        if getattr(param, "help", None):
            assert " ".join(param.help.split()) in shown, (path, param.help)


def test_a_missing_input_is_refused_before_ray_starts():
    result = invoke(["run", "--input", "/nonexistent/a.warc.gz", "--input", str(DEMO_WARC), "--output", "out"])
    assert result.exit_code == 2
    assert "no input file matches /nonexistent/a.warc.gz" in result.stderr


@pytest.mark.slow
def test_ray_failing_to_start_is_a_failed_line_not_a_traceback(tmp_path):
    cmd = [sys.executable, "-m", "corpus_cli", "run", "--input", str(DEMO_WARC), "--output", str(tmp_path / "out"),
           "--no-progress", "--set", "ray.object_store_memory_mb=100000000"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr[-2000:]
    assert re.search(r"failed: could not start Ray", done.stderr) and "Traceback" not in done.stderr
