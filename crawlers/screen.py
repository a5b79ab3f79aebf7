"""A cheap language screen before trafilatura, the dominant per-page cost.

Tags are stripped with regular expressions (no DOM is built) and the worker's
already-loaded fastText LID model looks at the result. A page is dropped as
`screened_language` only when no wanted language gets even `min_score` and
the page does not declare a wanted language in `<html lang>`: boilerplate in
another language (menus, footers) rarely pushes a wanted language that low, so
the screen loses almost nothing the full pipeline would keep. bench/ and
tests/test_screen.py measure that loss on real pages.
"""

from __future__ import annotations

import html as htmllib
import re

import pyarrow as pa

from corpus.config import LangIdConfig, ScreenConfig
from corpus.stats import Stats
from crawlers.decode import charset_from_content_type, decode_html, looks_binary
from crawlers.extract_stage import PAYLOAD

REASON = "screened_language"
MIN_TEXT_CHARS = 100  # less text than this says nothing reliable about the page's language
MAX_HTML_CHARS = 400_000  # the screen reads at most this much of a page

_INVISIBLE = re.compile(r"<(script|style|noscript|template|svg)\b.*?</\1\s*>|<!--.*?-->", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")
_HTML_LANG = re.compile(r"<html\b[^>]*?\blang\s*=\s*[\"']?\s*([A-Za-z]{2,3})", re.IGNORECASE)


class LanguageScreen:
    """Stage `screen`: decides, before extraction, which pages cannot be in a wanted language."""

    name = "screen"

    def __init__(self, cfg: ScreenConfig, langid: LangIdConfig, model) -> None:
        self.cfg, self.model = cfg, model
        self.wanted = {f"__label__{lang}" for lang in langid.languages}
        self.wanted_codes = set(langid.languages)

    def apply(self, table: pa.Table, stats: Stats) -> tuple[pa.Table, pa.Array]:
        """The pages unchanged, and the drop reasons from their raw bodies (the `payload` column)."""
        return table, pa.array(self.decide(table, table[PAYLOAD].to_pylist()), pa.string())

    def decide(self, table: pa.Table, payloads: list[bytes | None]) -> list[str | None]:
        """Drop reason per page (None = extract it); `payloads` are the raw bodies in row order."""
        reasons: list[str | None] = [None] * len(payloads)
        texts, rows = [], []
        for row, (body, content_type) in enumerate(zip(payloads, table["content_type"].to_pylist())):
            text = self._text_to_screen(body, content_type)
            if text is not None:
                texts.append(text)
                rows.append(row)
        if texts:
            labels, probs = self.model.predict(texts, k=5)
            for row, row_labels, row_probs in zip(rows, labels, probs):
                best = max((p for lab, p in zip(row_labels, row_probs) if lab in self.wanted), default=0.0)
                if best < self.cfg.min_score:
                    reasons[row] = REASON
        return reasons

    def _text_to_screen(self, body: bytes | None, content_type: str | None) -> str | None:
        """Plain text of the page for the model, or None when the page must go on regardless."""
        if not body or looks_binary(body):
            return None  # extraction names these (empty_body, binary_body)
        page, _ = decode_html(body, charset_from_content_type(content_type))
        page = page[:MAX_HTML_CHARS]
        declared = _HTML_LANG.search(page[:4096])
        if declared and declared.group(1).lower() in self.wanted_codes:
            return None
        text = cheap_text(page)[: self.cfg.max_chars]
        return text if len(text) >= MIN_TEXT_CHARS else None


def cheap_text(page: str) -> str:
    """Visible text of an HTML page, roughly: no DOM, tags and scripts removed, one line."""
    text = _TAG.sub(" ", _INVISIBLE.sub(" ", page))
    return _SPACE.sub(" ", htmllib.unescape(text)).strip()
