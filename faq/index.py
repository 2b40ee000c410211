"""Inverted index over the FAQ, and the 0..1 similarity of a question to each entry.

Search runs in three steps so that it stays fast with thousands of entries:
1. candidates: entries sharing the question's rarer features (IDF-weighted sum over
   the postings; the most common features are skipped here, not in scoring);
2. exact score of the candidates that can still reach the top few (each has an upper
   bound from its phrasings' union coverage, so most are skipped), a weighted sum of
   - its best phrasing: qcov^a * pcov^(1-a), where qcov is the IDF-weighted share of
     the question's features found in the phrasing and pcov the share of the
     phrasing's features found in the question (a long question that only shares
     "商标" with a short phrasing scores low, and so does a long phrasing);
   - the share of the question covered by all its phrasings together, and
   - the share covered by the vocabulary of its answer, which knows words that members
     use and the phrasings lack ("一创作出来就有" ↔ "创作完成…自动产生");
   times `other_right` when the entry concerns a kind of right the question does not
   name while naming another ("专利转让" must not land on 商标转让);
3. for questions up to RERANK_CHARS long, rerank of the best few with rapidfuzz WRatio
   against their phrasings, which rewards near-verbatim questions and survives typos.
The weights were tuned on tests/data/eval_tuning.jsonl and on leave-one-out over the
FAQ's own phrasings (each asked with itself removed from the index): against the best
phrasing alone, the union and answer parts, `other_right` and the concept weight lift
leave-one-out top-1 from 61% to 77%, with the tuning set as good or better.
"""

from __future__ import annotations

import heapq
import math
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from operator import itemgetter

from rapidfuzz import fuzz, process

from faq.analysis import CONCEPT_PREFIX, Analysis, analyse, lexicon_stems
from faq.models import LANGS, Category, FaqEntry, KnowledgeBase, Lang
from faq.normalize import is_hanzi

# A near-verbatim question is short; longer ones only cost time in the rerank (a third of
# triage for members' stories) and, by cross-validation on the blind calibration pool, gain
# nothing from it (answer accuracy 95.4% either way, false answers 2.9% -> 2.7%).
RERANK_CHARS = 80
RIGHTS: frozenset[Category] = frozenset({"trademark", "patent", "copyright"})
# Answer texts are long; their single characters would match anything.
_ANSWER_CHANNELS = frozenset({"bigram", "word", "concept"})


@dataclass(frozen=True, slots=True)
class ScoringParams:
    unigram: float = 0.3  # channel weights, multiplied by the feature's IDF
    bigram: float = 1.0
    word: float = 1.0
    concept: float = 2.0
    unseen: float = 0.5  # a feature no phrasing has, relative to the rarest one
    question_exponent: float = 0.5  # `a` in qcov^a * pcov^(1-a)
    phrasing_share: float = 0.5  # the three parts of the exact score; they sum to 1
    union_share: float = 0.1
    answer_share: float = 0.4
    other_right: float = 0.6
    rerank_share: float = 0.15  # weight of the rapidfuzz similarity in the final score
    rerank_depth: int = 5
    candidates: int = 30  # entries scored exactly
    common_share: float = 0.2  # features in more entries than this skip step 1
    typo_cutoff: float = 80.0  # rapidfuzz ratio to correct an unknown English stem


@dataclass(frozen=True, slots=True)
class Phrasing:
    entry: int  # position in KnowledgeBase.entries
    lang: Lang
    text: str  # normalised
    tokens: tuple[str, ...]
    weight: float  # sum of the weights of `tokens`


@dataclass(frozen=True, slots=True)
class Hit:
    entry: int
    score: float  # 0..1
    phrasing: int  # index of the best phrasing in PhrasingIndex.phrasings
    coverage: float  # share of the question found in the entry's phrasings together
    phrasing_coverage: float  # share of that phrasing found in the question (pcov)


def channel(token: str) -> str:
    first = token[0]
    if first == CONCEPT_PREFIX:
        return "concept"
    if is_hanzi(first):
        return "unigram" if len(token) == 1 else "bigram"
    return "word"


