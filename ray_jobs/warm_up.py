"""Two small pages a worker runs through every stage before its first unit.

Several libraries load on first use, not at construction: trafilatura's date
finder compiles dateparser's regular expressions for every locale the first
time a page carries a date it cannot read itself, and Korean morpheme
shingles (when configured) load Kiwi's model on the first Korean document. Left to the first
unit, those seconds look like per-page work and a forecast multiplies them by
every page of the next crawl. Run here, they are the worker's start-up, which
cost accounting meters apart (`corpus.accounting.meter.mark_started`) and a forecast adds
once per worker. The pages hold no personal data, so no stage keeps state
from them.
"""

from __future__ import annotations

from crawlers.warc import WarcRecord

_EN = (
    "<p>The city library opens at nine in the morning and closes at six in the evening on weekdays. "
    "Readers may borrow up to five books for two weeks and renew them once through the catalogue.</p>"
    "<p>The reading room on the second floor is quiet, with desks by the windows, power outlets and "
    "free wireless access. Children's stories are read aloud every Saturday at ten.</p>"
)
_KO = (
    "<p>시립 도서관은 평일 오전 아홉 시에 문을 열고 오후 여섯 시에 닫습니다. 이용자는 책을 다섯 권까지 "
    "두 주 동안 빌릴 수 있으며, 목록 검색 화면에서 한 번 연장할 수 있습니다.</p>"
    "<p>이 층 열람실은 조용하고 창가에 책상과 콘센트가 있으며 무선 인터넷을 무료로 쓸 수 있습니다. "
    "토요일 오전 열 시에는 어린이를 위한 동화 읽기 시간이 있습니다.</p>"
)
_PAGES = {
    "en": ("Library hours", "Updated 2026년 3월 3일 화요일", _EN),
    "ko": ("도서관 이용 안내", "2026년 3월 3일 화요일", _KO),
}


def warm_up_records() -> list[WarcRecord]:
    """An English and a Korean page, as the WARC reader would yield them."""
    records = []
    for lang, (title, date, body) in _PAGES.items():
        html = (
            f"<html lang=\"{lang}\"><head><meta charset=\"utf-8\"><title>{title}</title></head><body><article>"
            f"<h1>{title}</h1><div class=\"date\">{date}</div>{body}</article></body></html>"
        ).encode()
        records.append(
            WarcRecord(
                url=f"https://warm-up.invalid/{lang}", record_id=f"warm-up-{lang}", fetch_time="2026-03-03T00:00:00Z",
                source="warm-up", status=200, content_type="text/html; charset=utf-8",
                payload=html, payload_size=len(html), truncated=False,
            )
        )
    return records
