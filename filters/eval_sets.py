"""The labelled evaluation set: clean text by register, junk by type, Korean and English.

Built from ../shared/data (see its SOURCES.md) and `filters/junk_pages.py`.
Each set is one register ("developer blog", "archaic prose") or one junk type
("gambling spam", "portal front pages") of one language. A sample is plain
text (the pipeline's text path: language ID, quality) or an HTML page as
served (extraction first). Every sample belongs to one half, "calibration" or
"held-back", by a hash of its set and key: thresholds are tuned on the first
and reported on both, so a tuned figure that only fits its own data shows.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from filters import junk_pages
from filters import reference_text as rt

HALVES = ("calibration", "held-back")
CONSTRUCTED_PER_KIND = 60
_BLOG_HTML = "korean_web/html_blog/gmlwo530/html"
_BLOG_URL = "https://callmemaru.com/"
# Portal pages that are front pages or lists (junk); the others are article pages inside portal chrome.
_PORTAL_FRONT = ("naverNewsList", "mainmenu", "apmax")


@dataclass(frozen=True)
class Sample:
    """One document: `text` for the text path, or `html` (bytes as served) and its `url`."""

    key: str
    text: str | None = None
    html: bytes | None = None
    url: str | None = None


@dataclass
class LabelledSet:
    name: str
    lang: str
    clean: bool
    source: str
    samples: list[Sample] = field(default_factory=list)

    def half(self, which: str | None) -> "LabelledSet":
        """The same set holding only the samples of one half (None: all)."""
        if which is None:
            return self
        if which not in HALVES:
            raise ValueError(f"unknown half {which!r}; one of {', '.join(HALVES)}")
        kept = [s for s in self.samples if half_of(self.name, s.key) == which]
        return LabelledSet(self.name, self.lang, self.clean, self.source, kept)


def half_of(set_name: str, key: str) -> str:
    """Deterministic half of one sample: a SHA-1 of set name and key, even → calibration."""
    digest = hashlib.sha1(f"{set_name}\0{key}".encode("utf-8", "surrogatepass")).digest()
    return HALVES[digest[0] % 2]


def evaluation_sets(data: Path, per_set: int | None = None) -> list[LabelledSet]:
    """Every labelled set, clean first; `per_set` keeps an evenly spaced sample of at most that many per set."""
    sets = clean_sets(data) + junk_sets(data)
    if per_set is not None:
        for s in sets:
            step = max(1, -(-len(s.samples) // per_set))
            s.samples = s.samples[::step][:per_set]
    return sets


def clean_sets(data: Path) -> list[LabelledSet]:
    klue = rt.klue_documents_by_source(data)
    web = data / "korean_web/text"
    return [
        _texts("encyclopedic (KorQuAD Wikipedia)", "ko", True, "korquad", rt.korquad_paragraphs(data)),
        _texts("encyclopedic (KLUE Wikipedia)", "ko", True, "klue", klue["wikipedia"]),
        _texts("news (KLUE wikinews, wikitree)", "ko", True, "klue", klue["wikinews"] + klue["wikitree"]),
        _texts("civic / policy briefings (KLUE)", "ko", True, "klue", klue["policy"]),
        _texts("reviews (KLUE airbnb, NSMC)", "ko", True, "klue", klue["airbnb"] + klue["NSMC"]),
        _texts("forum comments (news comments)", "ko", True, "kocohub", rt.comment_threads(data)),
        _texts("essay / wiki blog (johngrib)", "ko", True, "korean_web", _jsonl_texts(web / "johngrib_blog/posts.jsonl")),
        _texts("blog notes (krgil)", "ko", True, "korean_web", _jsonl_texts(web / "krgil_blog/posts.jsonl")),
        _texts("developer blog (goodgid)", "ko", True, "korean_web", _jsonl_texts(web / "goodgid_blog/posts.jsonl")),
        _texts("archaic prose (1920s magazine)", "ko", True, "korean_web",
               _jsonl_texts(web / "byeolgeongon_1920s/articles.jsonl")),
        LabelledSet("news pages as served (HTML)", "ko", True, "korean_web", _korean_news_pages(data)),
        LabelledSet("blog post pages as served (HTML)", "ko", True, "korean_web", _blog_pages(data, posts=True)),
        _texts("news articles (scrapinghub gold)", "en", True, "gold_extraction", rt.english_articles(data)),
        _texts("web articles (Readability reference)", "en", True, "gold_extraction", rt.readability_articles(data)),
        LabelledSet("news pages as served (HTML)", "en", True, "gold_extraction", _english_news_pages(data)),
    ]


def junk_sets(data: Path) -> list[LabelledSet]:
    sets = [
        _texts("instagram ads", "ko", False, "korean_web", _jsonl_texts(data / "korean_web/text/instagram_ads/ads.jsonl")),
        LabelledSet("portal front pages (HTML)", "ko", False, "korean_web", _portal_pages(data, front=True)),
        LabelledSet("blog list and tag pages (HTML)", "ko", False, "korean_web", _blog_pages(data, posts=False)),
    ]
    for lang in ("ko", "en"):
        for kind in junk_pages.KINDS:
            texts = junk_pages.pages(kind, lang, CONSTRUCTED_PER_KIND)
            sets.append(_texts(kind.replace("_", " ") + " (constructed)", lang, False, "constructed", texts))
    return sets


def _texts(name: str, lang: str, clean: bool, source: str, texts: list[str]) -> LabelledSet:
    return LabelledSet(name, lang, clean, source, [Sample(key=str(i), text=t) for i, t in enumerate(texts) if t.strip()])


def _jsonl_texts(path: Path) -> list[str]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line)["text"] for line in fh if line.strip()]


def _blog_pages(data: Path, posts: bool) -> list[Sample]:
    """gmlwo530's Hugo blog as served: post pages (posts/SLUG/index.html) or the list, tag and category pages."""
    root = data / _BLOG_HTML
    samples = []
    for path in sorted(root.rglob("*.html")):
        rel = path.relative_to(root).as_posix()
        parts = rel.split("/")
        is_post = len(parts) == 3 and parts[0] == "posts" and parts[1] not in ("page", "1")
        if rel in ("404.html", "about/index.html") or is_post != posts:
            continue
        samples.append(Sample(key=rel, html=path.read_bytes(), url=_BLOG_URL + rel.removesuffix("index.html")))
    return samples


