"""The catalogs are complete in both languages and render safely."""

from __future__ import annotations

from bot.i18n import load_catalog, normalise_lang, placeholders_of


def test_both_languages_have_the_same_keys_and_placeholders() -> None:
    catalog = load_catalog()
    assert catalog.keys("zh") == catalog.keys("en")
    for key in catalog.keys("zh"):
        assert placeholders_of(catalog.raw("zh", key)) == placeholders_of(
            catalog.raw("en", key)
        ), key
        assert catalog.raw("zh", key).strip(), key
        assert catalog.raw("en", key).strip(), key


def test_values_are_escaped() -> None:
    text = load_catalog().t("en", "topic_list", topic="<script>&")
    assert "&lt;script&gt;&amp;" in text


def test_language_codes() -> None:
    assert normalise_lang("zh-hans") == "zh"
    assert normalise_lang("zh-TW") == "zh"
    assert normalise_lang("en-GB") == "en"
    assert normalise_lang("ru") is None
    assert normalise_lang(None) is None
