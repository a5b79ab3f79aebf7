"""A crawl aimed at s3:// publishes WARC and journal as it goes, and resumes from what it published.

The store is moto's server over HTTP (tests/s3_server.py); the sites are local
HTTP servers serving real Korean Wikipedia text.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter

import psutil
import pytest
import yaml
from warcio.archiveiterator import ArchiveIterator

from corpus.config import RayConfig
from corpus.storage import expand_inputs, open_input, open_storage
from crawlers.fetch import host_key
from ray_jobs.crawl import CrawlFailed, crawl, partition_of
from tests.conftest import REPO
from tests.crawl_site import LocalSite, crawl_config, linked_sites
from tests.test_crawl_resume import N_PAGES, _site

pytestmark = pytest.mark.timeout(120)


def _archived(prefix: str) -> Counter:
    """Response URLs in the WARC objects under `prefix`, counted."""
    urls = Counter()
    store = open_storage(prefix)
    for rel in store.list("warc/"):
        with open_input(store.url(rel)) as handle:
            for record in ArchiveIterator(handle):
                if record.rec_type == "response":
                    urls[record.rec_headers["WARC-Target-URI"]] += 1
    return urls


def test_crawl_to_s3_publishes_every_page_once_as_it_goes(s3_bucket, data_dir):
    output = f"{s3_bucket}/crawl"
    with LocalSite(_site(data_dir)) as site:
        summary = crawl(crawl_config(checkpoint_seconds=0), [site.url("/")], output, executor="serial")
    archived = _archived(output)
    assert set(archived) == {site.url("/"), *(site.url(f"/doc/{i}") for i in range(N_PAGES))}
    assert set(archived.values()) == {1}
    assert summary.archived == N_PAGES + 1 and summary.pending == 0
    assert sorted(summary.warc_files) == expand_inputs([f"{output}/warc/*.warc.gz"])
    assert len(summary.warc_files) > 1  # published in checkpoints, not in one piece at the end
    store = open_storage(output)
    state = store.list("_crawl/")
    assert {"_crawl/frontier-00000.jsonl", "_crawl/checkpoint-00000.json", "_crawl/report-00000.json"} <= set(state)
    checkpoint = json.loads(store.read_bytes("_crawl/checkpoint-00000.json"))
    assert sorted(f"{output}/warc/{name}" for name in checkpoint["warc"]) == sorted(summary.warc_files)
    usage = json.loads(store.read_bytes("_crawl/usage.json"))  # what runs over this WARC will carry
    assert sorted(usage["warc_bytes"]) == sorted(checkpoint["warc"]) and usage["sessions"][0]["pages_archived"] == N_PAGES + 1


@pytest.mark.slow
def test_killed_crawl_to_s3_resumes_without_fetching_what_was_published(s3_bucket, data_dir, tmp_path):
    output = f"{s3_bucket}/crawl"
    config = tmp_path / "crawl.json"
    config.write_text(crawl_config(delay_seconds=0.2, checkpoint_seconds=0).model_dump_json())
    script = (
        "import sys; from corpus.config import CrawlConfig; from ray_jobs.crawl import crawl; "
        "crawl(CrawlConfig.model_validate_json(open(sys.argv[1]).read()), [sys.argv[2]], sys.argv[3], executor='serial')"
    )
    with LocalSite(_site(data_dir)) as site:
        child = subprocess.Popen([sys.executable, "-c", script, str(config), site.url("/"), output], cwd=REPO)
        deadline = time.monotonic() + 60
        while len(_archived(output)) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
        published = _archived(output)
        before = Counter(site.paths())
        assert 3 <= len(published) < N_PAGES + 1  # killed mid-crawl, after some checkpoints
        summary = crawl(crawl_config(checkpoint_seconds=0), [site.url("/")], output, executor="serial")
        again = Counter(site.paths()) - before
    assert not any(again[p] for p in before if site.url(p) in published), again
    archived = _archived(output)
    assert set(archived) == {site.url("/"), *(site.url(f"/doc/{i}") for i in range(N_PAGES))}
    assert set(archived.values()) == {1}  # pages lost with the scratch folder were fetched again, once
    assert summary.pending == 0


def test_warc_published_after_the_journal_is_not_fetched_again(s3_bucket, data_dir):
    """A kill between a WARC upload and the journal's: the published WARC is the proof of fetching."""
    output = f"{s3_bucket}/crawl"
    store = open_storage(output)
    with LocalSite(_site(data_dir)) as site:
        crawl(crawl_config(max_pages=5), [site.url("/")], output, executor="serial")
        lines = store.read_bytes("_crawl/frontier-00000.jsonl").decode().splitlines()
        store.write_bytes("_crawl/frontier-00000.jsonl", "".join(x + "\n" for x in lines if '"f"' not in x).encode())
        store.write_bytes("_crawl/checkpoint-00000.json", b'{"warc": []}')
        first = Counter(site.paths())
        summary = crawl(crawl_config(), [site.url("/")], output, executor="serial")
    again = Counter(site.paths()) - first
    assert not any(again[p] for p in first if p != "/robots.txt")  # nothing fetched twice
    assert sum(again[p] for p in again if p.startswith("/doc/")) == N_PAGES - 4  # and the rest was crawled
    assert summary.stats.counters["resume_archived_not_journaled"] == 5
    assert set(_archived(output).values()) == {1}


