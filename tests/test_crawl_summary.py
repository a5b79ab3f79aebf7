"""The crawl's summary adds up every partition's work, whichever round it last ran in."""

from __future__ import annotations

from crawlers.crawl import CrawlReport
from ray_jobs.crawl import CrawlSummary, _record


def test_finished_total_counts_partitions_idle_in_the_last_round():
    summary = CrawlSummary(output="out", partitions=2)
    _record(summary, [CrawlReport(partition=0, archived=5, finished_total=9), CrawlReport(partition=1, finished_total=26)])
    _record(summary, [CrawlReport(partition=0, archived=1, finished_total=12, pending=2)])  # partition 1 had nothing to do
    assert summary.finished == 12 + 26 and summary.pending == 2 and summary.archived == 6
