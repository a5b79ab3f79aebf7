"""Korean for report.html: every label and explanation the English page prints.

`translate` looks a text up in `CATALOG` (English as written in corpus/report.py
and corpus/budget.py, placeholders included, so `.format` fills both the same
way); sentences the budget writes with figures inside are matched by
`PATTERNS` and rebuilt around the same figures. A text in neither stays in
English: tests/test_report_language.py checks that the page has none left.
Figures, sources and code names (stage names in the tables of the English page,
commands, file names) are not translated; stages are shown by plain names.
"""

from __future__ import annotations

import re

KO_STAGE_NAMES = {
    "input records": "입력 레코드",
    "read": "읽기",
    "screen": "사전 언어 선별",
    "extract": "본문 추출",
    "langid": "언어 식별",
    "quality": "품질 필터",
    "pii": "개인정보 처리",
    "dedup_signatures": "중복 지문 계산",
    "tokens": "토큰 계산",
    "dedup_exact": "완전 중복 제거",
    "dedup_near": "유사 중복 제거",
    "dedup": "중복 제거(전체)",
    "shards": "최종 파일 쓰기",
    "startup": "작업자 시작",
    "overhead": "기타 처리",
    "crawl": "크롤링",
    "storage requests": "저장소 요청",
    "output storage, first month": "결과 저장(첫 달)",
}