def test_an_output_the_store_refuses_fails_clearly_before_fetching(s3_endpoint, data_dir):
    with LocalSite(_site(data_dir)) as site:
        with pytest.raises(CrawlFailed, match=r"s3://no-such-bucket-here/crawl: .*bucket does not exist.*rerun"):
            crawl(crawl_config(), [site.url("/")], "s3://no-such-bucket-here/crawl", executor="serial")
    assert site.paths() == []


@pytest.mark.ray
def test_cli_crawls_to_s3_on_ray_with_hosts_split_between_partitions(s3_bucket, data_dir, tmp_path):
    """`corpus crawl --output s3://...` in a fresh process: its Ray workers share no
    folder with it; everything they archive reaches the store."""
    output = f"{s3_bucket}/crawl"
    settings = crawl_config(partitions=2, domains=["127.0.0.1"], max_depth=5, checkpoint_seconds=0)
    config = tmp_path / "run.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "crawl": settings.model_dump(mode="json"),
                "ray": {"num_cpus": 2, "object_store_memory_mb": 256},
            }
        )
    )
    sites = linked_sites(data_dir)
    try:
        seeds = tmp_path / "seeds.txt"
        seeds.write_text(sites[0].url("/") + "\n")
        result = subprocess.run(
            [sys.executable, "-m", "corpus_cli", "crawl", str(config), "--seeds", str(seeds), "--output", output],
            cwd=REPO, capture_output=True, text=True, timeout=100,
        )
    finally:
        for site in sites:
            site.__exit__(None, None, None)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "8 pages archived" in result.stdout
    assert "crawl: 8 URLs" in result.stderr and "archived=8" in result.stderr  # progress over both partitions
    archived = _archived(output)
    assert set(archived) == {site.url(p) for site in sites for p in ("/", "/a")} and set(archived.values()) == {1}
    for uri in expand_inputs([f"{output}/warc/*.warc.gz"]):
        partition = int(uri.rsplit("/", 1)[1].split("-")[1])
        with open_input(uri) as handle:
            hosts = {host_key(r.rec_headers["WARC-Target-URI"]) for r in ArchiveIterator(handle) if r.rec_type == "response"}
        assert {partition_of(host, 2) for host in hosts} <= {partition}


@pytest.mark.ray
def test_a_crawl_worker_killed_mid_crawl_is_retried_and_each_page_is_published_once(ray_local, s3_bucket, data_dir):
    """The retried task starts on another worker with a fresh scratch folder: what the
    dead one published is pulled back, what it had not is fetched again."""
    output = f"{s3_bucket}/crawl"
    credentials = ["AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"]
    ray_cfg = RayConfig(progress=False, forward_env=credentials)  # the session's workers predate the server
    at_kill: dict[str, object] = {}

    def kill_the_crawler_once_it_has_published():
        deadline = time.monotonic() + 60
        while len(_archived(output)) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        for proc in psutil.Process().children(recursive=True):  # this session's Ray, not another worker's
            try:
                if "_crawl_task" in " ".join(proc.cmdline()):
                    proc.kill()
                    at_kill.update(published=set(_archived(output)), requests=Counter(site.paths()))
            except psutil.Error:
                continue

    with LocalSite(_site(data_dir)) as site:
        killer = threading.Thread(target=kill_the_crawler_once_it_has_published)
        killer.start()
        summary = crawl(crawl_config(partitions=2, delay_seconds=0.2, checkpoint_seconds=0), [site.url("/")], output,
                        ray_cfg=ray_cfg)
        killer.join()
    assert at_kill, "no crawl worker was found to kill"
    assert len(at_kill["published"]) < N_PAGES + 1  # killed mid-crawl
    again = Counter(site.paths()) - at_kill["requests"]
    assert not any(again[p] for p in at_kill["requests"] if site.url(p) in at_kill["published"]), again
    archived = _archived(output)
    assert set(archived) == {site.url("/"), *(site.url(f"/doc/{i}") for i in range(N_PAGES))}
    assert set(archived.values()) == {1} and summary.pending == 0