class PhrasingIndex:
    def __init__(self, kb: KnowledgeBase, params: ScoringParams | None = None) -> None:
        self.params = p = params or ScoringParams()
        self.entries: tuple[FaqEntry, ...] = kb.entries
        self._channel_weight = {
            "unigram": p.unigram,
            "bigram": p.bigram,
            "word": p.word,
            "concept": p.concept,
        }
        raw = list(_phrasings(kb.entries))
        doc_freq: dict[str, int] = {}
        entry_postings: dict[str, list[int]] = {}
        for entry_index, _, _, tokens in raw:
            for token in tokens:
                doc_freq[token] = doc_freq.get(token, 0) + 1
                postings = entry_postings.setdefault(token, [])
                if not postings or postings[-1] != entry_index:
                    postings.append(entry_index)
        n = max(len(raw), 1)
        self._weight = {
            t: self._channel_weight[channel(t)] * _idf(n, df) for t, df in doc_freq.items()
        }
        self._unseen_idf = p.unseen * _idf(n, 1)
        self._postings = {t: tuple(ids) for t, ids in entry_postings.items()}
        self._common = max(1, int(p.common_share * len(self.entries)))
        self.phrasings: tuple[Phrasing, ...] = tuple(
            Phrasing(e, lang, text, tokens, sum(self._weight[t] for t in tokens))
            for e, lang, text, tokens in raw
        )
        by_entry: list[list[int]] = [[] for _ in self.entries]
        for i, phrasing in enumerate(self.phrasings):
            by_entry[phrasing.entry].append(i)
        self._by_entry = tuple(tuple(ids) for ids in by_entry)
        # pcov^(1-a) = matched^(1-a) * weight^(a-1): the phrasing's part is precomputed
        exponent = p.question_exponent - 1
        self._factor = array(
            "d", (ph.weight**exponent if ph.weight > 0 else 0.0 for ph in self.phrasings)
        )
        self._answer_postings = _answer_postings(kb.entries)

        words = {t for t in doc_freq if channel(t) == "word" and not t.isdigit()}
        self._vocabulary = frozenset(words | lexicon_stems())
        self._words_by_initial: dict[str, list[str]] = {}
        for word in sorted(self._vocabulary):
            self._words_by_initial.setdefault(word[0], []).append(word)
        self._corrections: dict[str, str] = {}

    def weight(self, token: str) -> float:
        found = self._weight.get(token)
        if found is not None:
            return found
        return self._channel_weight[channel(token)] * self._unseen_idf

    def correct(self, word: str) -> str:
        """The known English stem closest to an unknown one ("patnet" → "patent")."""
        if len(word) < 5 or word in self._vocabulary or word.isdigit():
            return word
        cached = self._corrections.get(word)
        if cached is not None:
            return cached
        candidates = [
            w
            for w in self._words_by_initial.get(word[0], ())
            # stems are truncated, so "count" must not become "counte(rfeit)"
            if not (w.startswith(word) or word.startswith(w))
        ]
        best = process.extractOne(
            word,
            candidates,
            scorer=fuzz.ratio,
            processor=None,
            score_cutoff=self.params.typo_cutoff,
        )
        result = best[0] if best else word
        if len(self._corrections) < 50_000:  # bounded: the words come from users
            self._corrections[word] = result
        return result

    def search(self, analysis: Analysis, lang: Lang | None = None, limit: int = 5) -> list[Hit]:
        """Best-scoring entries first, each with its best phrasing; `lang` is the
        question's language, whose phrasings the rerank compares it with."""
        query = analysis.tokens
        if not query:
            return []
        p = self.params
        query_weight = sum(self.weight(t) for t in query)
        named_rights = RIGHTS.intersection(analysis.category_votes)
        candidates = self._candidates(query)
        in_phrasings = self._coverage(query, candidates, self._postings)
        in_answer = self._coverage(query, candidates, self._answer_postings)
        # Exact scores only where they can reach the top `depth`: an entry's best-phrasing
        # part is at most (union share)^a, so its score has a cheap upper bound.
        depth = max(limit, p.rerank_depth)
        bounded: list[tuple[float, int, float, float]] = []
        for position, entry in enumerate(candidates):
            union = in_phrasings.get(entry, 0.0) / query_weight
            if union <= 0.0:
                continue
            category = self.entries[entry].category
            factor = (
                p.other_right
                if named_rights and category in RIGHTS and category not in named_rights
                else 1.0
            )
            bound = factor * (
                p.phrasing_share * union**p.question_exponent
                + p.union_share * union
                + p.answer_share * in_answer.get(entry, 0.0) / query_weight
            )
            bounded.append((bound * (1 + 1e-9), position, factor, union))
        bounded.sort(key=lambda b: (-b[0], b[1]))
        best: list[float] = []  # min-heap of the best `depth` exact scores so far
        scored: list[tuple[int, Hit]] = []
        for bound, position, factor, union in bounded:
            if len(best) >= depth and bound < best[0]:
                break
            entry = candidates[position]
            hit = self._score(entry, query, query_weight, union, in_answer.get(entry, 0.0))
            if hit is None:
                continue
            if factor != 1.0:
                hit = replace(hit, score=hit.score * factor)
            scored.append((position, hit))
            if len(best) < depth:
                heapq.heappush(best, hit.score)
            elif hit.score > best[0]:
                heapq.heapreplace(best, hit.score)
        # ties keep the candidates' order, as a stable sort of all of them would
        scored.sort(key=lambda s: (-s[1].score, s[0]))
        hits = [hit for _, hit in scored]
        question = analysis.text
        if len(question) > RERANK_CHARS:  # a story, not a near-verbatim question
            return hits[:limit]
        reranked = [self._rerank(h, question, lang) for h in hits[: max(limit, p.rerank_depth)]]
        reranked.sort(key=lambda h: -h.score)
        return reranked[:limit]

    def _candidates(self, query: frozenset[str]) -> list[int]:
        known = sorted(
            (t for t in query if t in self._postings), key=lambda t: len(self._postings[t])
        )
        scores: dict[int, float] = {}
        for position, token in enumerate(known):
            postings = self._postings[token]
            # The rare features decide; very common ones cost most and add little.
            if len(postings) > self._common and position >= 3:
                break
            w = self._weight[token]
            for entry in postings:
                scores[entry] = scores.get(entry, 0.0) + w
        best = heapq.nlargest(self.params.candidates, scores.items(), key=itemgetter(1))
        return [entry for entry, _ in best]

    def _coverage(
        self,
        query: frozenset[str],
        candidates: list[int],
        postings_of: Mapping[str, Sequence[int]],
    ) -> dict[int, float]:
        """Weight of the question's features that each candidate has in `postings_of`
        (its phrasings together, or its answer)."""
        found: dict[int, float] = {}
        wanted = set(candidates)
        for token in query:
            postings = postings_of.get(token)
            if postings is None:
                continue
            w = self.weight(token)
            if len(postings) <= 4 * len(candidates):
                entries: Iterable[int] = wanted.intersection(postings)
            else:  # long postings (10,000 entries): look the few candidates up instead
                entries = [e for e in candidates if _contains(postings, e)]
            for entry in entries:
                found[entry] = found.get(entry, 0.0) + w
        return found

    def _score(
        self,
        entry: int,
        query: frozenset[str],
        query_weight: float,
        union: float,
        in_answer: float,
    ) -> Hit | None:
        """The exact score of one entry; `union` is the share of the question that all its
        phrasings together cover."""
        p = self.params
        weight = self._weight.__getitem__
        # qcov^a * pcov^(1-a) = matched * query_weight^-a * phrasing_weight^(a-1): the
        # phrasing factor is precomputed and the question's is the same for every phrasing.
        best_value, best_phrasing, best_matched = 0.0, -1, 0.0
        phrasings, factors = self.phrasings, self._factor
        for index in self._by_entry[entry]:
            shared = query.intersection(phrasings[index].tokens)
            if shared:
                matched = sum(map(weight, shared))
                value = matched * factors[index]
                if value > best_value:
                    best_value, best_phrasing, best_matched = value, index, matched
        if best_phrasing < 0:
            return None
        a = p.question_exponent
        best_score = best_value * query_weight**-a
        score = (
            p.phrasing_share * best_score
            + p.union_share * union
            + p.answer_share * in_answer / query_weight
        )
        return Hit(
            entry, score, best_phrasing, union, best_matched / self.phrasings[best_phrasing].weight
        )

    def _rerank(self, hit: Hit, question: str, lang: Lang | None) -> Hit:
        texts = [
            phrasing.text
            for phrasing in map(self.phrasings.__getitem__, self._by_entry[hit.entry])
            if lang is None or phrasing.lang == lang
        ]
        best = process.extractOne(
            question,
            texts,
            scorer=fuzz.WRatio,
            processor=None,
            score_cutoff=0,
        )
        similarity = best[1] / 100.0 if best else 0.0
        share = self.params.rerank_share
        return replace(hit, score=(1 - share) * hit.score + share * similarity)


