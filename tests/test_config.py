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


def _error(overrides=None, text=None, tmp_path=None) -> str:
    path = None
    if text is not None:
        path = tmp_path / "run.yaml"
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(ConfigError) as err:
        load_config(path, overrides)
    return str(err.value)


def test_a_misspelt_option_suggests_the_closest_one():
    message = _error({"read.max_payload_bytez": 10})
    assert "did you mean read.max_payload_bytes?" in message and "Extra inputs" not in message
    assert "did you mean input?" in _error({"inputs": ["a"]})


def test_a_bad_value_says_what_was_given_and_shows_an_example():
    message = _error({"shards.compression": "lz77"})
    assert "(got 'lz77')" in message and 'e.g. shards.compression: "zstd"' in message
    assert "errors.pydantic.dev" not in message


def test_a_section_given_a_value_says_it_is_a_section():
    message = _error({"read": 5})
    assert "read: is a section of options, got 5" in message and "e.g. read." in message


def test_sizes_accept_units():
    cfg = load_config(None, {"shards.target_bytes": "256MB", "read.max_payload_bytes": "1MiB"})
    assert cfg.shards.target_bytes == 256_000_000 and cfg.read.max_payload_bytes == 1024 * 1024
    assert cfg.model_dump(mode="json")["shards"]["target_bytes"] == 256_000_000
    assert "256MB" in _error({"shards.target_bytes": "lots"})


def test_a_bad_price_sheet_is_filed_under_prices_not_instance(tmp_path):
    message = _error({"cost.prices": str(tmp_path / "absent.yaml")})
    assert "cost.prices:" in message and "cost.instance" not in message


def test_a_language_the_model_cannot_produce_is_refused_with_a_suggestion():
    message = _error({"langid.languages": ["kr"]})
    assert "langid.languages" in message and "did you mean ko?" in message
    assert " en," in message  # the valid codes are listed
    assert "did you mean ja?" in _error({"langid.thresholds": {"jp": 0.5}})


def test_a_config_file_that_is_not_utf8_is_a_config_error(tmp_path):
    message = _error(text=b"langid:\n  languages: [\xff]\n", tmp_path=tmp_path)
    assert "not UTF-8" in message and "line 2" in message


def test_setting_a_field_inside_a_value_is_a_config_error():
    assert "read is already set to 5" in _error({"read": 5, "read.max_payload_bytes": 1})
