"""The storage seam: a URI's scheme picks the backend, writes are whole, and no one else tests schemes.

The S3 side runs against moto's server over HTTP (tests/s3_server.py).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from corpus.storage import (
    SCHEMES,
    LocalStorage,
    UnknownScheme,
    expand_inputs,
    input_identity,
    is_local,
    local_path,
    open_input,
    open_storage,
    read_range,
)
from corpus.storage.atomic import atomic_file, write_atomic
from corpus.storage.s3 import S3Storage

REPO = Path(__file__).resolve().parent.parent
STORAGE_PACKAGE = REPO / "corpus" / "storage"


def project_files() -> list[Path]:
    """Every module of the project's packages (each top-level folder with an __init__.py, tests aside)."""
    packages = [p.parent for p in REPO.glob("*/__init__.py") if p.parent.name != "tests"]
    return sorted(f for package in packages for f in package.rglob("*.py"))


def scheme_tests(source: str, where: str) -> list[str]:
    """Where a module spells a scheme prefix (`s3://`, `file://`) by itself: a test of a URI's scheme, or a URI built by hand."""
    prefixes = {f"{scheme}://" for scheme in SCHEMES if scheme}
    return [
        f"{where}:{node.lineno}: {node.value!r}"
        for node in ast.walk(ast.parse(source, where))
        if isinstance(node, ast.Constant) and node.value in prefixes
    ]


def test_no_module_outside_the_storage_package_tests_a_uris_scheme():
    files = project_files()
    assert any(f.name == "pipeline.py" for f in files) and any(f.is_relative_to(STORAGE_PACKAGE) for f in files)
    outside = [
        hit
        for f in files
        if not f.is_relative_to(STORAGE_PACKAGE)
        for hit in scheme_tests(f.read_text(), str(f.relative_to(REPO)))
    ]
    assert outside == [], "ask corpus.storage (is_local, open_storage, open_input...) instead:\n" + "\n".join(outside)


def test_the_check_finds_a_scheme_test():
    """The check above is not vacuous: it sees `startswith("s3://")`, a tuple of prefixes included."""
    source = 'def f(uri):\n    return uri.startswith(("s3://", "/")) or uri.startswith("file://")\n'
    assert sorted(scheme_tests(source, "m.py")) == ["m.py:2: 'file://'", "m.py:2: 's3://'"]


def test_a_uris_scheme_picks_its_backend(tmp_path):
    assert isinstance(open_storage(str(tmp_path)), LocalStorage)
    assert open_storage(f"file://{tmp_path}/run").uri == str(tmp_path / "run")
    assert isinstance(open_storage("s3://bucket/runs/a"), S3Storage)
    assert is_local(str(tmp_path)) and is_local(f"file://{tmp_path}") and not is_local("s3://bucket/x")
    assert local_path(f"file://{tmp_path}/a") == tmp_path / "a"
    with pytest.raises(ValueError, match="not on this machine"):
        local_path("s3://bucket/x")


def test_an_unknown_scheme_is_refused_naming_the_ones_there_are():
    for call in (open_storage, open_input, input_identity, is_local, lambda uri: expand_inputs([uri])):
        with pytest.raises(UnknownScheme, match=r"gs://bucket/run: no storage is registered for gs:// URIs.*file://, s3://"):
            call("gs://bucket/run")


def test_file_uris_read_and_glob_like_paths(tmp_path):
    (tmp_path / "a.warc.gz").write_bytes(b"0123456789")
    (tmp_path / "b.txt").write_bytes(b"other")
    uri = f"file://{tmp_path}/a.warc.gz"
    assert expand_inputs([f"file://{tmp_path}/*.warc.gz"]) == [str(tmp_path / "a.warc.gz")]
    with open_input(uri) as stream:
        assert stream.read() == b"0123456789"
    assert input_identity(uri)["size"] == 10 and input_identity(f"file://{tmp_path}/gone")["size"] is None


def test_read_range_gives_the_same_bytes_locally_and_on_s3(s3_bucket, tmp_path):
    data = bytes(range(256)) * 40
    (tmp_path / "f.bin").write_bytes(data)
    open_storage(s3_bucket).write_bytes("f.bin", data)
    for uri in (str(tmp_path / "f.bin"), f"{s3_bucket}/f.bin"):
        assert read_range(uri, 1000, 1300) == data[1000:1300], uri
        assert read_range(uri, len(data) - 5, len(data) + 50) == data[-5:], uri
        with pytest.raises(FileNotFoundError):
            read_range(uri.replace("f.bin", "missing.bin"), 0, 10)


def test_an_atomic_write_replaces_whole_and_a_failed_one_leaves_the_old_file(tmp_path):
    target = tmp_path / "deep" / "stats.json"
    write_atomic(target, b"first")
    write_atomic(target, b"second")
    assert target.read_bytes() == b"second"
    with pytest.raises(RuntimeError), atomic_file(target) as tmp:
        tmp.write_bytes(b"half a fil")
        raise RuntimeError("killed mid-write")
    assert target.read_bytes() == b"second"
    assert sorted(p.name for p in target.parent.iterdir()) == ["stats.json"], "no temp file left behind"


def test_an_exclusive_atomic_write_refuses_an_existing_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / "manifest.json"
    write_atomic(target, b"mine", exclusive=True)
    with pytest.raises(FileExistsError):
        write_atomic(target, b"theirs", exclusive=True)
    assert target.read_bytes() == b"mine"
    assert [p.name for p in tmp_path.iterdir()] == ["manifest.json"]


def test_a_run_from_an_unknown_scheme_is_refused_before_any_work(tmp_path):
    from typer.testing import CliRunner

    from corpus_cli.main import app

    answer = CliRunner().invoke(app, ["run", "--input", "gs://bucket/a.warc.gz", "--output", str(tmp_path / "out")])
    assert answer.exit_code == 2, answer.output
    assert "no storage is registered for gs:// URIs" in answer.output
    assert not (tmp_path / "out").exists()