def _phrasings(entries: Iterable[FaqEntry]) -> Iterable[tuple[int, Lang, str, tuple[str, ...]]]:
    # One string object per distinct feature: 10,000 entries repeat "商标" 100,000 times.
    canonical: dict[str, str] = {}
    for e_index, entry in enumerate(entries):
        for lang in LANGS:
            for text in (entry.title[lang], *entry.questions[lang]):
                analysis = analyse(text)
                tokens = tuple(canonical.setdefault(t, t) for t in analysis.tokens)
                yield e_index, lang, analysis.text, tokens


def _answer_postings(entries: Sequence[FaqEntry]) -> dict[str, array[int]]:
    """Answer features → sorted entry positions; arrays keep 10,000 answers in tens of MB."""
    postings: dict[str, array[int]] = {}
    for e_index, entry in enumerate(entries):
        tokens: set[str] = set()
        for lang in LANGS:
            tokens.update(
                t for t in analyse(entry.answer[lang]).tokens if channel(t) in _ANSWER_CHANNELS
            )
        for token in tokens:
            found = postings.get(token)
            if found is None:
                postings[token] = found = array("I")
            found.append(e_index)
    return postings


def _contains(postings: Sequence[int], entry: int) -> bool:
    i = bisect_left(postings, entry)
    return i < len(postings) and postings[i] == entry


def _idf(n: int, df: int) -> float:
    return math.log(1.0 + (n - df + 0.5) / (df + 0.5))
