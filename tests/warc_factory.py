"""Small WARC files made in tests, for cases the shared data has no example of."""

from __future__ import annotations

import io
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter


def write_warc(
    path: Path, pages: list[tuple[str, bytes, str]], gzip: bool = True, extra_headers: dict | None = None
) -> Path:
    """pages: (url, body, content-type) response records with fixed dates."""
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=gzip)
    for i, (url, body, content_type) in enumerate(pages):
        http = StatusAndHeaders("200 OK", [("Content-Type", content_type)], protocol="HTTP/1.1")
        record = writer.create_warc_record(
            url,
            "response",
            payload=io.BytesIO(body),
            http_headers=http,
            warc_headers_dict={
                "WARC-Date": "2026-01-01T00:00:00Z",
                "WARC-Record-ID": f"<urn:test:{i}>",
                **(extra_headers or {}),
            },
        )
        writer.write_record(record)
    path.write_bytes(buffer.getvalue())
    return path


def article(text: str, title: str = "Article") -> bytes:
    paragraphs = "".join(f"<p>{p}</p>" for p in text.split("\n\n"))
    return f"<html><head><title>{title}</title></head><body><article>{paragraphs}</article></body></html>".encode()
