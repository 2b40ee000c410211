"""Normalisation, language detection and match features."""

from __future__ import annotations

import pytest

from faq.analysis import analyse, analyse_normalised, stem
from faq.language import detect_language
from faq.normalize import fold, normalize, to_simplified


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("我們的商標被搶註了怎麼辦？", "我们的商标被抢注了怎么办"),
        ("ＰＣＴ　申請１２個月", "pct 申请12个月"),  # full-width letters, digits and space
        ("  Trademark\tRENEWAL \n\n ", "trademark renewal"),
        ("商标续展!!!😀😀", "商标续展"),
        ("商标\u200b续展\u0007", "商标续展"),  # zero-width space and a control character
        ("what's ®?", "what s ®"),
        ("商标——续展……（急）", "商标 续展 急"),
        ("under_score", "under score"),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_fold_keeps_punctuation_for_the_risk_rules() -> None:
    assert fold("對方要求賠償５０萬元！") == "对方要求赔偿50万元!"
    assert fold("RMB 500,000") == "rmb 500,000"


def test_regional_words_only_for_traditional_input() -> None:
    assert to_simplified("軟體著作權") == "软件著作权"
    assert to_simplified("智慧財產權") == "知识产权"
    # Simplified text keeps its own words: 程序 is "procedure" in 申请程序.
    assert to_simplified("申请程序和程式") == "申请程序和程式"
    assert to_simplified("no hanzi") == "no hanzi"


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("商标怎么续展", "zh"),
        ("How do I renew a trademark?", "en"),
        ("我们的logo要注册trademark吗", "zh"),
        ("How do I register 软著?", "en"),
        ("what is 撤三 non use cancellation", "en"),
        ("商標續展", "zh"),
        ("ＴＲＡＤＥＭＡＲＫ", None),  # one Latin word never decides the language
        ("ok", None),
        ("PCT?", None),
        ("ok thanks", "en"),
        ("？？", None),
        ("123", None),
        ("😀", None),
        ("", None),
    ],
)
def test_detect_language(text: str, lang: str | None) -> None:
    assert detect_language(text) == lang


def test_one_latin_word_is_weak_evidence() -> None:
    assert detect_language("ＴＲＡＤＥＭＡＲＫ", weak=True) == "en"
    assert detect_language("PCT", weak=True) == "en"


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("registration", "regist"),
        ("registered", "regist"),
        ("registering", "regist"),
        ("companies", "compan"),
        ("licence", "licens"),
        ("patents", "patent"),
        ("fees", "fee"),
        ("process", "proces"),
    ],
)
def test_stem(word: str, expected: str) -> None:
    assert stem(word) == expected


def test_chinese_features_are_bigrams_without_question_words() -> None:
    tokens = analyse("商标什么时候续展").tokens
    assert {"商标", "续展", "商", "标", "续", "展"} <= tokens
    assert not {"什么", "么时", "标什"} & tokens


def test_english_features_drop_stop_words_and_keep_quantity_words() -> None:
    tokens = analyse("How many years does a registered trademark last?").tokens
    assert {"many", "year", "regist", "tradem", "last"} <= tokens
    assert not {"how", "does", "a"} & tokens


def test_concepts_bridge_languages_and_synonyms() -> None:
    assert "trademark" in analyse("商标注册").concepts
    assert "trademark" in analyse("trademark registration").concepts
    assert "copyright" in analyse("版权登记").concepts
    assert "copyright" in analyse("著作权登记").concepts
    assert "software-cr" in analyse("軟體著作權").concepts  # Taiwanese wording


def test_homophone_slips_find_the_term_only_for_questions() -> None:
    for typo, concept in [
        ("商摽注册", "trademark"),
        ("专例申请", "patent"),
        ("著做权", "copyright"),
    ]:
        assert concept in analyse_normalised(normalize(typo), sound_alike=True).concepts
        assert concept not in analyse(typo).concepts  # knowledge-base text is taken as written
    # Same sound but no character in common is another word: 上表 is not 商标.
    assert "trademark" not in analyse_normalised("上表", sound_alike=True).concepts


def test_remit_evidence() -> None:
    assert analyse("商标续展").remit >= 1.0
    assert analyse("今天天气怎么样").remit == 0.0
    assert analyse("python 注册表怎么改").remit < 0.5  # 注册 alone is an everyday word
    assert analyse("office address and opening hours").remit >= 1.0  # two words, one concept
