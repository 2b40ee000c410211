"""Domain vocabulary: IP concepts in both languages, their category and how sure a sign of
"this is an IP question" each one is.

The concepts do three jobs: they bridge languages and synonyms (商标 = trademark,
版权 = 著作权, 软体 = 软件), they vote for a category, and their `remit` weight is the
evidence the engine needs before it may answer at all, so that 注册 in "python 注册表" or
"register for a marathon" never reaches the trademark entries.

English surface forms are written as plain words; they are stemmed like the text.
"""

from __future__ import annotations

from dataclasses import dataclass

from faq.models import Category


@dataclass(frozen=True, slots=True)
class Concept:
    name: str
    category: Category | None
    remit: float  # 1.0: an IP question on its own; 0.5: needs one more sign; < 0: against
    zh: tuple[str, ...]
    en: tuple[str, ...]


def _c(name: str, category: Category | None, remit: float, zh: str, en: str = "") -> Concept:
    return Concept(name, category, remit, tuple(zh.split()), tuple(en.split("|")) if en else ())


# `zh` is space-separated; `en` is |-separated because English forms may be phrases.
# remit 1.0 marks words that are IP questions on their own ("商标", "infringement");
# 0.5 marks words that lean towards IP or the association ("品牌", "培训"); 0.25 marks
# everyday words that only add up ("注册", "fee", "phone"); OFF_TOPIC words subtract.
# See faq/engine.py for how the sum is used.
CONCEPTS: tuple[Concept, ...] = (
    _c("ip", None, 1.0, "知识产权 智慧财产权 知产", "intellectual property|ip"),
    _c("cnipa", None, 1.0, "国家知识产权局 商标局 知识产权局", "cnipa|trademark office"),
    _c(
        "procedure",
        None,
        0.25,
        "注册 申请 登记 备案 流程 手续 材料 证书 下证",
        "register|registration|registered|apply|application|file|filing|procedure|certificate|cert",
    ),
    _c(
        "term",
        None,
        0.25,
        "有效期 保护期 期限 到期 过期 失效 能用几年 能用多少年 用多少年 管几年 保护几年 保护多久",
        "valid|validity|term|expire|expired|expiry|lapse|patent last|trademark last|"
        "copyright last|mark last|design last|model last|protection last|registration last|"
        "it last|they last",
    ),
    _c("protect", None, 0.25, "保护 维护权益", "protect|protection"),
    _c(
        "search",
        None,
        0.25,
        "查询 检索 怎么查 查一下 查查 在哪查 哪里查",
        "search|look up|check availability",
    ),
    _c("ownership", None, 0.5, "归属 归谁 属于谁 权属 委托", "ownership|owns|owner|commissioned"),
    _c(
        "license",
        None,
        0.25,
        "许可 授权 转让 过户",
        "license|licensing|assignment|assign|transfer",
    ),
    _c(
        "abroad",
        None,
        0.25,
        "海外 国外 境外 外国 出口 欧洲 欧盟 美国 日本 韩国 东南亚 德国 英国 中东 非洲 俄罗斯 印度",
        "abroad|overseas|foreign|export|international|europe|eu|usa|america|japan|korea|"
        "southeast asia|germany|uk|middle east|africa|russia|india",
    ),
    _c("design", None, 0.25, "外观 设计图 设计稿", "design|designs"),
    _c("lawyer", None, 0.5, "律师 代理机构 代理人", "lawyer|attorney|agent|law firm"),
    _c("counterparty", None, 0.5, "对方 竞争对手 同行", "other side|other party|competitor"),
    _c(
        "our-asset",
        None,
        0.5,
        "我们的产品 我们产品 我们的设计 我们的品牌 我们品牌 我们的牌子 我们的图片 我们的技术 "
        "我们的包装 我们的logo 我的产品 我的设计 我的作品",
        "our product|our products|our design|our designs|our brand|our logo|our photo|our photos|"
        "our technology|our packaging|our invention|my product|my products|my design|my designs|"
        "my brand|my logo|my photo|my photos|my work|my invention",
    ),
    # trademark
    _c("trademark", "trademark", 1.0, "商标 注册商标", "trademark|trade mark"),
    _c(
        "brand",
        "trademark",
        0.5,
        "品牌 牌子 标识 标志 商号 品牌名",
        "brand|logo|mark|marks|word mark",
    ),
    _c("squatting", "trademark", 1.0, "抢注 恶意注册 抢先注册 异议", "squat|squatting|opposition"),
    _c("renewal", "trademark", 0.5, "续展 续期 宽展 续注", "renew|renewal|grace period"),
    _c(
        "nice-class",
        "trademark",
        0.5,
        "类别 尼斯 分类 小类 跨类",
        "nice classification|class|classes",
    ),
    _c("nonuse", "trademark", 1.0, "撤三 连续三年不使用 不使用撤销", "non use|nonuse"),
    _c(
        "refusal",
        "trademark",
        0.5,
        "驳回 复审 驳回复审 驳了",
        "refusal|refused|rejection|rejected",
    ),
    _c("madrid", "trademark", 1.0, "马德里", "madrid"),
    _c(
        "reg-symbol",
        "trademark",
        1.0,
        "® r标 tm标 注册标记 标r 打r 印r",
        "®|tm symbol|tm mark|tm sign|r symbol|registered symbol|trademark symbol",
    ),
    # patent
    _c(
        "patent",
        "patent",
        1.0,
        "专利 专利权 专利号 发明专利 外观专利 一案双申",
        "patent|patents|patented|patentable",
    ),
    _c("invention", "patent", 0.5, "发明 发明人 发明创造", "invention|inventor|invent"),
    _c("utility-model", "patent", 1.0, "实用新型 实新", "utility model"),
    _c("design-patent", "patent", 1.0, "外观设计", "design patent|industrial design|hague"),
    _c("annual-fee", "patent", 0.5, "年费 滞纳金", "annual fee|annuity|annuities"),
    _c("pct", "patent", 1.0, "国家阶段 国际申请 海牙", "pct|national phase"),
    _c("priority", "patent", 0.5, "优先权", "priority"),
    _c(
        "patentability",
        "patent",
        1.0,
        "新颖性 创造性 实用性 授权条件",
        "novelty|inventive|inventiveness",
    ),
    _c("fto", "patent", 1.0, "自由实施 侵权风险排查", "freedom to operate|fto"),
    _c(
        "service-invention",
        "patent",
        1.0,
        "职务发明 职务作品",
        "service invention|employee invention",
    ),
    _c("examination", None, 0.5, "实审 实质审查 初审 审查", "substantive examination|examination"),
    # copyright
    _c("copyright", "copyright", 1.0, "版权 著作权 版权局", "copyright|copyrights|copywrite"),
    _c(
        "software-cr",
        "copyright",
        1.0,
        "软著 软件著作权 软件版权 计算机软件著作权",
        "software copyright|ruanzhu",
    ),
    _c("software", "copyright", 0.5, "软件 代码 源代码 源码 程序 小程序 app", "software|code|app"),
    _c(
        "work",
        "copyright",
        0.5,
        "作品 原创 署名 作者 图片 照片 摄影 视频 文案 字体 音乐 歌曲 文章 插画 图案",
        "artwork|author|photo|photos|photograph|photographer|picture|pictures|image|"
        "images|video|videos|font|fonts|music|song|article|illustration",
    ),
    _c("work-generic", "copyright", 0.25, "", "work|works"),
    # infringement
    _c(
        "unauthorised",
        "infringement",
        1.0,
        "未经许可 未经授权 未授权 擅自使用",
        "without permission|without authorization|without authorisation|unauthorized|unauthorised",
    ),
    _c(
        "infringe",
        "infringement",
        1.0,
        "侵权 侵犯 仿冒 假冒 山寨 盗版 抄袭 盗用 冒用 高仿 仿制 假货 仿品 侵权链接 售假 卖假",
        "infringe|infringement|infringing|infringer|counterfeit|counterfeits|fake|fakes|"
        "knockoff|knock off|copycat|pirated|piracy|passing off",
    ),
    _c(
        "copying",
        "infringement",
        0.5,
        "抄 仿 模仿 照搬 冒充 盗图 一模一样 同款 翻版",
        "copy|copie|copied|copyin|imitat|imitation|replica|clone|cloned|exact copy|exact copies",
    ),
    _c("enforce", "infringement", 1.0, "维权 打假", "enforcement|enforce"),
    _c(
        "warning-letter",
        "infringement",
        1.0,
        "律师函 警告函 侵权通知 告知函",
        "cease and desist|lawyer letter|warning letter|demand letter",
    ),
    _c(
        "cease",
        "infringement",
        0.5,
        "停止销售 停止生产 停止侵权 停止使用 承诺书",
        "stop selling|stop production|stop producing|stop making|cease|undertaking",
    ),
    _c(
        "lawsuit",
        "infringement",
        0.5,
        "起诉 诉讼 打官司 法院 应诉 传票 告他 告我们 被告 被人告 原告 禁令",
        "sue|lawsuit|litigation|court|summons|tro|schedule a|gbc|defendant|plaintiff|injunction",
    ),
    _c(
        "damages",
        "infringement",
        0.5,
        "赔偿 索赔 损失 赔钱 惩罚性赔偿 法定赔偿",
        "damages|compensation|punitive damages|statutory damages|demanding|demands|demanded",
    ),
    _c(
        "customs-ip",
        "infringement",
        1.0,
        "海关备案 海关知识产权 知识产权海关 扣货",
        "customs recordation|customs recordal|customs record",
    ),
    # Customs alone is half the evidence: goods held over a wrong invoice are not ours.
    _c("customs", "infringement", 0.5, "海关", "customs|cbp"),
    _c(
        "trade-secret",
        "infringement",
        1.0,
        "商业秘密 技术秘密 泄密 竞业限制 保密协议",
        "trade secret|trade secrets|non disclosure|nda|non compete",
    ),
    _c(
        "takedown",
        "infringement",
        0.5,
        "下架 投诉 删除链接 链接",
        "takedown|take down|taken down|complaint|listing|listings",
    ),
    # Words of a platform or licensing dispute that members use without the word IP:
    # "ebay delist our items due to VeRO", "the licensee stopped paying royalty".
    _c(
        "ip-dispute-terms",
        "infringement",
        1.0,
        "版税 专利费 许可费 授权费 临时限制令",
        "vero|ipr|royalty|royalties|licensee|licensor|brand registry|rights owner|"
        "right owner|brand owner",
    ),
    _c(
        "counter-notice",
        "infringement",
        1.0,
        "反通知 不侵权声明",
        "counter notice|counter notification",
    ),
    _c(
        "evidence",
        "infringement",
        0.5,
        "取证 证据 公证 存证 时间戳",
        "evidence|notarized|notarised|notary|notarization|notarisation|timestamp",
    ),
    _c(
        "evidence-legal",
        "infringement",
        1.0,
        "公证购买 公证取证 证据保全 区块链存证 可信时间戳",
        "notarized purchase|notarised purchase|evidence preservation",
    ),
    _c(
        "mediation",
        "infringement",
        0.5,
        "调解 纠纷 和解",
        "mediation|mediate|dispute|disputes|settle|settlement",
    ),
    _c(
        "limitation",
        "infringement",
        0.5,
        "诉讼时效 时效",
        "limitation period|statute of limitations",
    ),
    _c(
        "market-regulator",
        "infringement",
        0.5,
        "市场监管局 市场监督管理局 工商局 工商 查处 行政投诉 行政执法 行政处理",
        "market regulation|administrative enforcement|administrative complaint|"
        "administrative action|amr|aic",
    ),
    _c(
        "platform",
        None,
        0.5,
        "淘宝 天猫 京东 拼多多 亚马逊 阿里巴巴 电商 1688 抖音 平台 网店",
        "taobao|tmall|jd|pinduoduo|amazon|alibaba|ebay|e commerce|ecommerce|temu|shein|platform",
    ),
    # association services (category general)
    _c("association", "general", 1.0, "协会 贵协会 本会 秘书处", "association|secretariat"),
    _c("member", "general", 1.0, "会员 入会 会费 成为会员", "member|membership"),
    _c("join", "general", 0.5, "加入", "join|joining"),
    _c("expert", "general", 1.0, "专家 转人工 人工客服", "expert|experts|human agent"),
    _c("human", "general", 0.5, "人工 真人 工单", "human|real person|ticket"),
    # Asked of this bot, a lecture or a forum is the association's own: enough on its own.
    _c("lecture", "general", 1.0, "讲座 沙龙 研讨会 直播课", "seminar|webinar"),
    _c(
        "training",
        "general",
        0.5,
        "培训 论坛 课程 报名 活动",
        "training|trainings|course|forum|workshop|sign up|event|events",
    ),
    _c("consult", "general", 0.5, "咨询", "consultation|consult|consulting"),
    _c(
        "contact",
        "general",
        0.5,
        "联系方式 地址 办公时间 上班时间 办公地点",
        "contact|address|office|opening hours|office hours",
    ),
    _c("phone", "general", 0.25, "电话 热线 邮箱", "phone|hotline|email"),
    _c("addressee", "general", 0.5, "你们 贵会 贵单位", "your|you guys"),
    _c(
        "service",
        "general",
        0.5,
        "服务 帮企业 帮助企业 提供什么 指导 辅导",
        "service|services|offer|guidance",
    ),
    _c(
        "fee",
        None,
        0.5,
        "收费 费用 多少钱 免费 要钱 花钱 收钱",
        "fee|fees|cost|costs|price|free|charge",
    ),
)

# Everyday business matters that are not ours count against the weak evidence (see
# faq/analysis.py): "对方欠我们货款" names a counterparty and a dispute, but it is a debt,
# not an IP question.
OFF_TOPIC = _c(
    "off-topic",
    None,
    -0.5,
    "货款 欠款 欠钱 借款 贷款 工资 薪资 房租 租金 房东 质量问题 质量不行 退货 退款 停车 "
    "报关行 货代 运费",
    "owe|owes|debt|debts|loan|loans|salary|salaries|wage|wages|rent|landlord|refund|"
    "defect|defective|quality problem|parking|customs broker|freight|forwarder",
)
CONCEPTS = (*CONCEPTS, OFF_TOPIC)

# Words that only name the topic. A question made of nothing else ("专利", "trademark?",
# "商标问题") gets suggestions rather than whichever entry happens to score highest.
TOPIC_WORDS: tuple[str, ...] = (
    "商标",
    "专利",
    "版权",
    "著作权",
    "知识产权",
    "侵权",
    "协会",
    "trademark",
    "trade mark",
    "patent",
    "copyright",
    "ip",
    "intellectual property",
    "infringement",
    "infringe",
    "association",
)