def _korean_news_pages(data: Path) -> list[Sample]:
    gold = data / "korean_web/html_gold"
    samples = []
    for folder, truth_file, url_of in (
        ("magic_html", "base.korean.json", lambda v: v["url"]),
        ("scrapinghub", "ground-truth.korean.json", lambda v: v["url"]),
    ):
        truth = json.loads((gold / folder / truth_file).read_text(encoding="utf-8"))
        for key in sorted(truth):
            page = next((gold / folder / "raw").rglob(f"{key}.html"))
            samples.append(Sample(key=key, html=page.read_bytes(), url=url_of(truth[key])))
    donga = gold / "goose_donga/raw/tests/data/extractors/content"
    url = json.loads((donga / "test_donga_korean.json").read_text(encoding="utf-8"))["url"]
    samples.append(Sample(key="donga", html=(donga / "test_donga_korean.html").read_bytes(), url=url))
    return samples


def _english_news_pages(data: Path) -> list[Sample]:
    folder = data / "gold_extraction/scrapinghub_aeb"
    truth = json.loads((folder / "ground-truth.json").read_text(encoding="utf-8"))
    samples = []
    for key in sorted(truth):
        if truth[key].get("lang") == "en":
            html = gzip.decompress((folder / "html" / f"{key}.html.gz").read_bytes())
            samples.append(Sample(key=key, html=html, url=truth[key]["url"]))
    return samples


def _portal_pages(data: Path, front: bool) -> list[Sample]:
    raw = data / "korean_web/html_portal/jsp_copies/raw"
    return [
        Sample(key=path.name, html=path.read_bytes(), url=f"https://portal.example/{path.name}")
        for path in sorted(raw.iterdir())
        if any(marker in path.name for marker in _PORTAL_FRONT) == front
    ]
