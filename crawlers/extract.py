"""Main text from HTML with trafilatura, plus the metadata trainers ask for."""

from __future__ import annotations

import ctypes
import logging
import threading
import time
from contextlib import contextmanager
from copy import copy
from dataclasses import dataclass
from typing import Iterator

import trafilatura
from htmldate import find_date
from lxml.etree import XPath
from lxml.html import HtmlElement
from trafilatura.core import load_html
from trafilatura.metadata import examine_meta, extract_meta_json, extract_title, extract_url
from trafilatura.settings import Document, Extractor

from corpus.config import ExtractConfig
from corpus.excerpts import is_excerpt


@dataclass(slots=True)
class Extraction:
    text: str
    title: str | None
    date: str | None


class ExtractionTimeout(Exception):
    """trafilatura spent more than `extract.timeout_seconds` of CPU on one page."""

    def __str__(self) -> str:  # raised asynchronously, so without arguments
        return "extraction ran past extract.timeout_seconds of CPU"


@dataclass(slots=True)
class ExtractSettings:
    """trafilatura's options (metadata always off there), whether we add title and date,
    and, for `fast_then_full`, the full path's options (None: one path only)."""

    options: Extractor
    metadata: bool
    full_options: Extractor | None = None
    full_fallbacks: int = 0  # pages on which fast_then_full ran the full path


def make_extractor(cfg: ExtractConfig) -> ExtractSettings:
    """One settings object per worker, built from the run config."""
    # trafilatura logs every unusable page at ERROR; the read/extract stages count them instead.
    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
    options = Extractor(
        output_format="python",
        fast=cfg.mode != "full",
        precision=cfg.favor_precision,
        recall=cfg.favor_recall,
        comments=cfg.include_comments,
        tables=cfg.include_tables,
        dedup=cfg.deduplicate,
    )
    full_options = None
    if cfg.mode == "fast_then_full":
        full_options = copy(options)
        full_options.fast = False
    return ExtractSettings(options=options, metadata=cfg.metadata, full_options=full_options)


def extract_main_text(
    html: str, url: str | None, settings: ExtractSettings, timeout_seconds: float | None = None
) -> Extraction | None:
    """The page's main text, title and date; None when trafilatura finds no content.

    With `fast_then_full` settings the fast path runs first and the full path
    (readability/jusText comparison) only when its text looks incomplete.

    Raises ExtractionTimeout when the page takes more than `timeout_seconds` of
    CPU: some pages send trafilatura's heuristics or regexes into near-endless
    work, and one such page must not hold up the file it is in.
    """
    options = settings.options
    options.url = url
    with _cpu_deadline(timeout_seconds):
        tree = load_html(html)
        if tree is None:
            return None
        title, date = _title_and_date(tree, url, options.date_params) if settings.metadata else (None, None)
        text = _main_text(tree, url, options)  # bare_extraction works on a copy: the tree stays as parsed
        if settings.full_options is not None and _looks_incomplete(text, tree, options):
            settings.full_fallbacks += 1
            settings.full_options.url = url
            text = _main_text(tree, url, settings.full_options)
    if not text:
        return None
    return Extraction(text=text, title=title, date=date)


def _main_text(tree: HtmlElement, url: str | None, options: Extractor) -> str:
    document = trafilatura.bare_extraction(tree, url=url, options=options)
    return document.text if document is not None and document.text else ""


# Visible text of the page: every text node of the body outside scripts and styles.
_VISIBLE_TEXT = XPath("//body//text()[not(ancestor::script or ancestor::style or ancestor::noscript)]")
# The fast path's text is suspect above this share of the visible text (it took the
# whole page: its baseline rescue's dump, as on the Korean news page fast mode lost)...
DUMP_SHARE = 0.95
# ...or below this share (its own extractor found one small block of a long page).
SLIVER_SHARE = 0.05
# A page showing this many excerpts cut off with an ellipsis is a list page: the fast
# path keeps one excerpt, which reads as prose; the full path keeps them all, which
# the listing rule recognises.
LIST_PAGE_EXCERPTS = 2


