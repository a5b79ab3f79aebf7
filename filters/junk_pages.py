"""Constructed junk pages, Korean and English, one kind at a time, for evaluation and calibration.

Real spam in the shared data is scarce (Instagram ad captions, a few portal
pages), so the junk types a Korean crawl meets most (gambling, adult, loan and
follower-selling spam, SEO keyword pages, portal menus, link lists, comment
sections) are assembled here from sentence and line templates. Spam on the
web is often fluent prose around the money words, so most kinds are built from
well-formed sentences: a rule that only looks at form cannot catch them, which
is the point. Every page is a pure function of (kind, lang, index): the same
call gives the same page.
"""

from __future__ import annotations

import random

KINDS = ("gambling", "adult", "loan", "follower_selling", "seo_keywords", "portal_menu", "link_list", "comment_section")

_KO_SPAM = {
    "gambling": (
        ["토토사이트", "안전놀이터", "메이저사이트", "카지노사이트", "바카라사이트", "온라인카지노", "슬롯사이트", "사설토토",
         "먹튀검증 커뮤니티", "스포츠토토", "파워볼 사이트", "라이브카지노"],
        [
            "{w}를 찾고 계신가요? 저희는 10년 동안 검증된 곳만 소개해 왔습니다.",
            "신규 가입 시 첫충 {n}% 보너스와 매충 {m}%를 드립니다.",
            "{w} 추천 순위를 매일 업데이트하고 있으니 안심하고 이용하세요.",
            "먹튀 피해 없이 {w}를 즐기려면 보증업체인지 꼭 확인하셔야 합니다.",
            "가입코드 {code} 입력 시 추가 혜택이 제공됩니다.",
            "{w}에서 바카라와 블랙잭, 룰렛을 24시간 즐길 수 있습니다.",
            "환전은 {n}분 안에 처리되며 고액 베팅도 제한이 없습니다.",
            "오늘도 많은 회원분들이 {w}에서 큰 수익을 올리고 있습니다.",
            "텔레그램 {code}로 문의 주시면 상담원이 바로 안내해 드립니다.",
            "검증된 {w}만 모아 놓았으니 먹튀 걱정은 하지 않으셔도 됩니다.",
        ],
    ),
    "adult": (
        ["출장마사지", "출장안마", "오피사이트", "조건만남", "성인용품", "야동 사이트", "유흥 정보", "섹시 화상채팅",
         "건마 정보", "휴게텔"],
        [
            "{w} 전문 업체로 20대 관리사가 직접 방문합니다.",
            "{w} 후불제로 운영하고 있어 선입금 없이 이용 가능합니다.",
            "서울 경기 인천 전 지역 {n}분 안에 {w} 도착합니다.",
            "{w} 최신 주소를 매일 업데이트합니다.",
            "19금 {w} 무료 회원가입 후 바로 이용하실 수 있습니다.",
            "카톡 {code} 친추하시면 {w} 실사 프로필을 보내 드립니다.",
            "비밀 보장되는 {w}, 지금 바로 예약하세요.",
            "외로운 밤 {w}와 함께 특별한 시간을 보내세요.",
        ],
    ),
    "loan": (
        ["무직자대출", "당일대출", "소액대출", "신용불량자대출", "비상금대출", "일수대출", "개인돈대출", "주부대출",
         "무서류대출", "급전"],
        [
            "{w} 가능한 곳을 찾고 계신다면 지금 바로 상담하세요.",
            "신용등급 상관없이 {w} 최대 {n}00만원까지 승인됩니다.",
            "{w}는 서류 없이 휴대폰 인증만으로 {m}분 만에 입금됩니다.",
            "연체자도 {w} 가능하며 상담은 무료입니다.",
            "{w} 승인율 {n}%, 부결 시에도 다른 상품을 안내해 드립니다.",
            "대출 문의는 카톡 {code} 또는 010-{n}{m}-{n}{m}로 연락 주세요.",
            "급하게 돈이 필요할 때 {w}로 당일 해결하세요.",
            "저금리 {w} 상품을 비교하고 한도를 조회해 보세요.",
        ],
    ),
    "follower_selling": (
        ["인스타 팔로워", "유튜브 구독자", "좋아요", "틱톡 팔로워", "페이스북 페이지 좋아요", "인스타 조회수"],
        [
            "{w} 늘리기 가장 빠른 방법, 지금 구매하세요.",
            "실제 한국인 {w} {n}00명을 {m}천원에 드립니다.",
            "{w} 구매 후 {m}시간 안에 반영되며 이탈 시 무료로 리필해 드립니다.",
            "맞팔 선팔 환영, {w} 작업 문의는 DM 주세요.",
            "계정 비밀번호 없이 안전하게 {w}를 늘려 드립니다.",
            "인플루언서가 되고 싶다면 {w}부터 늘리세요.",
            "{w} 자동 늘리기 프로그램 무료 체험 신청하세요.",
            "카톡 {code}로 문의하시면 {w} 할인 쿠폰을 드립니다.",
        ],
    ),
}

