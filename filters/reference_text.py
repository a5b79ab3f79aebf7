"""Labelled text for calibrating the rules and training the quality classifier.

Reads the corpora in ../shared/data (see its SOURCES.md). Curated sets are the
positives: KorQuAD Wikipedia paragraphs, KLUE sentences regrouped into
documents by source, and human-annotated English article bodies. Web sets are
the negatives: raw Common Crawl WET text, grouped NSMC movie reviews and news
comments. Every function is deterministic: same files, same list.
"""

from __future__ import annotations

import gzip
import json
from collections import defaultdict
from pathlib import Path

import lxml.html
from spacy.lang.en.stop_words import STOP_WORDS as EN_STOP_WORDS

CHUNK_CHARS = 1500
# English prose has a third or more of its words in spaCy's stop-word list; Spanish or French in Latin letters
# under a tenth, so this tells an untagged foreign page from an English one without language ID.
MIN_ENGLISH_STOP_WORD_SHARE = 0.2
_BLOCKS = ("p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "dd", "dt", "figcaption")


def korquad_paragraphs(data: Path) -> list[str]:
    """Korean Wikipedia paragraphs (KorQuAD 1.0 dev): encyclopedic prose."""
    with gzip.open(data / "korean_text/korquad/KorQuAD_v1.0_dev.json.gz", "rt", encoding="utf-8") as fh:
        doc = json.load(fh)
    return [p["context"] for article in doc["data"] for p in article["paragraphs"]]


def klue_documents(data: Path, sentences_per_doc: int = 6) -> list[str]:
    """KLUE dev sentences (news, Wikipedia, policy briefings, reviews) grouped by source, in file order."""
    by_source = klue_documents_by_source(data, sentences_per_doc)
    return [doc for source in sorted(by_source) for doc in by_source[source]]


def klue_documents_by_source(data: Path, sentences_per_doc: int = 6) -> dict[str, list[str]]:
    """KLUE source (wikipedia, wikinews, wikitree, policy, airbnb, NSMC) → its sentences, `sentences_per_doc` per document."""
    by_source: dict[str, list[str]] = defaultdict(list)
    with gzip.open(data / "korean_text/klue/klue-dp-v1.1_dev.tsv.gz", "rt", encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("## klue-dp") and "\t" in line:
                guid, sentence = line[3:].rstrip("\n").split("\t", 1)
                by_source[guid.rsplit("_", 1)[-1]].append(sentence.strip())
    with gzip.open(data / "korean_text/klue/klue-nli-v1.1_dev.json.gz", "rt", encoding="utf-8") as fh:
        seen: set[str] = set()
        for pair in json.load(fh):
            premise = pair["premise"].strip()
            if premise not in seen:
                seen.add(premise)
                by_source[pair["source"]].append(premise)
    return {
        source: [
            " ".join(sentences[start : start + sentences_per_doc])
            for start in range(0, len(sentences) - sentences_per_doc + 1, sentences_per_doc)
        ]
        for source, sentences in by_source.items()
    }


def english_articles(data: Path) -> list[str]:
    """Human-annotated English article bodies (scrapinghub article-extraction benchmark)."""
    with open(data / "gold_extraction/scrapinghub_aeb/ground-truth.json", encoding="utf-8") as fh:
        truth = json.load(fh)
    return [truth[key]["articleBody"] for key in sorted(truth) if truth[key].get("lang") == "en"]


def readability_articles(data: Path, min_chars: int = 500) -> list[str]:
    """English pages from Mozilla Readability's reviewed reference output (Wikipedia, news, blogs), as text.

    Synthetic edge-case pages (lorem ipsum, tiny fixtures) and non-English pages are left out: pages
    whose metadata names another language, pages not in Latin letters, and untagged pages in another
    Latin-script language (la-nacion is Spanish), told by their share of English stop words.
    """
    docs = []
    for folder in sorted((data / "gold_extraction/mozilla_readability").iterdir()):
        meta = json.loads((folder / "expected-metadata.json").read_text(encoding="utf-8"))
        if not str(meta.get("lang") or "en").lower().startswith("en"):
            continue
        with gzip.open(folder / "expected.html.gz", "rt", encoding="utf-8") as fh:
            tree = lxml.html.fromstring(fh.read())
        # Innermost blocks only: a <li> holding a <p> would otherwise give its text twice.
        leaves = (el for el in tree.iter(*_BLOCKS) if next(el.iterdescendants(*_BLOCKS), None) is None)
        blocks = (el.text_content().strip() for el in leaves)
        text = "\n".join(b for b in blocks if b)
        ascii_letters = sum(ch.isascii() for ch in text if ch.isalpha())
        letters = sum(ch.isalpha() for ch in text)
        if len(text) >= min_chars and "lorem ipsum" not in text.lower() and ascii_letters >= 0.95 * letters:
            if _english_stop_word_share(text) >= MIN_ENGLISH_STOP_WORD_SHARE:
                docs.append(text)
    return docs


def _english_stop_word_share(text: str) -> float:
    words = [w.strip(".,;:!?\"'()“”‘’").lower() for w in text.split()]
    return sum(w in EN_STOP_WORDS for w in words) / max(1, len(words))


def common_crawl_text(data: Path, lang: str | None = None) -> list[str]:
    """Raw Common Crawl WET documents (menus, banners, spam included); optionally one fastText language."""
    path = data / "english_text/dolma_cc/CC-MAIN-20190717121559-20190717143559-00140.sample.jsonl.gz"
    docs = []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            if lang is None or row.get("_lang_fasttext_lid176") == lang:
                docs.append(row["text"])
    return docs


def nsmc_review_groups(data: Path, per_doc: int = 8, limit: int = 600) -> list[str]:
    """Short informal movie reviews, `per_doc` of one movie per document, one per line."""
    by_movie: dict[str, list[str]] = defaultdict(list)
    with gzip.open(data / "korean_text/nsmc/nsmc_raw_reviews_sample.jsonl.gz", "rt", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            if row["review"].strip():
                by_movie[row["movie_id"]].append(row["review"].strip())
    return _groups([by_movie[m] for m in sorted(by_movie)], per_doc, limit)


def news_comment_groups(data: Path, per_doc: int = 8, limit: int = 600) -> list[str]:
    """Korean web news comments (kocohub unlabeled), `per_doc` per document, one per line."""
    path = data / "korean_text/korean_hate_speech/unlabeled__unlabeled_comments_5.txt.gz"
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        comments = [line.strip() for line in fh if line.strip()]
    return _groups([comments], per_doc, limit)


def comment_threads(data: Path, min_chars: int = 600, skip: int = 10_000, limit: int = 400) -> list[str]:
    """Forum-like threads: consecutive news comments (kocohub unlabeled, past the first `skip`), one per line,
    gathered until a thread holds `min_chars`. Comments are what a Korean forum page's main text is made of."""
    path = data / "korean_text/korean_hate_speech/unlabeled__unlabeled_comments_5.txt.gz"
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        comments = [line.strip() for line in fh if line.strip()][skip:]
    threads: list[str] = []
    thread: list[str] = []
    for comment in comments:
        thread.append(comment)
        if sum(map(len, thread)) >= min_chars:
            threads.append("\n".join(thread))
            thread = []
            if len(threads) >= limit:
                break
    return threads


def chunks(texts: list[str], max_chars: int = CHUNK_CHARS) -> list[str]:
    """Cut long texts at line breaks into pieces of about `max_chars`, so length alone cannot separate classes."""
    out = []
    for text in texts:
        piece: list[str] = []
        size = 0
        for line in text.split("\n"):
            piece.append(line)
            size += len(line) + 1
            if size >= max_chars:
                out.append("\n".join(piece).strip())
                piece, size = [], 0
        if "".join(piece).strip():
            out.append("\n".join(piece).strip())
    return [c for c in out if c]


def _groups(lists: list[list[str]], per_doc: int, limit: int) -> list[str]:
    docs = []
    for items in lists:
        for start in range(0, len(items) - per_doc + 1, per_doc):
            docs.append("\n".join(items[start : start + per_doc]))
            if len(docs) >= limit:
                return docs
    return docs
