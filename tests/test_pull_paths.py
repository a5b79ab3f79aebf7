"""A hostile manifest cannot make `corpus pull` or the reader touch files outside DEST or the run."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from corpus.pull import pull
from corpus.shards import iter_documents
from corpus.storage import open_storage
from corpus_cli.main import app
from tests.fake_runs import publish_fake_run

SECRET = b"a file outside the run that a hostile manifest points at\n"


def files_under(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if not p.is_dir()) if folder.exists() else []


@pytest.fixture
def layout(tmp_path):
    """src/run is the run, dest/pulled the destination; `escape.txt` beside both is where '../..' lands."""
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "escape.txt").write_bytes(SECRET)
    return tmp_path, tmp_path / "src" / "run", tmp_path / "dest" / "pulled"


def test_a_path_climbing_out_of_the_run_is_refused_and_nothing_is_read_or_written(layout):
    tmp, run, dest = layout
    publish_fake_run(str(run), {"shards/lang=ko/part-00000.parquet": SECRET}, paths=["../escape.txt"])
    answer = CliRunner().invoke(app, ["pull", str(run), str(dest), "--no-progress"])
    assert answer.exit_code == 1, answer.output
    assert "shards[0]" in answer.output and "'../escape.txt'" in answer.output
    assert not (tmp / "dest" / "escape.txt").exists(), "nothing written outside DEST"
    assert files_under(tmp / "dest") == []


@pytest.mark.parametrize(
    "path",
    ["../../escape.txt", "shards/../../../escape.txt", "ABSOLUTE", "shards\\..\\..\\x", "C:/x", "", "shards//x", "./x", "a\nb"],
)
def test_every_unsafe_path_form_is_refused_before_anything_is_fetched(layout, path):
    tmp, run, dest = layout
    if path == "ABSOLUTE":
        path = str(tmp / "absolute-target.txt")
    good = {"shards/lang=ko/part-00000.parquet": b"good", "shards/lang=ko/part-00001.parquet": SECRET}
    publish_fake_run(str(run), good, paths=["shards/lang=ko/part-00000.parquet", path])
    with pytest.raises(ValueError, match=r"shards\[1\]") as refused:
        pull(str(run), dest, progress=False)
    assert repr(path) in str(refused.value)
    assert files_under(tmp / "dest") == [], "a refused manifest writes nothing, not even its good files"
    assert not (tmp / "absolute-target.txt").exists() and files_under(tmp / "src") == sorted(
        ["escape.txt", "run/manifest.json", *(f"run/{rel}" for rel in good)]
    )


def test_a_path_listed_twice_is_refused(layout):
    _, run, dest = layout
    publish_fake_run(str(run), {"a.parquet": b"1", "b.parquet": b"2"}, paths=["a.parquet", "a.parquet"])
    with pytest.raises(ValueError, match="second time"):
        pull(str(run), dest, progress=False)


def test_a_symlink_in_dest_leading_outside_is_refused(layout):
    tmp, run, dest = layout
    publish_fake_run(str(run), {"shards/lang=ko/part-00000.parquet": b"shard"})
    outside = tmp / "elsewhere"
    outside.mkdir()
    dest.mkdir(parents=True)
    (dest / "shards").symlink_to(outside)
    answer = CliRunner().invoke(app, ["pull", str(run), str(dest), "--no-progress"])
    assert answer.exit_code == 1 and "outside" in answer.output, answer.output
    assert files_under(outside) == [] and not (dest / "manifest.json").exists()


def test_a_symlink_in_a_local_run_leading_outside_it_is_not_read(layout):
    tmp, run, dest = layout
    publish_fake_run(str(run), {"shards/lang=ko/part-00000.parquet": SECRET})
    shard = run / "shards/lang=ko/part-00000.parquet"
    shard.unlink()
    shard.symlink_to(tmp / "src" / "escape.txt")
    with pytest.raises(ValueError, match="outside the run"):
        pull(str(run), dest, progress=False)
    with pytest.raises(ValueError, match="outside the run"):
        list(iter_documents(str(run)))
    assert files_under(tmp / "dest") == []


def test_the_reader_refuses_a_manifest_path_outside_the_run(layout):
    _, run, _ = layout
    publish_fake_run(str(run), {"x.parquet": SECRET}, paths=["../escape.txt"])
    with pytest.raises(ValueError, match=r"shards\[0\].*'\.\./escape\.txt'"):
        list(iter_documents(str(run)))


def test_a_hostile_manifest_on_s3_writes_nothing_outside_dest(s3_bucket, tmp_path):
    run = f"{s3_bucket}/runs/hostile"
    key = "runs/hostile/../../escape.txt"
    open_storage(s3_bucket).write_bytes(key, SECRET)  # the object the climbing path names exists
    publish_fake_run(run, {"shards/lang=ko/part-00000.parquet": SECRET}, paths=["../../escape.txt"])
    dest = tmp_path / "a" / "b" / "dest"
    answer = CliRunner().invoke(app, ["pull", run, str(dest), "--no-progress"])
    assert answer.exit_code == 1, answer.output
    assert "shards[0]" in answer.output and "'../../escape.txt'" in answer.output
    assert files_under(tmp_path) == [], "nothing written inside or outside DEST"
