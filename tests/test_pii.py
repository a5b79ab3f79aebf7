"""PII pseudonymisation: each kind found and replaced, keyed tokens, and no false positives on dates, prices, versions."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest

from corpus.config import PIIConfig
from corpus.stats import Stats
from filters import reference_text
from filters.pii import KINDS, PIIRedactor, build_redactor


@pytest.fixture(scope="module")
def redactor() -> PIIRedactor:
    return PIIRedactor(list(KINDS), key=b"test-key")


@pytest.mark.parametrize(
    "kind, value",
    [
        ("email", "hong.gildong@naver.com"),
        ("phone", "010-1234-5678"),
        ("phone", "02-123-4567"),
        ("phone", "070-1234-5678"),
        ("phone", "1588-1234"),
        ("phone", "+82 10-1234-5678"),
        ("phone", "+1 650-253-0000"),
        ("rrn", "900101-1234567"),
        ("rrn", "211015-3456789"),  # issued after October 2020: no checksum to check
        ("frn", "850505-6123456"),
        ("card", "4111 1111 1111 1111"),
        ("card", "5500-0000-0000-0004"),
        ("ip", "192.168.0.1"),
        ("ip", "2001:db8::1"),
    ],
)
def test_each_kind_is_found_and_replaced(redactor, kind, value):
    text, counts = redactor.redact(f"문의: {value} 로 연락 주세요.")
    assert value not in text
    assert counts[kind] == 1 and sum(counts.values()) == 1
    assert f"[{kind.upper()}_" in text


@pytest.mark.parametrize(
    "text",
    [
        "On 2024-05-01 at 12:30:45 the meeting started.",
        "가격은 15,000원이고 정가는 $1,234.56 입니다.",
        "Upgrade to version 1.2.3.4 or v10.0.0.1; Chrome 120.0.6099.109 is out.",
        "Pi is 3.14159 and the population was 51,780,579 in 2023.",
        "ISBN 978-3-16-148410-0, order number 1234567890123, date 20240501.",
        "1989년 2월 15일 여의도에서 12명 등 22명이 모였다.",
        "Card-like but fails Luhn: 4111 1111 1111 1112.",
    ],
)
def test_dates_prices_versions_and_numbers_are_left_alone(redactor, text):
    assert redactor.redact(text) == (text, {kind: 0 for kind in KINDS})


@pytest.mark.parametrize(
    "value, sentence",
    [("4111 1111 1111 1111", "Pay with {}."), ("4111-1111-1111-1111", "카드 {}. 감사합니다"), ("010-1234-5678", "번호는 {}.")],
)
def test_a_value_that_ends_a_sentence_is_replaced(redactor, value, sentence):
    text, counts = redactor.redact(sentence.format(value))
    assert sum(counts.values()) == 1 and value not in text and text.endswith((".", "감사합니다"))


def test_real_korean_prose_is_untouched(redactor, data_dir):
    paragraphs = reference_text.korquad_paragraphs(data_dir)[:200]
    changed = [p for p in paragraphs if redactor.redact(p)[0] != p]
    assert changed == []


def test_same_value_same_token_and_the_key_matters(redactor):
    first, _ = redactor.redact("a@example.com wrote to b@example.com and A@example.com")
    tokens = first.split()
    assert tokens[0] == tokens[-1] != tokens[3]
    other, _ = PIIRedactor(list(KINDS), key=b"another-key").redact("a@example.com")
    assert other.split()[0] != tokens[0]


def test_placeholder_mode_uses_fixed_labels():
    text, _ = PIIRedactor(list(KINDS), key=None).redact("mail a@example.com or call 010-1234-5678")
    assert text == "mail [EMAIL] or call [PHONE]"


def test_stage_adds_counts_column_updates_n_chars_and_bumps_stats(redactor):
    table = pa.table({"text": ["메일 a@example.com, 전화 010-1234-5678", "nothing here"], "n_chars": [0, 12]})
    stats = Stats()
    table, reasons = redactor.apply(table, stats)
    assert reasons is None
    assert table["pii"].to_pylist()[0] == {"email": 1, "rrn": 0, "frn": 0, "card": 0, "ip": 0, "phone": 1}
    assert table["n_chars"].to_pylist() == [len(t) for t in table["text"].to_pylist()]
    assert stats.counters["pii_email"] == 1 and stats.counters["pii_phone"] == 1


def test_key_comes_from_the_environment_named_in_config():
    cfg = PIIConfig(key_env="MY_PII_KEY")
    keyed = build_redactor(cfg, {"MY_PII_KEY": "secret"})
    assert keyed.key == b"secret"
    assert build_redactor(cfg, {}).key is None  # no key: placeholders, never an unkeyed hash
    assert build_redactor(PIIConfig(mode="placeholder", key="k"), {}).key is None


def test_only_configured_kinds_are_replaced():
    text, counts = PIIRedactor(["email"], key=None).redact("a@example.com 010-1234-5678")
    assert text == "[EMAIL] 010-1234-5678" and counts["phone"] == 0


FORMS = Path(__file__).resolve().parent.parent / "bench" / "pii_forms.jsonl"


@pytest.mark.parametrize(
    "kind, written, text",
    [
        ("rrn", "8012121234567", "주민번호 8012121234567 입니다."),
        ("rrn", "801212 1234567", "주민번호 801212 1234567 입니다."),
        ("rrn", "８０１２１２－１２３４５６７", "번호 ８０１２１２－１２３４５６７ 입니다."),
        ("email", "user@회사.한국", "새 주소 user@회사.한국 를 쓰세요."),
        ("phone", "０１０－１２３４－５６７８", "０１０－１２３４－５６７８"),
        ("email", "gildong@example.com", "자료는 gildong@example.com으로 보내 주세요."),
        ("email", "help@naver.com", "오류는 help@naver.com로 신고하세요."),
        ("ip", "2001:db8::1", "2001:db8::1로 접속"),
    ],
)
def test_forms_missed_before_are_replaced_and_the_particle_kept(redactor, kind, written, text):
    redacted, counts = redactor.redact(text)
    assert counts[kind] == 1 and sum(counts.values()) == 1
    before, after = text.split(written)
    assert redacted.startswith(before + f"[{kind.upper()}_") and redacted.endswith("]" + after)


def test_full_width_value_gets_the_token_of_its_ascii_form(redactor):
    wide, _ = redactor.redact("０１０－１２３４－５６７８")
    ascii_, _ = redactor.redact("010-1234-5678")
    assert wide == ascii_


@pytest.mark.parametrize("number", ["8013121234567", "8002301234567", "8012129234567", "801212 9234567"])
def test_registration_without_a_dash_needs_a_real_date_and_a_gender_digit_1_to_8(redactor, number):
    assert redactor.redact(f"번호 {number}")[1]["rrn"] == 0


def test_lookalikes_of_the_recall_set_are_untouched(redactor):
    lookalikes = [f for f in map(json.loads, FORMS.read_text(encoding="utf-8").splitlines()) if f["kind"] is None]
    assert len(lookalikes) >= 40
    assert [redactor.redact(f["text"])[0] for f in lookalikes] == [f["text"] for f in lookalikes]
