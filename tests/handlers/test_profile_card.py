"""The /profile card: what it shows in each language, which buttons it offers."""

from __future__ import annotations

from bot.i18n import load_catalog
from bot.services.companies import CompanyInfo, MemberProfile
from handlers import keyboards
from handlers.profile_card import changeable, render

CATALOG = load_catalog()
LISTED = MemberProfile(
    1,
    CompanyInfo(5, "宁波海天塑机股份有限公司", "NBIP-0002", True, None),
    "<王>",
    None,
    "机械装备",
    ";eu;asean;",
    "北仑",
    frozenset({"industry", "export_markets"}),
)


def test_both_languages_show_every_item_and_lock_what_the_list_set() -> None:
    zh = render(CATALOG, "zh", LISTED)
    assert "👤 联系人：&lt;王&gt;" in zh  # member values are escaped
    assert "☎️ 电话：未填写" in zh
    assert "🏢 公司：宁波海天塑机股份有限公司（会员 NBIP-0002）" in zh
    assert "🏭 行业：机械装备 🔒" in zh
    assert "🌍 出口市场：欧盟、东盟 🔒" in zh
    assert "📍 所在地：北仑" in zh
    assert "联系协会秘书处" in zh
    en = render(CATALOG, "en", LISTED)
    assert "🏭 Industry: Machinery 🔒" in en
    assert "🌍 Export markets: EU, ASEAN 🔒" in en
    assert "contact the secretariat" in en
    assert "📍 City: 北仑" in en
    assert "not given" in en


def test_buttons_change_what_is_not_locked_and_delete_optional_values() -> None:
    change, delete = changeable(LISTED)
    assert change == ["contact", "phone", "company", "city"]
    assert delete == ["city"]
    markup = keyboards.my_profile(CATALOG, "en", change, delete)
    data = [b.callback_data for row in markup.inline_keyboard for b in row]
    assert data == ["pe:contact", "pe:phone", "pe:company", "pe:city", "pd:city"]
    no_company = MemberProfile(2, None, "Li", "13812345678")
    assert changeable(no_company) == (["contact", "phone", "company"], ["phone"])
    assert "Once your company is given" in render(CATALOG, "en", no_company)
