"""A crawl partition's output kept in local scratch and published to object storage.

A Ray worker on a cluster has no folder the other nodes can read, so a crawl
aimed at `s3://` writes WARC and journal to the worker's scratch folder and
publishes them every `checkpoint_seconds`: the open WARC file is closed, every
closed file is uploaded once (objects are never rewritten) and deleted locally,
then a copy of the journal taken at that same moment, then
`_crawl/checkpoint-NNNNN.json` naming the WARC files the journal accounts for.
Uploads run on a background thread so fetching (and its timeouts) never waits
on them.

Resuming pulls the journal back, and any of the partition's WARC files that the
checkpoint does not name: a kill between a WARC upload and its journal leaves
pages archived but not journaled, and scanning those files marks them done, so
nothing published is fetched again. Pages written after the last checkpoint
were never published and are fetched again: at most `checkpoint_seconds` of work.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from corpus.layout import WARC_DIR, crawl_journal, crawl_state_file
from corpus.storage import Storage

log = logging.getLogger(__name__)


class OutputMirror:
    """Publishes one partition's scratch folder to `storage`; `pull` first, then `checkpoint`s, then `finish`."""

    def __init__(self, storage: Storage, scratch: Path, prefix: str, partition: int, every_seconds: float) -> None:
        self.storage, self.scratch, self.partition = storage, Path(scratch), partition
        self.every_seconds = every_seconds
        self.journal_name = crawl_journal(partition)
        self.checkpoint_name = crawl_state_file("checkpoint", partition)
        self.robots_name = crawl_state_file("robots", partition)
        self._warc_name = re.compile(rf"^{re.escape(prefix)}-{partition:05d}-(\d{{5,}})\.warc\.gz$")
        self.published: set[str] = set()
        self.sizes: dict[str, int] = {}  # files this mirror published
        self.first_sequence = 0
        self._pool = ThreadPoolExecutor(1, thread_name_prefix=f"publish-{partition}")
        self._pending: Future | None = None
        self._last = time.monotonic()

    def pull(self) -> None:
        """Bring back what a resumed partition needs: its journal and robots.txt rules,
        the WARC files published after the journal was, and the next free WARC sequence number."""
        names = (rel.rsplit("/", 1)[1] for rel in self.storage.list(f"{WARC_DIR}/"))
        self.published = {name for name in names if self._warc_name.match(name)}
        if self.published:
            self.first_sequence = 1 + max(int(self._warc_name.match(n).group(1)) for n in self.published)
        for name in (self.journal_name, self.robots_name):
            if self.storage.exists(name):
                self.storage.download_file(name, self.scratch / name)
        accounted = set()
        if self.storage.exists(self.checkpoint_name):
            accounted = set(json.loads(self.storage.read_bytes(self.checkpoint_name))["warc"])
        for name in sorted(self.published - accounted):
            self.storage.download_file(f"{WARC_DIR}/{name}", self.scratch / WARC_DIR / name)

    def due(self, now: float) -> bool:
        """Time for a checkpoint, and the last one has finished uploading."""
        return now - self._last >= self.every_seconds and (self._pending is None or self._pending.done())

    def checkpoint(self, now: float) -> str | None:
        """Publish the closed WARC files and the journal as they are now (call with no
        WARC file open). Returns why the previous checkpoint failed, if it did: what it
        could not upload is still here and goes up with this one."""
        failed = self._pending.exception() if self._pending is not None else None
        self._last = now
        self._pending = self._pool.submit(self._publish, *self._snapshot())
        return f"{type(failed).__name__}: {failed}" if failed else None

    def finish(self) -> list[str]:
        """Publish everything left (the crawl has closed its files); returns the URLs
        of all the partition's WARC files. Raises when the store refuses: the task
        fails, and its retry resumes from what was published."""
        if self._pending is not None:
            self._pending.exception()  # wait; whatever it missed goes up now
        self._pool.shutdown()
        self._publish(*self._snapshot())
        return [self.storage.url(f"{WARC_DIR}/{name}") for name in sorted(self.published)]

    def publish_file(self, name: str) -> None:
        """Upload one more file from the scratch folder under the same name."""
        self.storage.upload_file(name, self.scratch / name)

    def _snapshot(self) -> tuple[list[Path], Path | None]:
        warcs = sorted(p for p in (self.scratch / WARC_DIR).glob("*.warc.gz") if p.name not in self.published)
        journal = self.scratch / self.journal_name
        if not journal.exists():
            return warcs, None
        copy = journal.with_suffix(".published")
        shutil.copyfile(journal, copy)
        return warcs, copy

    def _publish(self, warcs: list[Path], journal: Path | None) -> None:
        for path in warcs:
            self.storage.upload_file(f"{WARC_DIR}/{path.name}", path)
            self.published.add(path.name)
            self.sizes[path.name] = path.stat().st_size
            path.unlink()
        if journal is not None:
            self.storage.upload_file(self.journal_name, journal)
        self.storage.write_bytes(self.checkpoint_name, json.dumps({"warc": sorted(self.published)}).encode())
        log.info("partition %d: %d WARC file(s) published", self.partition, len(self.published))