CATALOG = {
    # page, sections, cards
    "Corpus run {run}: cost report": "코퍼스 실행 {run}: 비용 보고서",
    "Priced {when} with {instance} ({market}) · config {sha}": "{when} 기준 {instance} ({market}) 가격 · 설정 {sha}",
    "Headline": "요약",
    "total cost": "총비용",
    "compute used": "사용한 연산",
    "{n} CPU seconds": "CPU {n}초",
    "machine time held": "점유한 머신 시간",
    "{usd} as a cloud bills it · {krw}": "클라우드 청구 기준 {usd} · {krw}",
    "tokens (counted)": "토큰 (실측)",
    "tokens (estimated from text bytes)": "토큰 (텍스트 바이트로 추정)",
    "{lang} tokens": "{lang} 토큰",
    "{lang} per million tokens": "{lang} 토큰 100만 개당",
    "{krw} · {usd} in all": "{krw} · 합계 {usd}",
    "English": "영어",
    "Korean": "한국어",
    "Yield: what survived each stage": "수율: 단계별로 남은 문서",
    "Documents left after each stage": "각 단계 후 남은 문서 수",
    "stage": "단계",
    "documents out": "남은 문서",
    "Where the money went": "비용이 쓰인 곳",
    "Cost by stage (USD)": "단계별 비용 (USD)",
    "item": "항목",
    "kind": "종류",
    "CPU seconds": "CPU 초",
    "USD": "USD",
    "KRW": "KRW",
    "share": "비중",
    "total": "합계",
    "compute": "연산",
    "storage": "저장",
    "The same run on the spot market: {spot}; on demand: {od}.": "같은 실행을 스팟 시장에서 하면 {spot}, 온디맨드로 하면 {od}입니다.",
    "A cloud bill follows the machine time held: the run's wall time ({wall}) times the {vcpus} vCPUs of the "
    "{nodes} machine(s) it used = {held_h} vCPU-hours, {held_usd} ({held_krw}) with storage. The table above prices "
    "the CPU the work used, {used_h} vCPU-hours, {used_usd}: what the same work costs on machines kept busy (a shared "
    "cluster, or a big run where start-up and idle time are small). This run kept {busy} of the time it held busy.":
    "클라우드 청구서는 점유한 머신 시간을 따릅니다: 실행의 경과 시간({wall}) × 사용한 머신 {nodes}대의 vCPU {vcpus}개 = "
    "{held_h} vCPU-시간, 저장 포함 {held_usd}({held_krw}). 위 표는 작업이 실제로 사용한 CPU {used_h} vCPU-시간, {used_usd}로 "
    "계산한 것으로, 머신을 쉬지 않고 쓸 때(공유 클러스터, 또는 시작과 대기 시간이 작은 큰 실행)의 비용입니다. "
    "이 실행은 점유한 시간의 {busy}를 일하는 데 썼습니다.",
    "The run's wall time was not measured (re-measured from its ledger), so the machine time it held is unknown.":
    "이 실행의 경과 시간은 측정되지 않아(기록에서 다시 계산) 점유한 머신 시간을 알 수 없습니다.",
    "Per language": "언어별",
    "language": "언어",
    "documents": "문서",
    "tokens": "토큰",
    "text MB": "텍스트 MB",
    "cost": "비용",
    "per million tokens": "토큰 100만 개당",
    " (est.)": " (추정)",
    "Throughput": "처리량",
    "input files": "입력 파일",
    "input records": "입력 레코드",
    "input bytes": "입력 바이트",
    "run wall time": "실행 경과 시간",
    "start-up per worker (fixed)": "작업자당 시작 비용 (고정)",
    "records per wall second": "경과 1초당 레코드",
    "records per vCPU-hour": "vCPU-시간당 레코드",
    "hardware": "하드웨어",
    "{cpu}, {n} logical CPUs, {gib} GiB, {os}": "{cpu}, 논리 CPU {n}개, {gib} GiB, {os}",
    "not metered apart in this run": "이 실행에서는 따로 측정하지 않음",
    "{cpu} CPU s ({wall} s wall) on each of {n} worker(s)": "작업자 {n}개 각각 CPU {cpu}초 (경과 {wall}초)",
    "Processes (peak memory per worker)": "프로세스 (작업자별 최대 메모리)",
    "process": "프로세스",
    "units": "작업 단위",
    "peak memory": "최대 메모리",
    " (driver)": " (드라이버)",
    "Storage": "저장소",
    "output size": "결과 크기",
    "storing the output, per month": "결과 저장, 월",
    "one download of the output to the internet": "결과를 인터넷으로 한 번 내려받기",
    "request": "요청",
    "count": "횟수",
    "bytes": "바이트",
    "none (local storage)": "없음 (로컬 저장소)",
    # the next crawl
    "The next crawl": "다음 크롤링",
    "Not forecast: {langs} (this run produced no tokens in it).": "예측하지 않음: {langs} (이 실행에서 해당 언어 토큰이 나오지 않음).",
    " and ": ", ",
    "{n} {lang} tokens": "{lang} 토큰 {n}",
    "next crawl, total": "다음 크롤링 총비용",
    "{krw} · 95% range: {span}": "{krw} · 95% 범위: {span}",
    "input pages to read": "읽을 입력 페이지",
    "{tb} TB of WARC": "WARC {tb} TB",
    "Common Crawl crawls": "Common Crawl 수집본 수",
    "{share} of each further crawl is new; {n} crawls to date": "추가 수집본마다 {share}가 새 페이지; 지금까지 {n}개 수집본",
    "wall time on {n} nodes": "노드 {n}대로 걸리는 시간",
    "{d} days": "{d}일",
    "{n} days": "{n}일",
    "{n} hours": "{n}시간",
    "{n} minutes": "{n}분",
    "{h} vCPU-hours held": "점유 {h} vCPU-시간",
    "What {goal} would cost, extrapolated from this run's measured yield and CPU per page on {instance} ({market}). "
    "Ranges (95%) come from the spread between this run's input files, or from resampling pages where one file holds a language.":
    "{goal}를 얻는 비용을 이 실행에서 측정한 수율과 페이지당 CPU로 {instance} ({market}) 기준으로 추정했습니다. "
    "범위(95%)는 이 실행의 입력 파일 사이의 차이에서, 한 파일에만 있는 언어는 페이지 재표집에서 구했습니다.",
    "quantity": "항목",
    "estimate": "추정",
    "low": "하한",
    "high": "상한",
    "new pages needed": "필요한 새 페이지",
    "pages read (repeats included)": "읽는 페이지 (반복 포함)",
    "input WARC, TB": "입력 WARC, TB",
    "output, TB (stored)": "결과, TB (저장)",
    "storage, USD per month": "저장, 월 USD",
    "vCPU-hours used": "사용 vCPU-시간",
    "  of which start-up": "  그중 시작 비용",
    "vCPU-hours held (billed)": "점유 vCPU-시간 (청구)",
    "node-hours": "노드-시간",
    "GET requests": "GET 요청",
    "PUT requests": "PUT 요청",
    "compute, USD (held)": "연산, USD (점유)",
    "requests, USD": "요청, USD",
    "total, USD": "합계, USD",
    "total, KRW": "합계, KRW",
    "Whole WARC files or Common Crawl index selection": "WARC 파일 전체 읽기와 Common Crawl 색인 선택 비교",
    "whole WARC files": "WARC 파일 전체",
    "index selection": "색인 선택",
    "pages processed": "처리한 페이지",
    "bytes read, TB": "읽은 바이트, TB",
    "vCPU-hours held": "점유 vCPU-시간",
    "The figures above read whole files.": "위의 예측은 파일 전체를 읽는 경우입니다.",
    # grant budget
    "A grant budget": "연구비 예산서",
    "Spending by month, USD": "월별 지출, USD",
    "line item": "항목",
    "month": "월",
    "requests": "요청",
    "egress": "외부 전송",
    "contingency": "예비비",
    "storage requests": "저장소 요청",
    "Line items from {start}, with the output kept {months} month(s) after the run, {pulls} pull(s) by trainers "
    "and a {pct} contingency (`corpus budget` sets each).":
    "{start}부터의 항목별 예산: 실행 뒤 결과를 {months}개월 보관, 학습팀이 {pulls}번 내려받기, 예비비 {pct} "
    "(`corpus budget`으로 각각 바꿀 수 있음).",
    # glossary
    "What each stage does": "각 단계가 하는 일",
    "Pages found in the input WARC files.": "입력 WARC 파일에서 찾은 페이지입니다.",
    "Reads the WARC files and keeps web pages (HTML) within the size limit.": "WARC 파일을 읽고 크기 제한 안의 웹 페이지(HTML)를 남깁니다.",
    "A quick language guess on the raw page that skips pages clearly in other languages before extraction.":
    "본문 추출 전에 원본 페이지의 언어를 빠르게 추정해, 분명히 다른 언어인 페이지를 건너뜁니다.",
    "Takes the main text out of each page, leaving menus, adverts and boilerplate behind (trafilatura).":
    "각 페이지에서 메뉴, 광고, 반복 문구를 빼고 본문만 꺼냅니다 (trafilatura).",
    "Identifies each text's language (fastText) and keeps only the target languages.": "각 텍스트의 언어를 식별하고(fastText) 목표 언어만 남깁니다.",
    "Scores each text with quality rules and a classifier and drops spam, lists and machine-made pages.":
    "품질 규칙과 분류기로 각 텍스트를 평가해 스팸, 목록, 기계가 만든 페이지를 걸러냅니다.",
    "Replaces e-mail addresses, phone numbers and other personal data with placeholders.": "이메일 주소, 전화번호 등 개인정보를 대체 문자열로 바꿉니다.",
    "Computes a fingerprint of each text so near-copies can be found.": "유사한 사본을 찾을 수 있도록 각 텍스트의 지문을 계산합니다.",
    "Counts the tokens a language model would see in each text.": "언어 모델이 각 텍스트에서 보게 될 토큰 수를 셉니다.",
    "Removes texts that are exact copies of another.": "다른 텍스트와 완전히 같은 사본을 지웁니다.",
    "Removes texts that are near-copies of another (MinHash).": "다른 텍스트와 거의 같은 사본을 지웁니다 (MinHash).",
    "Finds the copies and near-copies across the whole run.": "실행 전체에서 사본과 유사 사본을 찾습니다.",
    "Writes the final training files, one set per language.": "언어별로 최종 학습용 파일을 씁니다.",
    "Starting each worker: Python, libraries, and loading and warming up the models. Paid once per worker.":
    "각 작업자 시작: Python과 라이브러리를 불러오고 모델을 올려 준비합니다. 작업자마다 한 번만 듭니다.",
    "Everything else the processes used: writing intermediate files, coordination, the final report.":
    "그 밖에 프로세스가 쓴 모든 것: 중간 파일 쓰기, 작업 조율, 최종 보고서.",
    "The live crawl that fetched the pages this run read (its share of the crawl's machine time).":
    "이 실행이 읽은 페이지를 가져온 실시간 크롤링 (크롤링 머신 시간 중 이 실행의 몫).",
    "Requests to the object store (reading and writing files).": "객체 저장소에 보낸 요청 (파일 읽기와 쓰기).",
    "Keeping the output in the object store for one month.": "결과를 객체 저장소에 한 달 보관하는 비용.",
    # assumptions
    "Assumptions and price sheet": "가정과 가격표",
    "{instance} on-demand, per hour ({n} vCPU)": "{instance} 온디맨드, 시간당 (vCPU {n}개)",
    "{instance} spot, per hour": "{instance} 스팟, 시간당",
    "GPU-hour": "GPU-시간",
    "storage, per GB-month": "저장, GB-월당",
    "PUT/POST/LIST, per 1,000": "PUT/POST/LIST, 1,000건당",
    "GET, per 1,000": "GET, 1,000건당",
    "egress, per GB": "외부 전송, GB당",
    "KRW per USD": "USD당 KRW",
    "price": "가격",
    "value (USD)": "값 (USD)",
    "source": "출처",
    "date": "날짜",
    "Price files: {files}": "가격 파일: {files}",
    "Compute is priced by metered CPU time: {price} per vCPU-hour ({instance}, {market}). Idle time of rented machines "
    "is not in it; the machine time held, above, and `corpus budget` count it.":
    "연산은 측정한 CPU 시간으로 계산합니다: vCPU-시간당 {price} ({instance}, {market}). 빌린 머신의 대기 시간은 들어 있지 "
    "않으며, 위의 점유 머신 시간과 `corpus budget`이 그것을 셉니다.",
    "The stage 'startup' is what each worker used before its first page: interpreter start-up, imports, loading and "
    "warming up its models. It is paid once per worker, whatever the number of pages, so the forecast adds it per worker "
    "instead of scaling it. The stage 'overhead' is the rest of the CPU the operating system accounted to the run's "
    "processes outside every metered stage: writing staged parts, Ray bookkeeping, finalize.":
    "'작업자 시작' 단계는 각 작업자가 첫 페이지 전에 쓴 것입니다: 인터프리터 시작, 라이브러리 불러오기, 모델 올리기와 준비. "
    "페이지 수와 상관없이 작업자마다 한 번 들기 때문에, 예측은 이를 페이지 수에 비례시키지 않고 작업자마다 더합니다. "
    "'기타 처리' 단계는 측정한 단계 밖에서 운영체제가 이 실행의 프로세스에 기록한 나머지 CPU입니다: 중간 파일 쓰기, Ray 관리, 마무리.",
    "Shared costs are split between output languages by the bytes of each language entering the stage; "
    "stages before language ID, overhead and storage requests by the languages' shares of the language-ID input; "
    "storage by output bytes. Dropped languages carry no cost of their own.":
    "공통 비용은 각 단계에 들어온 언어별 바이트에 따라 결과 언어에 나눕니다. 언어 식별 전 단계, 기타 처리, 저장소 요청은 "
    "언어 식별 입력에서 각 언어가 차지한 몫으로, 저장은 결과 바이트로 나눕니다. 버려진 언어는 따로 비용을 지지 않습니다.",
    "Shared costs are split between output languages by the documents of each language entering the stage; "
    "stages before language ID, overhead and storage requests by the languages' shares of the language-ID input; "
    "storage by output bytes. Dropped languages carry no cost of their own.":
    "공통 비용은 각 단계에 들어온 언어별 문서 수에 따라 결과 언어에 나눕니다. 언어 식별 전 단계, 기타 처리, 저장소 요청은 "
    "언어 식별 입력에서 각 언어가 차지한 몫으로, 저장은 결과 바이트로 나눕니다. 버려진 언어는 따로 비용을 지지 않습니다.",
    "Storage is billed per GiB-month of the output shards; storage requests as counted by the storage client.":
    "저장은 결과 파일의 GiB-월 단위로, 저장소 요청은 저장소 클라이언트가 센 횟수로 청구합니다.",
    "The line 'crawl' is the live crawl behind this run's WARC ({crawl}): its partition tasks held {held} (one CPU "
    "each for as long as they ran, politeness delays included; {busy} of it busy) to archive {pages} pages. This run "
    "read {share} of its WARC bytes and carries that share.":
    "'크롤링' 항목은 이 실행이 읽은 WARC를 만든 실시간 크롤링({crawl})입니다: 분할 작업들이 페이지 {pages}개를 보관하려고 "
    "{held}를 점유했습니다(작업마다 CPU 하나, 예의상 대기 포함; 그중 {busy}는 실제 작업). 이 실행은 그 WARC 바이트의 "
    "{share}를 읽었으므로 그만큼을 부담합니다.",
    "measured after the run from its ledger: the driver's own start-up and finalize CPU are not included":
    "실행 후 기록에서 측정: 드라이버 자체의 시작과 마무리 CPU는 포함되지 않음",
    "How to reproduce": "재현 방법",
    "re-price: --prices my-prices.yaml --market spot": "다시 계산: --prices my-prices.yaml --market spot",
    "full configuration of this run": "이 실행의 전체 설정",
}

