"""On Ray, each host is fetched by exactly one partition, and links move between partitions."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner
from warcio.archiveiterator import ArchiveIterator

from corpus.config import CrawlConfig, RayConfig
from corpus_cli.main import app
from crawlers.fetch import host_key
from ray_jobs.crawl import CrawlFailed, crawl, partition_of
from tests.crawl_site import LocalSite, crawl_config, html_page, korquad_articles, linked_sites, page

pytestmark = pytest.mark.timeout(120)


def _hosts_by_partition(summary):
    found: dict[str, set[str]] = {}
    for path in summary.warc_files:
        partition = path.rsplit("/", 1)[1].split("-")[1]
        with open(path, "rb") as handle:
            for record in ArchiveIterator(handle):
                if record.rec_type == "response":
                    found.setdefault(host_key(record.rec_headers["WARC-Target-URI"]), set()).add(partition)
    return found


@pytest.mark.ray
def test_each_host_is_fetched_by_one_partition_and_links_cross_over(ray_local, tmp_path, data_dir):
    sites = linked_sites(data_dir)
    try:
        cfg = crawl_config(partitions=2, domains=["127.0.0.1"], max_depth=5)
        summary = crawl(cfg, [sites[0].url("/")], str(tmp_path), ray_cfg=RayConfig(progress=False))
    finally:
        for site in sites:
            site.__exit__(None, None, None)
    owners = _hosts_by_partition(summary)
    assert set(owners) == {site.host for site in sites}  # reached every site from one seed
    for host, partitions in owners.items():
        assert partitions == {f"{partition_of(host, 2):05d}"}
    assert summary.archived == 8 and summary.rounds >= 2
    for site in sites:
        assert sorted(site.paths()) == ["/", "/a", "/robots.txt"]


def test_resume_with_another_partition_count_is_refused(tmp_path, data_dir):
    title, text = korquad_articles(data_dir, 1)[0]
    with LocalSite({"/": page(html_page(title, text))}) as site:
        summary = crawl(crawl_config(), [site.url("/")], str(tmp_path), executor="serial")
        assert summary.archived == 1
        with pytest.raises(CrawlFailed, match="1 partition"):
            crawl(crawl_config(partitions=3), [site.url("/")], str(tmp_path), executor="ray")


def test_cli_crawls_from_a_seeds_file_and_refuses_bad_networks(tmp_path, data_dir):
    title, text = korquad_articles(data_dir, 1)[0]
    runner = CliRunner()
    bad = runner.invoke(app, ["crawl", "--seeds", str(tmp_path), "--output", str(tmp_path), "--allow-network", "x"])
    assert bad.exit_code == 2
    with LocalSite({"/": page(html_page(title, text))}) as site:
        seeds = tmp_path / "seeds.txt"
        seeds.write_text(f"# Korean Wikipedia article\n{site.url('/')}\n\nnot a url\n")
        out = tmp_path / "out"
        result = runner.invoke(
            app, ["crawl", "--seeds", str(seeds), "--output", str(out), "--allow-network", "127.0.0.1/32", "--serial"]
        )
    assert result.exit_code == 0, result.output
    assert "crawl: 1 URLs" in result.stderr and "archived=1" in result.stderr  # the progress bar's last state
    assert "1 pages archived" in result.output and len(list((out / "warc").glob("*.warc.gz"))) == 1
    assert CrawlConfig().user_agent in "".join(hit.user_agent for hit in site.log)


@pytest.mark.ray
def test_a_failing_partition_ends_the_crawl_naming_it_and_keeps_the_others_work(ray_local, tmp_path, data_dir):
    (tmp_path / "_crawl/frontier-00001.jsonl").mkdir(parents=True)  # partition 1 cannot open its journal
    sites = linked_sites(data_dir)
    try:
        cfg = crawl_config(partitions=2, domains=["127.0.0.1"], max_depth=5)
        with pytest.raises(CrawlFailed, match=r"partition 1: IsADirectoryError.*frontier-00001") as failure:
            crawl(cfg, [site.url("/") for site in sites], str(tmp_path), ray_cfg=RayConfig(progress=False))
    finally:
        for site in sites:
            site.__exit__(None, None, None)
    assert "rerun to resume" in str(failure.value) and "partition 0" not in str(failure.value)
    kept = [p for p in (tmp_path / "warc").glob("*.warc.gz") if p.name.startswith("crawl-00000-")]
    assert kept and (tmp_path / "_crawl/frontier-00000.jsonl").stat().st_size > 0  # partition 0's work stays
