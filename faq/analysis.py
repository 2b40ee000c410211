"""Turn normalised text into match features, the same way for FAQ phrasings and questions.

Features are plain strings in four channels, told apart by their form:
  商          hanzi unigram (recall for one-character words and typos)
  商标        hanzi bigram  (Chinese has no spaces; see below)
  regist      English stem  (register/registered/registration all become "regist")
  #trademark  concept from faq/lexicon.py (bridges zh/en and synonyms)

Measured on the tuning set and on leave-one-out over the FAQ phrasings (bench/
bench_match.py prints the comparison): jieba words matched no better than character
bigrams, ranked worse on leave-one-out, and cost ~0.6 s to load. Homophone slips
(商摽, 续占, 侵全) are caught by matching lexicon terms by their pinyin (`_concepts_in`);
a pinyin-bigram feature channel on top of that made no measurable difference.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache

from faq.lexicon import CONCEPTS, TOPIC_WORDS, Concept
from faq.models import Category
from faq.normalize import is_hanzi, normalize
from faq.pinyin import syllable

CONCEPT_PREFIX = "#"
STEM_LENGTH = 6  # truncation stem: cheap, and absorbs late typos ("trademrak" → "tradem")

_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[a-z]+|\d+|[®©]")
_SYMBOLS = frozenset("®©")
_SPELLING = {
    "licence": "license",
    "licences": "licenses",
    "licenced": "licensed",
    # Members write "tm" for their trademark ("our tm got squatted"); ™ folds to "tm" too,
    # and the symbol question keeps its own concept ("tm symbol", "®", "r symbol").
    "tm": "trademark",
    # The 6-letter stem would make these "custom", the stem of "customs": "our customer
    # owes us $50,000" is not a customs question.
    "customer": "client",
    "customers": "clients",
    "custom": "bespoke",
    "customise": "bespoke",
    "customised": "bespoke",
    "customize": "bespoke",
    "customized": "bespoke",
    "customization": "bespoke",
    "customisation": "bespoke",
}

# Function words that say nothing about which FAQ is meant. Question words stay out of
# the index too; "many"/"much" stay, as "how many years" and "how much" differ.
STOP_WORDS = frozenset(
    """
    a an the of to in on at for from by with about into over after before as and or
    but if then than so is are was were be been being am do does did doing done have
    has had having i me my we us our ours you your yours he him his she her it its
    they them their this that these those there here what which who whom whose when
    where why how can could should would will shall may might please pls plz hi
    hello dear thanks thank any some all also just only very more most other such
    own same too not no nor yes ok okay s t d ll re ve m get got let one question
    questions regarding know want like tell
    """.split()  # noqa: SIM905 - a word list reads better as text
)


# Chinese question and filler words, removed like English stop words: without this,
# "®标志什么时候可以用" matches "商标什么时候可以开始续展" on 什么时候可以 alone. Words
# that tell questions apart (多久 vs 多少钱, 几年) are kept.
ZH_STOP_WORDS: tuple[str, ...] = tuple(
    """
    什么时候 为什么 问一下 想问 请问 什么 怎么 怎样 咋样 如何 时候 可以 我们 你们 我想
    一下 这个 那个 就是 一般 应该 关于 问题 的 了 吗 呢 吧 啊 呀 嘛 哦 哈 嗯 啥 咋
    """.split()  # noqa: SIM905
)
_ZH_STOP = re.compile("|".join(sorted(ZH_STOP_WORDS, key=len, reverse=True)))


@dataclass(frozen=True, slots=True)
class Analysis:
    text: str  # normalised text
    tokens: frozenset[str]
    concepts: frozenset[str]
    remit: float  # evidence that the text is about IP or the association
    category_votes: dict[Category, float]

    @property
    def topic_only(self) -> bool:
        """True when the text names a topic and nothing more ("专利", "trademark?")."""
        return bool(self.tokens) and self.tokens <= _topic_tokens()


def stem(word: str) -> str:
    word = _SPELLING.get(word, word)
    if len(word) > 3 and word.endswith("ies"):
        word = word[:-3] + "y"
    elif len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    return word[:STEM_LENGTH]


@cache
def _zh_surfaces() -> tuple[tuple[str, Concept], ...]:
    return tuple((form, c) for c in CONCEPTS for form in c.zh)


@cache
def _zh_surfaces_by_start() -> dict[str, tuple[tuple[str, Concept], ...]]:
    """Chinese surfaces keyed by their first two characters (one for 1-character forms),
    so that a scan costs one lookup per position, also for 2,000-character answers."""
    table: dict[str, list[tuple[str, Concept]]] = {}
    for form, concept in _zh_surfaces():
        table.setdefault(form[:2], []).append((form, concept))
    return {key: tuple(value) for key, value in table.items()}


@cache
def _zh_surface_initials() -> frozenset[str]:
    return frozenset(form[0] for form, _ in _zh_surfaces())


@cache
def _zh_surfaces_by_sound() -> dict[
    tuple[str, str], tuple[tuple[str, tuple[str, ...], Concept], ...]
]:
    """Chinese surfaces of two or more hanzi keyed by the pinyin of their first two."""
    table: dict[tuple[str, str], list[tuple[str, tuple[str, ...], Concept]]] = {}
    for form, concept in _zh_surfaces():
        if len(form) >= 2 and all(is_hanzi(ch) for ch in form):
            sounds = tuple(syllable(ch) for ch in form)
            table.setdefault((sounds[0], sounds[1]), []).append((form, sounds, concept))
    return {key: tuple(value) for key, value in table.items()}


@cache
def _en_surfaces() -> dict[str, tuple[tuple[tuple[str, ...], Concept], ...]]:
    """English surfaces as stem sequences, keyed by their first stem."""
    table: dict[str, list[tuple[tuple[str, ...], Concept]]] = {}
    for concept in CONCEPTS:
        for form in concept.en:
            stems = tuple(stem(w) for w in _RUN.findall(form.lower()))
            if stems:
                table.setdefault(stems[0], []).append((stems, concept))
    return {key: tuple(value) for key, value in table.items()}


@cache
def _stop_stems() -> frozenset[str]:
    return frozenset(stem(w) for w in STOP_WORDS)


@cache
def _topic_tokens() -> frozenset[str]:
    tokens: set[str] = set()
    for word in TOPIC_WORDS:
        tokens |= analyse(word).tokens
    return frozenset(tokens)


def lexicon_stems() -> frozenset[str]:
    """Stems the lexicon knows, so that typos can be corrected towards them too."""
    return frozenset(s for forms in _en_surfaces().values() for stems, _ in forms for s in stems)


def analyse(text: str) -> Analysis:
    """Features of knowledge-base text, which is spelled as its authors meant."""
    return analyse_normalised(normalize(text))


def analyse_normalised(
    norm: str, correct: Callable[[str], str] | None = None, *, sound_alike: bool = False
) -> Analysis:
    """Features of normalised text. For members' questions, `correct` maps an unknown
    English stem to a known one and `sound_alike` finds lexicon terms typed with a
    homophone (商摽 → 商标)."""
    tokens: set[str] = set()
    stems: list[str] = []
    hanzi_runs: list[str] = []
    for run in _RUN.findall(norm):
        if is_hanzi(run[0]):
            hanzi_runs.append(run)
            _add_hanzi_features(run, tokens)
        elif run.isdigit() or run in _SYMBOLS:
            stems.append(run)
        else:
            word = stem(run)
            if correct is not None and word not in _stop_stems():
                word = correct(word)
            stems.append(word)
    stop = _stop_stems()
    tokens.update(s for s in stems if (len(s) > 1 and s not in stop) or s in _SYMBOLS)

    concepts = _concepts_in(norm, hanzi_runs if sound_alike else (), stems)
    tokens.update(CONCEPT_PREFIX + c.name for c in concepts)
    # Two different words for one concept ("office address and opening hours") count
    # twice as much evidence as one; more add nothing.
    evidence = {c: c.remit * min(count, 2) for c, count in concepts.items()}
    votes: dict[Category, float] = {}
    for c, amount in evidence.items():
        if c.category is not None and amount > 0:
            votes[c.category] = votes.get(c.category, 0.0) + amount
    # Off-topic words (negative remit: 货款, salary) cancel weak evidence (对方, 纠纷,
    # 赔偿) but never a word that is an IP question on its own (专利, trademark).
    strong = sum(a for c, a in evidence.items() if c.remit >= 1.0)
    weak = sum(a for c, a in evidence.items() if 0.0 < c.remit < 1.0)
    against = -sum(a for a in evidence.values() if a < 0)
    return Analysis(
        text=norm,
        tokens=frozenset(tokens),
        concepts=frozenset(c.name for c in concepts),
        remit=strong + max(0.0, weak - against),
        category_votes=votes,
    )


def _add_hanzi_features(run: str, tokens: set[str]) -> None:
    stop = [False] * len(run)
    for match in _ZH_STOP.finditer(run):
        stop[match.start() : match.end()] = [True] * (match.end() - match.start())
    for i, ch in enumerate(run):
        if stop[i]:
            continue
        tokens.add(ch)
        if i + 1 < len(run) and not stop[i + 1]:
            tokens.add(run[i : i + 2])


def _concepts_in(norm: str, hanzi_runs: Iterable[str], stems: list[str]) -> dict[Concept, int]:
    """Concepts in the text, each with the number of its distinct surface forms found."""
    by_start = _zh_surfaces_by_start()
    forms: set[str] = set()
    found: dict[Concept, int] = {}
    starts = _zh_surface_initials()
    for i, ch in enumerate(norm):
        if ch not in starts:
            continue
        for key in (norm[i : i + 2], ch):
            for form, concept in by_start.get(key, ()):
                if form not in forms and norm.startswith(form, i):
                    forms.add(form)
                    found[concept] = found.get(concept, 0) + 1
    # A one-character slip keeps the sound and usually one character: 商摽, 著做权.
    by_sound = _zh_surfaces_by_sound()
    for run in hanzi_runs:
        sounds = [syllable(ch) for ch in run]
        for i in range(len(run) - 1):
            for form, form_sounds, concept in by_sound.get((sounds[i], sounds[i + 1]), ()):
                end = i + len(form)
                if concept in found or end > len(run) or tuple(sounds[i:end]) != form_sounds:
                    continue
                if any(a == b for a, b in zip(run[i:end], form, strict=True)):
                    found[concept] = 1
    en = _en_surfaces()
    seen: set[tuple[str, ...]] = set()
    for i, first in enumerate(stems):
        for form_stems, concept in en.get(first, ()):
            if form_stems not in seen and tuple(stems[i : i + len(form_stems)]) == form_stems:
                seen.add(form_stems)
                found[concept] = found.get(concept, 0) + 1
    return found
