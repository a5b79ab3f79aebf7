"""The two time columns, typed: `fetch_time` (timestamp[us, UTC]) and `date` (date32).

Trainers filter and bucket documents by time. As strings they had to parse
every value themselves, and WARC-Date comes in several spellings (ISO 8601 with
or without fractions, WARC/0.x's 14 digits), which compare wrong as text.
`fetch_time` is when the crawler fetched the page (WARC-Date, UTC by the WARC
standard); `date` is the page's own publication date as trafilatura's metadata
finds it, a calendar day with no time of day or zone, so date32 is what it
honestly is. A value that does not parse becomes null and is counted
(`fetch_time_unparsed`, `date_unparsed` under `counters` in stats.json), never
an error.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

import pyarrow as pa

FETCH_TIME_TYPE = pa.timestamp("us", tz="UTC")
DATE_TYPE = pa.date32()
_DIGITS14 = re.compile(r"\d{14}")


def parse_fetch_time(text: str | None) -> dt.datetime | None:
    """A WARC-Date (ISO 8601, `Z` or an offset, or 14 digits as WARC/0.x and ARC
    write it) as an aware UTC datetime; a value without a zone is UTC; None when it does not parse."""
    if not text:
        return None
    text = text.strip()
    try:
        value = dt.datetime.strptime(text, "%Y%m%d%H%M%S") if _DIGITS14.fullmatch(text) else dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value.astimezone(dt.timezone.utc)


def parse_date(text: str | None) -> dt.date | None:
    """A page's published date (trafilatura writes `YYYY-MM-DD`; a full ISO
    timestamp keeps its calendar day); None when it does not parse."""
    if not text:
        return None
    text = text.strip()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        pass
    try:
        return dt.datetime.fromisoformat(text).date()
    except ValueError:
        return None


def fetch_time_array(texts: Iterable[str | None]) -> tuple[pa.Array, int]:
    """The column and how many present values did not parse."""
    return _typed(texts, parse_fetch_time, FETCH_TIME_TYPE)


def date_array(texts: Iterable[str | None]) -> tuple[pa.Array, int]:
    """The column and how many present values did not parse."""
    return _typed(texts, parse_date, DATE_TYPE)


def _typed(texts, parse, type_: pa.DataType) -> tuple[pa.Array, int]:
    values, bad = [], 0
    for text in texts:
        value = parse(text)
        bad += value is None and bool(text and text.strip())
        values.append(value)
    return pa.array(values, type_), bad


def iso_utc(value: dt.datetime | None) -> str | None:
    """A fetch time as JSON text (`2026-01-01T00:00:00Z`), as WARC-Date writes it."""
    if value is None:
        return None
    return value.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")
