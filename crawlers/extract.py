"""Main text from HTML with trafilatura, plus the metadata trainers ask for."""

from __future__ import annotations

import ctypes
import logging
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

import trafilatura
from htmldate import find_date
from lxml.html import HtmlElement
from trafilatura.core import load_html
from trafilatura.metadata import examine_meta, extract_meta_json, extract_title, extract_url
from trafilatura.settings import Document, Extractor

from corpus.config import ExtractConfig


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
    """trafilatura's options (metadata always off there) and whether we add title and date."""

    options: Extractor
    metadata: bool


def make_extractor(cfg: ExtractConfig) -> ExtractSettings:
    """One settings object per worker, built from the run config."""
    # trafilatura logs every unusable page at ERROR; the read/extract stages count them instead.
    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
    options = Extractor(
        output_format="python",
        fast=cfg.fast,
        precision=cfg.favor_precision,
        recall=cfg.favor_recall,
        comments=cfg.include_comments,
        tables=cfg.include_tables,
        dedup=cfg.deduplicate,
    )
    return ExtractSettings(options=options, metadata=cfg.metadata)


def extract_main_text(
    html: str, url: str | None, settings: ExtractSettings, timeout_seconds: float | None = None
) -> Extraction | None:
    """The page's main text, title and date; None when trafilatura finds no content.

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
        document = trafilatura.bare_extraction(tree, url=url, options=options)
    if document is None or not document.text:
        return None
    return Extraction(text=document.text, title=title, date=date)


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
    long C call (a regex match, an lxml parse) finishes first."""

    POLL = 0.05

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
                    if time.clock_gettime(clock) >= deadline:
                        del self.deadlines[thread]
                        self.fired.add(thread)
                        _raise_in(thread, ExtractionTimeout)


_WATCHDOG = _Watchdog()


def _raise_in(thread_id: int, exc: type[BaseException] | None) -> None:
    """Schedule `exc` in another thread (None clears a scheduled one)."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), ctypes.py_object(exc) if exc else None)