_EN_SPAM = {
    "gambling": (
        ["online casino", "sports betting site", "baccarat site", "slot site", "live casino", "betting app", "poker room"],
        [
            "Looking for a safe {w}? We have reviewed the best ones for ten years.",
            "Sign up today and get a {n}% welcome bonus plus {m} free spins.",
            "Our {w} ranking is updated daily so you can bet with confidence.",
            "Withdrawals are processed in {n} minutes and there are no betting limits.",
            "Use the promo code {code} at the {w} to unlock an extra deposit bonus.",
            "Play baccarat, blackjack and roulette at the {w} around the clock.",
            "Thousands of players won big at this {w} last week.",
            "Contact our agent on Telegram {code} to claim the jackpot offer.",
        ],
    ),
    "adult": (
        ["escort service", "adult webcam", "hot singles", "adult videos", "massage parlour", "sex toys shop"],
        [
            "The best {w} in your area is only one click away.",
            "Meet {w} tonight with no registration and no credit card.",
            "Our {w} is discreet, verified and available {n} hours a day.",
            "Watch free {w} in HD, updated every day with new girls.",
            "Add {code} on WhatsApp to see real photos from the {w}.",
            "Book the {w} now and get {n}% off your first visit.",
        ],
    ),
    "loan": (
        ["payday loan", "bad credit loan", "instant cash loan", "same day loan", "no credit check loan", "title loan"],
        [
            "Need money fast? Apply for a {w} and get approved in {m} minutes.",
            "A {w} of up to ${n}00 is deposited in your account today.",
            "No paperwork and no credit check: our {w} is open to everyone.",
            "Even with bad credit you can get a {w}, guaranteed approval.",
            "Compare {w} rates and borrow up to ${n},000 with one form.",
            "Call {code} now for a free {w} quote.",
        ],
    ),
    "follower_selling": (
        ["Instagram followers", "YouTube subscribers", "TikTok likes", "Twitter followers", "Facebook page likes"],
        [
            "Buy real {w} cheap and grow your account overnight.",
            "Get {n}00 {w} for only ${m}, delivered in one hour.",
            "Our {w} never drop, and we refill for free if they do.",
            "No password needed: we add {w} safely to any account.",
            "Become an influencer today with {w} from our trusted panel.",
            "Use code {code} for a discount on {w} packages.",
        ],
    ),
}

_KO_KEYWORDS = ["맛집", "추천", "후기", "가격", "할인", "최저가", "비교", "순위", "무료", "사이트", "방법", "정보", "총정리",
                "2024", "바로가기", "쿠폰", "이벤트", "다운로드", "보기", "실시간", "검색어", "인기", "베스트", "리뷰"]
_KO_TOPICS = ["강남", "홍대", "부산", "제주", "다이어트", "보험", "노트북", "아이폰", "영화", "드라마", "웹툰", "중고차",
              "원룸", "인테리어", "탈모", "성형", "임플란트", "치아교정", "운세", "로또"]
_EN_KEYWORDS = ["best", "cheap", "review", "price", "discount", "free", "download", "online", "near me", "2024", "top 10",
                "deals", "coupon", "buy", "sale", "guide", "official", "login", "app", "list"]
_EN_TOPICS = ["hotels", "laptop", "iphone", "insurance", "dentist", "weight loss", "used cars", "movies", "recipes",
              "vpn", "shoes", "plumber", "lawyer", "flights", "watches"]
_KO_MENU = ["홈", "뉴스", "정치", "경제", "사회", "생활/문화", "세계", "IT/과학", "연예", "스포츠", "날씨", "로그인", "회원가입",
            "고객센터", "공지사항", "이벤트", "마이페이지", "장바구니", "사이트맵", "전체메뉴", "검색", "카페", "블로그",
            "쇼핑", "지도", "증권", "부동산", "웹툰", "더보기", "이용약관", "개인정보처리방침", "청소년보호정책"]
_EN_MENU = ["Home", "News", "World", "Business", "Tech", "Science", "Health", "Sports", "Entertainment", "Weather", "Login",
            "Sign up", "Contact us", "About", "Careers", "Help", "Shop", "Cart", "My account", "Sitemap", "Search",
            "Privacy", "Terms", "Advertise", "Newsletter", "Subscribe", "More"]