# Sentences corpus/budget.py writes with figures inside: (pattern, Korean with the same groups).
PATTERNS = [
    (r"(?P<lang>\w+) is (?P<pct>[\d.,]+%) of pages in a recent Common Crawl crawl",
     r"최근 Common Crawl 수집본에서 \g<lang> 페이지 비율은 \g<pct>"),
    (r"(?P<pct>[\d.,]+%) of pages, as in the run's own input", r"이 실행의 입력과 같이 페이지의 \g<pct>"),
    (r"all of Common Crawl kept (?P<n>[\d,]+) (?P<lang>\w+) documents after filtering and dedup",
     r"Common Crawl 전체에서 필터링과 중복 제거 뒤 남은 \g<lang> 문서는 \g<n>개"),
    (r"(?P<n>[\d,]+) pages per Common Crawl crawl", r"Common Crawl 수집본 하나에 페이지 \g<n>개"),
    (r"(?P<pct>[\d.,]+%) of a further crawl's pages are new after cross-crawl dedup",
     r"수집본 사이 중복 제거 뒤 추가 수집본 페이지의 \g<pct>가 새 페이지"),
    (r"(?P<pct>[\d.,]+%) of a further crawl's documents are new: measured by this run's dedup against an index",
     r"추가 수집본 문서의 \g<pct>가 새 문서: 이 실행이 색인과 비교한 중복 제거로 측정"),
    (r"the index costs (?P<n>[\d,]+) bytes per row scanned", r"색인은 읽는 행마다 \g<n>바이트"),
    (r"(?P<n>[\d.]+) range GET per selected record", r"선택한 레코드마다 범위 GET \g<n>건"),
    (r"index (?P<b>[\d,]+) bytes per row and (?P<g>[\d.]+) range GETs per record, measured by this run's index selection",
     r"색인 행마다 \g<b>바이트, 레코드마다 범위 GET \g<g>건: 이 실행의 색인 선택에서 측정"),
    (r"(?P<inst>\S+): (?P<v>\d+) vCPU at (?P<p>[\d.]+) USD/hour \((?P<m>[\w-]+)\), billed for the time the nodes are held",
     r"\g<inst>: vCPU \g<v>개, 시간당 \g<p> USD (\g<m>), 노드를 점유한 시간만큼 청구"),
    (r"(?P<pct>\d+%) of held vCPU time does stage work", r"점유한 vCPU 시간의 \g<pct>가 단계 작업에 쓰임"),
    (r"(?P<p>[\d.]+) USD per GB-month for the output", r"결과 저장에 GB-월당 \g<p> USD"),
    (r"no tokenizer counts in the run: (?P<r>[\d.]+) text bytes per token", r"실행에 토크나이저 집계가 없음: 토큰당 텍스트 \g<r>바이트"),
    (r"measured on (?P<f>\d+) input file\(s\) of run (?P<run>\w+): (?P<ms>[\d.,]+) CPU-ms per page, scaled with pages; "
     r"start-up (?P<s>[\d.,]+) CPU-s per worker, paid once by each of (?P<w>[\d,]+) workers",
     r"실행 \g<run>의 입력 파일 \g<f>개에서 측정: 페이지당 CPU \g<ms> ms는 페이지 수에 비례; "
     r"작업자 시작 CPU \g<s>초는 작업자 \g<w>개가 각각 한 번씩"),
    (r"CPU per page and WARC bytes per page measured on (?P<f>\d+) input file\(s\) of run (?P<run>\w+); that run did not "
     r"meter start-up apart, so all its CPU is scaled with pages \(an over-estimate for a small run\)",
     r"실행 \g<run>의 입력 파일 \g<f>개에서 페이지당 CPU와 WARC 바이트를 측정; 그 실행은 시작 비용을 따로 측정하지 않아 "
     r"모든 CPU를 페이지 수에 비례시킴 (작은 실행에서는 과대 추정)"),
    (r"range for (?P<lang>\w+) from resampling its (?P<n>[\d,]+) pages in one input file \(page-to-page variation; "
     r"a pilot of more files also shows file-to-file variation\)",
     r"\g<lang> 범위는 한 입력 파일의 페이지 \g<n>개를 재표집해 구함 (페이지 사이 차이; 파일이 더 많은 시범 실행은 파일 사이 차이도 보여줌)"),
    (r"no range for (?P<lang>\w+): one input file holds it and the run has no token counts to resample",
     r"\g<lang> 범위 없음: 한 입력 파일에만 있고 재표집할 토큰 집계가 없음"),
    (r"CPU and WARC bytes per page measured on one file: the same at both ends of the range",
     r"페이지당 CPU와 WARC 바이트는 한 파일에서 측정: 범위의 양 끝에서 같음"),
    (r"(?P<way>reading whole WARC files|Common Crawl index selection) is cheaper for this target: (?P<a>[\d,]+) USD against "
     r"(?P<b>[\d,]+) USD \((?P<pct>\d+)% less\)",
     lambda m: f"이 목표에는 {_WAYS[m['way']]}가 더 쌉니다: {m['a']} USD 대 {m['b']} USD ({m['pct']}% 적음)"),
    (r"supply (?P<lang>\w+): one crawl gives about (?P<a>[\d,]+) tokens, each further crawl (?P<b>[\d,]+); "
     r"all of Common Crawl holds about (?P<c>[\d,]+) \(ceiling\)",
     r"\g<lang> 공급: 수집본 하나에서 약 \g<a> 토큰, 추가 수집본마다 \g<b> 토큰; Common Crawl 전체에 약 \g<c> 토큰 (상한)"),
    (r"supply (?P<lang>\w+): one crawl gives about (?P<a>[\d,]+) tokens, each further crawl (?P<b>[\d,]+); no cited ceiling",
     r"\g<lang> 공급: 수집본 하나에서 약 \g<a> 토큰, 추가 수집본마다 \g<b> 토큰; 인용한 상한 없음"),
    (r"compute, (?P<n>\d+) node\(s\) held (?P<d>[\d.,]+) days", r"연산, 노드 \g<n>대를 \g<d>일 점유"),
    (r"storage while written, then (?P<m>\d+) month\(s\) kept", r"저장, 쓰는 동안과 이후 \g<m>개월 보관"),
    (r"egress, (?P<p>\d+) pull\(s\) by trainers", r"외부 전송, 학습팀 \g<p>번 내려받기"),
    (r"contingency (?P<pct>\d+%)", r"예비비 \g<pct>"),
    (r"days on (?P<n>\d+) node\(s\)", r"노드 \g<n>대로 걸리는 일수"),
    (r"the target needs (?P<n>[\d,]+) crawls; Common Crawl has about (?P<a>[\d,]+)",
     r"목표에 수집본 \g<n>개가 필요하지만 Common Crawl에는 약 \g<a>개뿐임"),
    (r"(?P<lang>\w+): the target of (?P<t>[\d,]+) tokens exceeds what all of Common Crawl gave FineWeb-2 \((?P<d>[\d,]+) "
     r"documents, about (?P<c>[\d,]+) tokens at this run's (?P<p>[\d,]+) tokens per kept document\)",
     r"\g<lang>: 목표 토큰 \g<t>개는 Common Crawl 전체가 FineWeb-2에 준 양(문서 \g<d>개, 이 실행의 남은 문서당 토큰 \g<p>개로 "
     r"약 \g<c> 토큰)을 넘음"),
]
_WAYS = {"reading whole WARC files": "WARC 파일 전체 읽기", "Common Crawl index selection": "Common Crawl 색인 선택"}
_COMPILED = [(re.compile(pattern), repl) for pattern, repl in PATTERNS]


def translate(text: str) -> str:
    """Korean for an English label or sentence of the report; the text itself if it has none."""
    if text in CATALOG:
        return CATALOG[text]
    for pattern, repl in _COMPILED:
        match = pattern.fullmatch(text)
        if match:
            return match.expand(repl) if isinstance(repl, str) else repl(match)
    return text

