"""Build `data/demo/demo.warc.gz`, the sample that `make demo` runs on.

Only sources whose licence allows redistribution go in (see ATTRIBUTION.md):
NSMC movie reviews (CC0) grouped into per-movie review pages, KLUE NLI premise
sentences (CC BY-SA 4.0) grouped into news-style articles, English pages under
CC BY-SA / CC BY (Wikipedia, Fandom, ebb.org, Mozilla and V8 blogs) and a
lorem-ipsum placeholder page from Mozilla Readability's test set, and the
Common Crawl whirlwind record of an Aragonese Wikipedia page.

The output is byte-for-byte reproducible: fixed dates, record ids derived from
URLs, records in a fixed order. It also carries the realities a pipeline must
survive: EUC-KR pages (declared in the HTTP header, or only in <meta>), an
exact duplicate, a mirrored near-duplicate, a 404, an image, a binary body
labelled text/html, and a truncated record.

Usage: python data/build_demo_warc.py [--shared ../shared/data] [--out data/demo/demo.warc.gz]
"""

from __future__ import annotations

import argparse
import gzip
import html
import io
import json
import uuid
from collections import defaultdict
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

DATE = "2026-11-01T00:00:00Z"
HTTP_DATE = "Sun, 01 Nov 2026 00:00:00 GMT"
REPO = Path(__file__).resolve().parent.parent

ENGLISH_PAGES = {
    "wikipedia": "https://en.wikipedia.org/wiki/Mozilla",
    "wikipedia-3": "https://en.wikipedia.org/wiki/Hermitian_matrix",
    "v8-blog": "https://v8.dev/blog/emscripten-standalone-wasm",
    "ebb-org": "http://ebb.org/bkuhn/blog/2019/10/15/fsf-rms.html",
    "wikia": "https://starwars.fandom.com/wiki/Star_Wars_anniversary",
    "firefox-nightly-blog": "https://blog.nightly.mozilla.org/2018/12/20/these-weeks-in-firefox-issue-50/",
    "dev418": "https://lorem.demo.example/placeholder",
}
KLUE_NEWS_SOURCES = ("wikinews", "wikitree", "policy", "wikipedia")
SENTENCES_PER_ARTICLE = 10
REVIEW_PAGES = 24
REVIEWS_PER_PAGE = 30


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=REPO / "data" / "demo" / "demo.warc.gz")
    args = parser.parse_args()
    pages = list(english_pages(args.shared)) + list(korean_articles(args.shared)) + list(review_pages(args.shared))
    pages += list(edge_cases(pages))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=True)
    _warcinfo(writer)
    for page in pages:
        _response(writer, **page)
    _copy_whirlwind(writer, args.shared / "warc" / "commoncrawl_whirlwind" / "whirlwind.warc.gz")
    args.out.write_bytes(buffer.getvalue())
    print(f"wrote {args.out} ({len(buffer.getvalue()) / 1e6:.2f} MB, {len(pages) + 1} responses)")


# --- sources ------------------------------------------------------------------------------
def english_pages(shared: Path):
    root = shared / "gold_extraction" / "mozilla_readability"
    for name, url in ENGLISH_PAGES.items():
        body = gzip.decompress((root / name / "source.html.gz").read_bytes())
        yield dict(url=url, body=body, content_type="text/html; charset=utf-8")


def korean_articles(shared: Path):
    """KLUE NLI premises are sentences from news, Wikipedia and policy briefings;
    ten consecutive unique premises of one source make one article page."""
    rows = json.loads(gzip.decompress((shared / "korean_text" / "klue" / "klue-nli-v1.1_dev.json.gz").read_bytes()))
    by_source: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        sentences = by_source[row["source"]]
        if row["source"] in KLUE_NEWS_SOURCES and row["premise"] not in sentences:
            sentences.append(row["premise"])
    n = 0
    for source in KLUE_NEWS_SOURCES:
        sentences = by_source[source]
        for start in range(0, len(sentences) - SENTENCES_PER_ARTICLE + 1, SENTENCES_PER_ARTICLE):
            chunk = sentences[start : start + SENTENCES_PER_ARTICLE]
            page = _news_html(chunk, source)
            url = f"https://news.demo.example/{source}/article/{start // SENTENCES_PER_ARTICLE:04d}"
            yield _encoded(url, page, style=n % 4)
            n += 1