_KO_NICKS = ["행복한하루", "지나가다", "ㅇㅇ", "익명", "조용한바다", "밤하늘", "커피한잔", "누구세요", "댓글러", "초보맘"]
_KO_COMMENTS = ["ㅋㅋㅋㅋㅋ", "ㄹㅇ", "대박", "좋아요", "잘 보고 갑니다~", "굿", "ㅠㅠ", "1등", "퍼가요~", "ㅇㅈ", "헐",
                "이게 뭐야 ㅋㅋ", "추천 누르고 갑니다", "공감", "맞팔해요", "소통해요~", "ㅎㅎㅎ", "와우", "최고", "감사"]
_EN_NICKS = ["guest", "anon", "john_d", "sarah88", "mike", "reader", "visitor", "user123", "kate", "tom"]
_EN_COMMENTS = ["lol", "first!", "nice", "great post", "thanks", "+1", "this", "same", "wow", "agreed", "cool",
                "so true", "haha", "love it", "check my channel", "follow me", "omg", "yes", "nope", "me too"]


def page(kind: str, lang: str, index: int) -> str:
    """The `index`-th constructed page of one junk kind in `lang` ("ko" or "en")."""
    if kind not in KINDS:
        raise ValueError(f"unknown junk kind {kind!r}; one of {', '.join(KINDS)}")
    rng = random.Random(f"{kind}:{lang}:{index}")
    builder = {
        "seo_keywords": _seo_keywords,
        "portal_menu": _portal_menu,
        "link_list": _link_list,
        "comment_section": _comment_section,
    }.get(kind, _spam_prose)
    return builder(rng, kind, lang)


def pages(kind: str, lang: str, count: int) -> list[str]:
    return [page(kind, lang, i) for i in range(count)]


def _spam_prose(rng: random.Random, kind: str, lang: str) -> str:
    words, templates = (_KO_SPAM if lang == "ko" else _EN_SPAM)[kind]
    paragraphs = []
    for _ in range(rng.randint(2, 5)):
        sentences = [
            rng.choice(templates).format(
                w=rng.choice(words), n=rng.randint(2, 9), m=rng.randint(1, 9), code=f"{rng.choice('abkxz')}{rng.randint(100, 9999)}"
            )
            for _ in range(rng.randint(2, 5))
        ]
        paragraphs.append(" ".join(sentences))
    return "\n\n".join(paragraphs)


def _seo_keywords(rng: random.Random, kind: str, lang: str) -> str:
    keywords, topics = (_KO_KEYWORDS, _KO_TOPICS) if lang == "ko" else (_EN_KEYWORDS, _EN_TOPICS)
    lines = []
    for _ in range(rng.randint(8, 20)):
        topic = rng.choice(topics)
        phrases = [f"{topic} {rng.choice(keywords)}" for _ in range(rng.randint(3, 8))]
        lines.append(rng.choice([", ", " ", " | ", " · "]).join(phrases))
    return "\n".join(lines)


def _portal_menu(rng: random.Random, kind: str, lang: str) -> str:
    items = _KO_MENU if lang == "ko" else _EN_MENU
    sections = []
    for _ in range(rng.randint(3, 6)):
        sections.append("\n".join(rng.sample(items, rng.randint(6, 14))))
    return "\n\n".join(sections)


def _link_list(rng: random.Random, kind: str, lang: str) -> str:
    topics, keywords = (_KO_TOPICS, _KO_KEYWORDS) if lang == "ko" else (_EN_TOPICS, _EN_KEYWORDS)
    lines = []
    for i in range(rng.randint(10, 30)):
        title = f"{rng.choice(topics)} {rng.choice(keywords)} {rng.choice(keywords)}"
        url = f"https://{rng.choice(['blog', 'cafe', 'news', 'www'])}.example{rng.randint(1, 99)}.com/{rng.randint(1000, 99999)}"
        lines.append(rng.choice([f"{title} - {url}", f"▶ {title}", f"{i + 1}. {title} ({url})", f"[{title}]"]))
    return "\n".join(lines)


def _comment_section(rng: random.Random, kind: str, lang: str) -> str:
    nicks, comments = (_KO_NICKS, _KO_COMMENTS) if lang == "ko" else (_EN_NICKS, _EN_COMMENTS)
    actions = "답글 신고 좋아요" if lang == "ko" else "Reply Report Like"
    lines = []
    for _ in range(rng.randint(8, 25)):
        stamp = f"2024.{rng.randint(1, 12):02d}.{rng.randint(1, 28):02d} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}"
        lines.append(f"{rng.choice(nicks)} {stamp}")
        lines.append(" ".join(rng.choice(comments) for _ in range(rng.randint(1, 3))))
        lines.append(f"{actions} {rng.randint(0, 99)}")
    return "\n".join(lines)
