"""A small Common Crawl layout built from ../shared/data, for index-selection tests.

The constructed WARC's records (one gzip member each, as Common Crawl writes
them) are split into two WARC files under `crawl-data/...`, and an index with
Common Crawl's columnar-index columns describes them: offsets and lengths as
warcio measures them, `content_languages` from the data set's own language
tags (ISO 639-3, as Common Crawl writes them).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pyarrow as pa
import pyarrow.parquet as pq
from warcio.archiveiterator import ArchiveIterator

from crawlers.cc_index import SELECTION_SCHEMA

CONSTRUCTED = Path("warc") / "constructed" / "aeb_and_korean_feeds.warc.gz"
ISO639_3 = {"en": "eng", "ko": "kor", "pt": "por", "ru": "rus", "de": "deu", "id": "ind", "ja": "jpn", "it": "ita", "lt": "lit"}
CRAWL = "crawl-data/CC-MAIN-2099-01/segments/1700000000000.0/warc"


@dataclass
class Layout:
    root: Path  # local folder holding crawl-data/...
    index: pa.Table  # SELECTION_SCHEMA rows, one per response record
    langs: dict[str, str]  # url -> two-letter language tag of the data set

    def write_parquet(self, path: Path, row_group_size: int = 32) -> Path:
        pq.write_table(self.index, path, row_group_size=row_group_size)
        return path

    def write_cdx(self, path: Path) -> Path:
        """The same index as CDX lines (`SURT TIMESTAMP {json}`)."""
        lines = []
        for row in self.index.to_pylist():
            fields = {
                "url": row["url"], "mime": row["content_mime_detected"], "mime-detected": row["content_mime_detected"],
                "status": str(row["fetch_status"]), "length": str(row["warc_record_length"]),
                "offset": str(row["warc_record_offset"]), "filename": row["warc_filename"],
            }
            if row["content_languages"]:
                fields["languages"] = row["content_languages"]
            lines.append(f"{row['url_host_name']})/ 20990101000000 {json.dumps(fields)}")
        path.write_text("\n".join(lines) + "\n")
        return path

    def files(self) -> list[Path]:
        return sorted(self.root.rglob("*.warc.gz"))


def build_layout(data_dir: Path, root: Path, n_files: int = 2) -> Layout:
    """Split the constructed WARC record by record into `n_files` WARC files plus their index."""
    members = _members(data_dir / CONSTRUCTED)
    tags = {e["uri"]: e["lang"] for e in json.loads((data_dir / CONSTRUCTED).with_name("aeb_and_korean_feeds.index.json").read_text())}
    rows = []
    (root / CRAWL).mkdir(parents=True, exist_ok=True)
    for part in range(n_files):
        name = f"{CRAWL}/CC-MAIN-2099-01-{part:05d}.warc.gz"
        chunk = members[part::n_files]
        offset = 0
        with open(root / name, "wb") as handle:
            for url, content_type, data in chunk:
                handle.write(data)
                if url is not None:
                    host = urlsplit(url).hostname or ""
                    rows.append({
                        "url": url, "url_host_name": host, "url_host_tld": host.rsplit(".", 1)[-1],
                        "content_languages": ISO639_3.get(tags.get(url, ""), None),
                        "content_mime_detected": content_type, "fetch_status": 200,
                        "warc_filename": name, "warc_record_offset": offset, "warc_record_length": len(data),
                    })
                offset += len(data)
    return Layout(root=root, index=pa.Table.from_pylist(rows, schema=SELECTION_SCHEMA), langs=tags)


def _members(path: Path) -> list[tuple[str | None, str, bytes]]:
    """(target URL or None for non-responses, MIME type, raw gzip member) of every record."""
    raw = path.read_bytes()
    out = []
    with open(path, "rb") as handle:
        iterator = ArchiveIterator(handle)
        for record in iterator:
            record.content_stream().read()
            url = record.rec_headers.get_header("WARC-Target-URI") if record.rec_type == "response" else None
            mime = (record.http_headers.get_header("Content-Type") or "").split(";")[0] if record.http_headers else ""
            entry = [url, mime, iterator.get_record_offset()]
            out.append(entry)
    bounds = [e[2] for e in out] + [len(raw)]
    return [(url, mime, raw[start:bounds[i + 1]]) for i, (url, mime, start) in enumerate(out)]