def review_pages(shared: Path):
    """NSMC reviews of one movie on one page, as a review site would show them."""
    reviews: dict[str, list[dict]] = defaultdict(list)
    with gzip.open(shared / "korean_text" / "nsmc" / "nsmc_raw_reviews_sample.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            reviews[row["movie_id"]].append(row)
    movies = sorted((m for m, r in reviews.items() if len(r) >= REVIEWS_PER_PAGE), key=int)[:REVIEW_PAGES]
    for movie in movies:
        body = _reviews_html(movie, reviews[movie][:REVIEWS_PER_PAGE]).encode("utf-8")
        yield dict(url=f"https://movies.demo.example/movie/{movie}/reviews", body=body,
                   content_type="text/html; charset=UTF-8")


def edge_cases(pages: list[dict]):
    """Records every real crawl has: duplicates, errors, non-HTML, broken bodies."""
    first_ko = next(p for p in pages if "news.demo.example" in p["url"])
    yield dict(first_ko, url=first_ko["url"] + "?print=1")  # the same article at a second URL
    wiki = pages[0]
    mirror = wiki["body"].replace(b"<body", b"<body><div class='mirror-banner'>Mirrored from Wikipedia</div", 1)
    yield dict(url="https://wiki-mirror.demo.example/Mozilla", body=mirror, content_type="text/html; charset=utf-8")
    yield dict(url="https://news.demo.example/missing", body=b"<html><body>Not found</body></html>",
               content_type="text/html", status="404 Not Found")
    yield dict(url="https://news.demo.example/logo.png", body=b"\x89PNG\r\n\x1a\n" + bytes(200), content_type="image/png")
    yield dict(url="https://news.demo.example/download", body=bytes(range(256)) * 8, content_type="text/html")
    truncated = pages[1]["body"][: len(pages[1]["body"]) // 3]
    yield dict(url=pages[1]["url"] + "#truncated", body=truncated, content_type="text/html; charset=utf-8",
               truncated="length")


# --- HTML ---------------------------------------------------------------------------------
_KO_NAV = "<nav><ul><li><a href='/'>홈</a></li><li><a href='/politics'>정치</a></li><li><a href='/economy'>경제</a></li><li><a href='/society'>사회</a></li><li><a href='/culture'>문화</a></li><li><a href='/login'>로그인</a></li></ul></nav>"
_KO_FOOTER = "<footer><p>Copyright ⓒ 데모뉴스. 무단전재 및 재배포 금지.</p><p><a href='/privacy'>개인정보처리방침</a> | <a href='/terms'>이용약관</a></p></footer>"


def _news_html(sentences: list[str], source: str) -> str:
    title = html.escape(sentences[0][:40])
    paragraphs = "".join(f"<p>{html.escape(' '.join(sentences[i:i + 2]))}</p>" for i in range(0, len(sentences), 2))
    return (
        f"<!DOCTYPE html><html lang='ko'><head>{{META}}<title>{title} - 데모뉴스</title></head><body>"
        f"<header><h1 class='logo'>데모뉴스</h1>{_KO_NAV}</header>"
        f"<main><article><h2>{title}</h2><p class='byline'>{source} 기자 · 2026.11.01</p>{paragraphs}</article>"
        f"<aside><h3>많이 본 뉴스</h3><ol><li><a href='/a/1'>오늘의 날씨</a></li><li><a href='/a/2'>주요 뉴스</a></li></ol></aside></main>"
        f"{_KO_FOOTER}</body></html>"
    )


def _reviews_html(movie: str, reviews: list[dict]) -> str:
    items = "".join(
        f"<li class='review'><span class='score'>{r['rating']}</span><p>{html.escape(r['review'])}</p>"
        f"<span class='date'>{html.escape(r['date'])}</span></li>"
        for r in reviews
    )
    return (
        f"<!DOCTYPE html><html lang='ko'><head><meta charset='utf-8'><title>영화 {movie} 관람평</title></head><body>"
        f"<header><h1>데모 영화</h1><nav><a href='/'>홈</a> <a href='/now'>현재상영작</a> <a href='/login'>로그인</a></nav></header>"
        f"<main><h2>관람객 평점과 리뷰</h2><ul class='reviews'>{items}</ul></main>"
        f"<footer>리뷰는 관람객이 작성한 것이며 데모 영화의 의견과 다를 수 있습니다.</footer></body></html>"
    )


def _encoded(url: str, page: str, style: int) -> dict:
    """Korean pages as Korean sites serve them: half UTF-8, half EUC-KR (really
    CP949), declared either in the HTTP header or only in <meta>."""
    if style in (0, 1):
        return dict(url=url, body=page.replace("{META}", "<meta charset='utf-8'>").encode("utf-8"),
                    content_type="text/html; charset=utf-8")
    meta = "<meta http-equiv='Content-Type' content='text/html; charset=euc-kr'>"
    body = page.replace("{META}", meta).encode("cp949", errors="xmlcharrefreplace")
    header = "text/html; charset=EUC-KR" if style == 2 else "text/html"
    return dict(url=url, body=body, content_type=header)


# --- WARC ---------------------------------------------------------------------------------
def _record_id(key: str) -> str:
    return f"<urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, key)}>"


def _warcinfo(writer: WARCWriter) -> None:
    info = {"software": "corpus-builder data/build_demo_warc.py", "format": "WARC File Format 1.1",
            "description": "corpus-builder demo sample; sources and licences in ATTRIBUTION.md"}
    record = writer.create_warcinfo_record("demo.warc.gz", info)
    record.rec_headers.replace_header("WARC-Date", DATE)
    record.rec_headers.replace_header("WARC-Record-ID", _record_id("warcinfo"))
    writer.write_record(record)


def _response(writer: WARCWriter, url: str, body: bytes, content_type: str,
              status: str = "200 OK", truncated: str | None = None) -> None:
    http = StatusAndHeaders(status, [("Content-Type", content_type), ("Content-Length", str(len(body))),
                                     ("Date", HTTP_DATE)], protocol="HTTP/1.1")
    headers = {"WARC-Date": DATE, "WARC-Record-ID": _record_id(url)}
    if truncated:
        headers["WARC-Truncated"] = truncated
    record = writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http,
                                       warc_headers_dict=headers)
    writer.write_record(record)


def _copy_whirlwind(writer: WARCWriter, path: Path) -> None:
    with path.open("rb") as f:
        for record in ArchiveIterator(f):
            if record.rec_type == "response":
                body = record.content_stream().read()
                _response(writer, record.rec_headers.get_header("WARC-Target-URI"), body,
                          record.http_headers.get_header("Content-Type") or "text/html")


if __name__ == "__main__":
    main()
