"""The extraction stage: each page's raw body (the `payload` column) becomes its main text.

A page leaves as `empty_body`, `binary_body`, `extraction_timeout`,
`extraction_error` (both also recorded as errors, with the record) or
`empty_extraction`. The table that comes out has the document columns
(corpus/schema.py:RECORD_SCHEMA) and no longer the page's body, type or size.
"""

from __future__ import annotations

import pyarrow as pa

from corpus.config import ExtractConfig
from corpus.schema import RECORD_SCHEMA
from corpus.stats import Stats
from corpus.timestamps import date_array
from crawlers.decode import charset_from_content_type, decode_html, looks_binary
from crawlers.extract import Extraction, ExtractionTimeout, extract_main_text, make_extractor

PAYLOAD = "payload"


class ExtractStage:
    """Stage `extract`: trafilatura's settings made once per worker."""

    name = "extract"

    def __init__(self, cfg: ExtractConfig) -> None:
        self.cfg = cfg
        self.extractor = make_extractor(cfg)

    def apply(self, table: pa.Table, stats: Stats) -> tuple[pa.Table, pa.Array]:
        columns: dict[str, list] = {name: [] for name in ("charset", "title", "date", "text", "n_chars")}
        reasons: list[str | None] = []
        fallbacks_before = self.extractor.full_fallbacks
        for source, url, content_type, body in zip(
            table["source"].to_pylist(), table["url"].to_pylist(), table["content_type"].to_pylist(),
            table[PAYLOAD].to_pylist(),
        ):
            reason, charset, extraction = self._extract_one(source, url, content_type, body, stats)
            reasons.append(reason)
            columns["charset"].append(charset)
            columns["title"].append(extraction.title if extraction else None)
            columns["date"].append(extraction.date if extraction else None)
            columns["text"].append(extraction.text if extraction else None)
            columns["n_chars"].append(len(extraction.text) if extraction else 0)
        dates, unparsed = date_array(columns["date"])
        if unparsed:
            stats.bump("date_unparsed", unparsed)
        if fallbacks := self.extractor.full_fallbacks - fallbacks_before:
            stats.bump("extract_full_fallback", fallbacks)
        full = pa.table(
            {
                **{name: table[name] for name in ("id", "url", "domain", "fetch_time", "source")},
                "charset": pa.array(columns["charset"], pa.string()),
                "truncated": table["truncated"],
                "title": pa.array(columns["title"], pa.string()),
                "date": dates,
                "text": pa.array(columns["text"], pa.string()),
                "n_chars": pa.array(columns["n_chars"], pa.int64()),
            },
            schema=RECORD_SCHEMA,
        )
        return full, pa.array(reasons, pa.string())

    def _extract_one(
        self, source, url, content_type, body, stats: Stats
    ) -> tuple[str | None, str | None, Extraction | None]:
        if not body or looks_binary(body):
            return "binary_body" if body else "empty_body", None, None
        html, charset = decode_html(body, charset_from_content_type(content_type))
        try:
            extraction = extract_main_text(html, url, self.extractor, self.cfg.timeout_seconds)
        except ExtractionTimeout as exc:
            stats.error("extraction_timeout", source, str(exc))
            return "extraction_timeout", charset, None
        except Exception as exc:  # noqa: BLE001 - trafilatura/lxml fail in many ways on broken pages
            stats.error("extraction_error", source, f"{type(exc).__name__}: {exc}")
            return "extraction_error", charset, None
        if extraction is None or len(extraction.text.strip()) < self.cfg.min_chars:
            return "empty_extraction", charset, None
        return None, charset, extraction
