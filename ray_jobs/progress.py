"""What a run shows while it works: one display of our own, and Ray kept quiet.

Ray Data's own output is an INFO block every 10 s (thousands of lines an hour)
and a bar that counts input files as "rows"; a run shows instead one line with
its stage, files done, documents/s and MB/s read. `--verbose` brings Ray's
logging back (workers' output included), for debugging.
"""

from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from typing import Any, Iterator

# Loggers whose INFO and WARNING lines describe Ray's machinery, not the run.
RAY_LOGGERS = ("ray", "ray.data")


def quiet_ray(verbose: bool) -> None:
    """Ray's and Ray Data's terminal logging off (INFO when verbose); Ray Data's bars off.

    Their errors stay in Ray's log files (ray-data.log); this process reports a
    failure in one line of its own, so the terminal gets no stack traces."""
    import ray.data

    for name in RAY_LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO if verbose else logging.CRITICAL)
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False  # ours replaces them
    ctx.print_on_execution_start = verbose


class RunProgress:
    """Files done of the total, documents/s and MB/s read, for one stage of a run."""

    def __init__(self, enabled: bool, files: int, stage: str = "processing input files") -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.started, self.docs, self.bytes = time.monotonic(), 0, 0
        self.display = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("files · {task.fields[rate]}"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            disable=not enabled,
        )
        self.task = self.display.add_task(stage, total=files, rate="")

    def __enter__(self) -> "RunProgress":
        self.display.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.display.stop()

    def unit_done(self, docs: int, nbytes: int) -> None:
        """One input file finished, having read `docs` records of `nbytes` payload bytes."""
        self.docs, self.bytes = self.docs + docs, self.bytes + nbytes
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = f"{self.docs / elapsed:,.1f} documents/s · {self.bytes / elapsed / 1e6:,.2f} MB/s"
        self.display.update(self.task, advance=1, rate=rate)


@contextmanager
def stage(name: str, enabled: bool) -> Iterator[None]:
    """A stage without per-file progress (dedup, shards, report): its name and a spinner while it runs."""
    from rich.console import Console

    if not enabled:
        yield
        return
    with Console(stderr=True).status(name):
        yield


def unit_reads(entry: dict[str, Any]) -> tuple[int, int]:
    """Records read and payload bytes read by one unit, from its ledger entry."""
    stats = entry.get("stats", {})
    records = int(stats.get("counters", {}).get("records_read", 0))
    nbytes = sum(int(slot.get("bytes_in", 0)) for slot in stats.get("stages", {}).get("read", {}).values())
    return records, nbytes