def _looks_incomplete(text: str, tree: HtmlElement, options: Extractor) -> bool:
    """Whether the fast path's text is one the full path is likely to change.

    Chosen on 364 pages (5 shared WARCs and the evaluation set's pages as served,
    bench/RESULTS.md): the full path changed 8 of them. Fast text shorter than
    trafilatura's own `min_extracted_size` is where its fallbacks engage; a text
    that is nearly all the visible text is a dump of the whole page (boilerplate
    repeated on every page, what cost the Korean news page); a sliver of a long
    page is the extractor missing the article; excerpts cut off with an ellipsis
    are a blog's list or tag page, which only the full path's text shows as one.
    """
    if len(text) < options.min_extracted_size:
        return True
    nodes = [node.strip() for node in _VISIBLE_TEXT(tree)]
    visible = len(" ".join(" ".join(nodes).split()))
    if len(text) >= DUMP_SHARE * visible or len(text) < SLIVER_SHARE * visible:
        return True
    return sum(map(is_excerpt, nodes)) >= LIST_PAGE_EXCERPTS


def _title_and_date(tree: HtmlElement, url: str | None, date_params: dict) -> tuple[str | None, str | None]:
    """Title and date exactly as trafilatura's `extract_metadata` finds them (the
    same functions in the same order), without the author, site name, categories,
    tags and license it also works out: those are most of its cost, and no
    column keeps them."""
    found = examine_meta(tree)
    try:
        found = extract_meta_json(tree, found)
    except Exception:  # noqa: BLE001 - trafilatura's own call guards this the same way
        pass
    kept = Document.from_dict({"title": found.title or extract_title(tree)})
    kept.date = find_date(tree, **{**date_params, "url": found.url or extract_url(tree, url)})
    kept.clean_and_trim()  # trafilatura's last step: entities, spaces, length
    return kept.title, kept.date


@contextmanager
def _cpu_deadline(seconds: float | None) -> Iterator[None]:
    """Raise ExtractionTimeout in the block once this thread has used `seconds`
    of CPU in it (its own CPU clock, so a busy machine does not shorten the limit)."""
    if not seconds:
        yield
        return
    thread = threading.get_ident()
    clock = time.pthread_getcpuclockid(thread)
    _WATCHDOG.arm(thread, clock, time.clock_gettime(clock) + seconds)
    try:
        yield
    finally:
        _WATCHDOG.disarm(thread)


class _Watchdog:
    """One thread per process that checks the armed deadlines every `POLL`
    seconds and raises ExtractionTimeout asynchronously in a thread past its
    own: Ray runs actor calls outside the main thread, where signals cannot
    reach. The exception lands at the thread's next Python bytecode, so one
    long C call (a regex match, an lxml parse) finishes first. When that bytecode
    is a weakref or GC callback, Python prints the exception and swallows it, so
    the deadline stays armed and fires again every `REFIRE` CPU seconds until the
    block ends."""

    POLL = 0.05
    REFIRE = 0.2

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.deadlines: dict[int, tuple[int, float]] = {}
        self.fired: set[int] = set()
        self.thread: threading.Thread | None = None

    def arm(self, thread: int, clock: int, deadline: float) -> None:
        with self.lock:
            self.deadlines[thread] = (clock, deadline)
            if self.thread is None or not self.thread.is_alive():  # also after a fork
                self.thread = threading.Thread(target=self._watch, name="extract-watchdog", daemon=True)
                self.thread.start()

    def disarm(self, thread: int) -> None:
        with self.lock:
            self.deadlines.pop(thread, None)
            if thread in self.fired:  # fired as the block ended: drop it if not yet delivered
                self.fired.discard(thread)
                _raise_in(thread, None)

    def _watch(self) -> None:
        while True:
            time.sleep(self.POLL)
            with self.lock:
                for thread, (clock, deadline) in list(self.deadlines.items()):
                    used = time.clock_gettime(clock)
                    if used >= deadline:
                        self.deadlines[thread] = (clock, used + self.REFIRE)
                        self.fired.add(thread)
                        _raise_in(thread, ExtractionTimeout)


_WATCHDOG = _Watchdog()


def _raise_in(thread_id: int, exc: type[BaseException] | None) -> None:
    """Schedule `exc` in another thread (None clears a scheduled one)."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), ctypes.py_object(exc) if exc else None)
