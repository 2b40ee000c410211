"""The learned escalation scorer: how likely a message is a live case, and its category.

Hard signals (faq/signals.py) catch what must always escalate; this scorer judges the
rest from labelled examples (faq/rules/scorer.yaml lists them). Three logistic
regressions over sparse binary features of the folded text — Chinese character
unigrams and bigrams, English words and word pairs, digits collapsed — one for
"escalate vs not", one for "about IP or the association at all" (remit), one for the
category. Only inference lives here and it is a dot
product over a dict, so the bot needs no machine-learning library; training
(`train`, run by `ipdesk faq train`) uses scikit-learn and writes faq/rules/scorer.json
deterministically, so a test can rebuild it and compare.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from faq.loader import load_knowledge_base
from faq.models import CATEGORIES, Category
from faq.normalize import is_hanzi, normalize

__all__ = ["MODEL_FILE", "Scorer", "features", "load_scorer"]

RULES = Path(__file__).parent / "rules"
MODEL_FILE = RULES / "scorer.json"
CONFIG_FILE = RULES / "scorer.yaml"
ROOT = Path(__file__).parent.parent
MAX_CHARS = 400  # the scorer reads this much of a message
MIN_COUNT = 2  # examples a feature must occur in to be learnt
MIN_WEIGHT = 1e-3  # smaller weights are dropped from the shipped model
ENTRY_MIN_WEIGHT = 0.05  # the entry model is wide (one row per entry): keep what matters
_WORD = re.compile(r"[a-z]+|[0-9]+")
_DIGITS = re.compile(r"[0-9]+")
# English endings folded so "copied"/"copies"/"copying" share a feature.
_SUFFIX = re.compile(r"(?:ing|ed|es|s)$")


def _stem(word: str) -> str:
    return _SUFFIX.sub("", word) if len(word) > 4 else word


def features(text: str) -> set[str]:
    """Binary features of a message: what both training and inference see."""
    folded = normalize(text[:MAX_CHARS])
    out: set[str] = set()
    words: list[str] = []
    run: list[str] = []

    def flush_run() -> None:
        for i, ch in enumerate(run):
            out.add("c:" + ch)
            if i:
                out.add("b:" + run[i - 1] + ch)
        run.clear()

    for token in folded.split(" "):
        start = 0
        for i, ch in enumerate(token):
            if is_hanzi(ch):
                if i > start:
                    words.extend(_WORD.findall(token[start:i]))
                run.append(ch)
                start = i + 1
            elif run:
                flush_run()
        words.extend(_WORD.findall(token[start:]))
        flush_run()
    words = ["0" if w.isdigit() else _stem(w) for w in words]
    for i, word in enumerate(words):
        out.add("w:" + word)
        if i:
            out.add("p:" + words[i - 1] + "_" + word)
    if _DIGITS.search(folded):
        out.add("has:digit")
    return out


@dataclass(frozen=True)
class Scorer:
    bias: float
    weights: Mapping[str, float]
    remit_bias: float
    remit_weights: Mapping[str, float]
    category_bias: Mapping[Category, float]
    category_weights: Mapping[Category, Mapping[str, float]]
    # Which entry a question is about: biases per entry id, and per feature the
    # (entry number, weight) pairs, so a question costs one lookup per feature.
    entry_ids: Sequence[str] = ()
    entry_bias: Sequence[float] = ()
    entry_weights: Mapping[str, Sequence[tuple[int, float]]] = field(default_factory=dict)

    def risk(self, text: str) -> float:
        """Probability (0–1) that the message is a live case for an expert."""
        return self.risk_of(features(text))

    def risk_of(self, feats: Iterable[str]) -> float:
        z = self.bias + sum(self.weights.get(f, 0.0) for f in feats)
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def remit_of(self, feats: Iterable[str]) -> float:
        """Probability (0–1) that the message is about IP or the association at all."""
        z = self.remit_bias + sum(self.remit_weights.get(f, 0.0) for f in feats)
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def entries_of(self, feats: Iterable[str]) -> dict[str, float]:
        """Softmax probabilities of the knowledge-base entries (empty without a model)."""
        if not self.entry_ids:
            return {}
        logits = list(self.entry_bias)
        for f in feats:
            for index, weight in self.entry_weights.get(f, ()):
                logits[index] += weight
        top = max(logits)
        exps = [math.exp(v - top) for v in logits]
        total = sum(exps)
        return {faq_id: e / total for faq_id, e in zip(self.entry_ids, exps, strict=True)}

    def category_of(self, feats: Iterable[str]) -> dict[Category, float]:
        """Softmax scores of the categories."""
        feats = list(feats)
        logits = {
            c: self.category_bias[c] + sum(self.category_weights[c].get(f, 0.0) for f in feats)
            for c in self.category_bias
        }
        top = max(logits.values())
        exps = {c: math.exp(v - top) for c, v in logits.items()}
        total = sum(exps.values())
        return {c: v / total for c, v in exps.items()}

    def to_json(self) -> dict[str, Any]:
        return {
            "bias": round(self.bias, 6),
            "weights": {k: round(v, 6) for k, v in sorted(self.weights.items())},
            "remit_bias": round(self.remit_bias, 6),
            "remit_weights": {k: round(v, 6) for k, v in sorted(self.remit_weights.items())},
            "category_bias": {c: round(v, 6) for c, v in self.category_bias.items()},
            "category_weights": {
                c: {k: round(v, 6) for k, v in sorted(w.items())}
                for c, w in self.category_weights.items()
            },
            "entry_ids": list(self.entry_ids),
            "entry_bias": [round(v, 6) for v in self.entry_bias],
            "entry_weights": {
                k: [[i, round(w, 4)] for i, w in pairs]
                for k, pairs in sorted(self.entry_weights.items())
            },
        }


@cache
def load_scorer(path: Path = MODEL_FILE) -> Scorer:
    raw = json.loads(path.read_text(encoding="utf-8"))
    return Scorer(
        bias=float(raw["bias"]),
        weights=raw["weights"],
        remit_bias=float(raw["remit_bias"]),
        remit_weights=raw["remit_weights"],
        category_bias=raw["category_bias"],
        category_weights=raw["category_weights"],
        entry_ids=tuple(raw.get("entry_ids", ())),
        entry_bias=tuple(raw.get("entry_bias", ())),
        entry_weights=raw.get("entry_weights", {}),  # lists of [entry number, weight]
    )


# ---------------------------------------------------------------------------------------
# Training (needs scikit-learn: pip install -e ".[dev]").


@dataclass(frozen=True)
class Example:
    text: str
    escalate: bool
    category: Category | None
    group: str  # the file it came from: cross-validation holds out whole files
    in_remit: bool | None = None  # False: off-topic ("fallback"); None: small talk
    faq_id: str | None = None  # the entry that answers it, for "answer" examples


def load_config(path: Path = CONFIG_FILE) -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return config


def load_examples(files: Sequence[str], root: Path = ROOT) -> list[Example]:
    examples: list[Example] = []
    for name in files:
        with (root / name).open(encoding="utf-8") as handle:
            for line in handle:
                if not line.strip():
                    continue
                raw = json.loads(line)
                category = raw.get("category")
                action = raw["action"]
                examples.append(
                    Example(
                        text=str(raw["text"]),
                        escalate=action == "escalate",
                        category=category if category in CATEGORIES else None,
                        group=Path(name).stem,
                        in_remit=None if action == "smalltalk" else action != "fallback",
                        faq_id=(raw.get("faq_id") or None) if action == "answer" else None,
                    )
                )
    return examples


def train(
    examples: Sequence[Example], escalation_c: float, category_c: float, entry_c: float = 4.0
) -> Scorer:
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    phrasings = [
        (q, e.id)
        for e in load_knowledge_base()
        for lang in ("zh", "en")
        for q in e.questions[lang]
    ]
    # A feature seen in one text only is that text's noise, not evidence.
    counts = Counter(
        f
        for text in [e.text for e in examples] + [q for q, _ in phrasings]
        for f in features(text)
    )

    def row(text: str) -> dict[str, int]:
        return dict.fromkeys(sorted(f for f in features(text) if counts[f] >= MIN_COUNT), 1)

    rows = [row(e.text) for e in examples]
    kb_rows = [(row(q), faq_id) for q, faq_id in phrasings]
    vectorizer = DictVectorizer(sort=True)
    vectorizer.fit(rows + [r for r, _ in kb_rows])
    matrix = vectorizer.transform(rows).tocsr()
    # liblinear accepts 32-bit indices only; DictVectorizer may hand out 64-bit ones
    matrix.indices = matrix.indices.astype("int32")
    matrix.indptr = matrix.indptr.astype("int32")
    names = vectorizer.get_feature_names_out()
    risk = LogisticRegression(
        C=escalation_c, class_weight="balanced", solver="liblinear", max_iter=1000
    )
    topical = [i for i, e in enumerate(examples) if e.in_remit]
    risk.fit(matrix[topical], [examples[i].escalate for i in topical])
    judged = [i for i, e in enumerate(examples) if e.in_remit is not None]
    remit = LogisticRegression(
        C=escalation_c, class_weight="balanced", solver="liblinear", max_iter=1000
    )
    remit.fit(matrix[judged], [bool(examples[i].in_remit) for i in judged])
    weights = {
        str(n): float(w) for n, w in zip(names, risk.coef_[0], strict=True) if abs(w) >= MIN_WEIGHT
    }
    labelled = [i for i, e in enumerate(examples) if e.category is not None]
    cats = LogisticRegression(C=category_c, solver="lbfgs", max_iter=2000)
    cats.fit(matrix[labelled], [examples[i].category for i in labelled])
    category_weights: dict[Category, dict[str, float]] = {}
    category_bias: dict[Category, float] = {}
    for number, category in enumerate(cats.classes_):
        category_bias[category] = float(cats.intercept_[number])
        category_weights[category] = {
            str(n): float(w)
            for n, w in zip(names, cats.coef_[number], strict=True)
            if abs(w) >= MIN_WEIGHT
        }
    # Which entry: the knowledge base's own phrasings plus the labelled answers.
    answered = [i for i, e in enumerate(examples) if e.faq_id is not None]
    entry_rows = [r for r, _ in kb_rows] + [rows[i] for i in answered]
    entry_labels = [label for _, label in kb_rows] + [str(examples[i].faq_id) for i in answered]
    which = LogisticRegression(C=entry_c, solver="lbfgs", max_iter=3000)
    which.fit(vectorizer.transform(entry_rows), entry_labels)
    entry_weights: dict[str, list[tuple[int, float]]] = {}
    for number in range(len(which.classes_)):
        for n, w in zip(names, which.coef_[number], strict=True):
            if abs(w) >= ENTRY_MIN_WEIGHT:
                entry_weights.setdefault(str(n), []).append((number, float(w)))
    return Scorer(
        entry_ids=tuple(str(c) for c in which.classes_),
        entry_bias=tuple(float(b) for b in which.intercept_),
        entry_weights=entry_weights,
        bias=float(risk.intercept_[0]),
        weights=weights,
        remit_bias=float(remit.intercept_[0]),
        remit_weights={
            str(n): float(w)
            for n, w in zip(names, remit.coef_[0], strict=True)
            if abs(w) >= MIN_WEIGHT
        },
        category_bias=category_bias,
        category_weights=category_weights,
    )


def build(config_path: Path = CONFIG_FILE) -> Scorer:
    config = load_config(config_path)
    examples = load_examples(config["training"])
    return train(examples, float(config["escalation_c"]), float(config["category_c"]))


def dump(scorer: Scorer) -> str:
    return (
        json.dumps(scorer.to_json(), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        + "\n"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m faq.scorer train` (the same as `ipdesk faq train`). Choosing the bands by
    cross-validation is `python -m faq.calibrate`."""
    import argparse

    parser = argparse.ArgumentParser(description="rebuild faq/rules/scorer.json")
    parser.add_argument("command", choices=["train"])
    parser.parse_args(argv)
    MODEL_FILE.write_text(dump(build()), encoding="utf-8")
    sys.stdout.write(f"wrote {MODEL_FILE}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
