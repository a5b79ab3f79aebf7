"""Quality + PII documents per CPU second on Korean-heavy text, in one process.

The 545 non-constructed Korean texts of the evaluation set that `bench/filter_speed.py --korean 60`
adds; one pass with the word splitter's memory empty ("first"), then the median of 3 more ("warm").
Run it for two checkouts one after the other to compare them.

Usage: PYTHONPATH=. .venv/bin/python bench/korean_filter_speed.py LABEL
"""
import sys, time, statistics
from pathlib import Path
import pyarrow as pa
from corpus.config import LangIdConfig, QualityConfig
from corpus.stats import Stats
from filters.eval_sets import evaluation_sets
from filters.langid import LanguageIdentifier
from filters.pii import KINDS, PIIRedactor
from filters.quality import QualityFilter
data = Path(__file__).resolve().parents[2] / "shared" / "data"
texts = [s.text for l in evaluation_sets(data, 60) if l.lang == "ko" and l.source != "constructed" for s in l.samples if s.text]
langs, _ = LanguageIdentifier(LangIdConfig()).predict(texts)
q = QualityFilter(QualityConfig()); r = PIIRedactor(list(KINDS), key=b"bench")
table = pa.table({"text": texts, "lang": langs})
def run():
    a = time.process_time(); r.apply(q.apply(table, Stats())[0], Stats()); return time.process_time() - a
first = run(); rest = [run() for _ in range(3)]
print(sys.argv[1], len(texts), "docs", f"first {len(texts)/first:.0f} docs/s, warm median {len(texts)/statistics.median(rest):.0f} docs/s")
