"""A run config is validated before any work starts, and errors name the field."""

import pytest

from corpus.config import ConfigError, RunConfig, load_config


def test_every_option_has_a_default():
    cfg = load_config()
    assert cfg.langid.languages == ["en", "ko"]
    assert cfg.shards.compression == "zstd"


def test_yaml_and_overrides_merge(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("input: a.warc.gz\nlangid:\n  languages: [ko]\n  thresholds: {ko: 0.7}\n")
    cfg = load_config(path, {"output": "out", "langid.max_chars": 500})
    assert cfg.input == ["a.warc.gz"]
    assert cfg.langid.languages == ["ko"]
    assert cfg.langid.threshold("ko") == 0.7
    assert cfg.langid.max_chars == 500


@pytest.mark.parametrize(
    "text, field",
    [
        ("langid:\n  thresholds: {ko: 1.5}\n", "langid.thresholds"),
        ("shards:\n  target_bytes: -1\n", "shards.target_bytes"),
        ("read:\n  max_payload_bytez: 10\n", "read.max_payload_bytez"),
        ("shards:\n  compression: lz77\n", "shards.compression"),
    ],
)
def test_invalid_field_is_named(tmp_path, text, field):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert field in str(err.value)


def test_not_yaml_and_missing_file_are_config_errors(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("langid: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "absent.yaml")


def test_config_hash_ignores_where_ray_runs():
    a = RunConfig(input=["x"], output="o")
    b = RunConfig(input=["x"], output="o", ray={"num_cpus": 8})
    c = RunConfig(input=["x"], output="o", langid={"languages": ["ko"]})
    assert a.sha256() == b.sha256() != c.sha256()
