"""Figures for the FAQ engine: start-up, index build, match latency, memory.

    .venv/bin/python -m bench.bench_match [--entries 10000] [--skip-choices]

Prints, with the shipped knowledge base and with a synthetic one of --entries entries
made from the real entries with perturbed phrasings:
- Traditional→Simplified converters (OpenCC vs zhconv): load time, µs per string,
  agreement; jieba's load time against the character-bigram features;
- fresh-process import + load + engine build, and 1,000 questions including start-up
  (what `ipdesk ask --json` pays);
- index build time, match latency p50/p99 per question, peak memory (tracemalloc).
Timings are wall-clock on this machine; run it on an idle machine for stable figures.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from faq.engine import TriageEngine
from faq.loader import load_knowledge_base
from faq.models import LANGS, FaqEntry, KnowledgeBase

ROOT = Path(__file__).resolve().parent.parent
TUNING = ROOT / "tests" / "data" / "eval_tuning.jsonl"
FILLERS_ZH = ("请问", "我们公司", "那个", "一下", "麻烦问下", "急", "老板让我问")
FILLERS_EN = ("please", "hi", "our company", "quick question", "asap", "we")


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:8.2f} ms"


def _perturb(text: str, rng: random.Random, lang: str) -> str:
    """A member-like variant: a dropped or doubled character, a filler, a swap."""
    chars = list(text)
    roll = rng.random()
    if len(chars) > 4 and roll < 0.3:
        del chars[rng.randrange(len(chars))]
    elif len(chars) > 4 and roll < 0.6:
        i = rng.randrange(len(chars) - 1)
        chars[i], chars[i + 1] = chars[i + 1], chars[i]
    filler = rng.choice(FILLERS_ZH if lang == "zh" else FILLERS_EN)
    joined = "".join(chars)
    return f"{filler} {joined}" if rng.random() < 0.5 else f"{joined} {filler}"


def synthetic_kb(kb: KnowledgeBase, size: int, seed: int = 1) -> KnowledgeBase:
    """`size` entries cloned from the real ones, every phrasing perturbed."""
    rng = random.Random(seed)
    entries: list[FaqEntry] = []
    for n in range(size):
        base = kb.entries[n % len(kb.entries)]
        questions = {
            lang: tuple(_perturb(q, rng, lang) for q in base.questions[lang]) for lang in LANGS
        }
        entries.append(replace(base, id=f"{base.id}-{n}", questions=questions, related=()))
    return KnowledgeBase(entries)


def questions(kb: KnowledgeBase, count: int, seed: int = 2) -> list[str]:
    rng = random.Random(seed)
    texts = (
        [json.loads(line)["text"] for line in TUNING.open(encoding="utf-8")]
        if TUNING.exists()
        else []
    )
    phrasings = [(q, lang) for e in kb for lang in LANGS for q in e.questions[lang]]
    while len(texts) < count:
        q, lang = rng.choice(phrasings)
        texts.append(_perturb(q, rng, lang))
    texts += ["", "   ", "😀😀😀", "商标" * 5000, "how " * 3000]  # edge cases stay fast too
    return texts[:count]


def _percentiles(times: list[float]) -> tuple[float, float, float]:
    times.sort()
    p99 = times[min(len(times) - 1, int(0.99 * len(times)))]
    return statistics.median(times), p99, times[-1]


def latency(
    engine: TriageEngine, texts: Sequence[str]
) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    """(p50, p99, max) of wall time and of this thread's CPU time per question; on a shared
    machine the CPU figures show the engine's own cost, the wall ones include waiting."""
    wall: list[float] = []
    cpu: list[float] = []
    for text in texts:
        start, start_cpu = time.perf_counter(), time.thread_time()
        engine.triage(text)
        cpu.append(time.thread_time() - start_cpu)
        wall.append(time.perf_counter() - start)
    return _percentiles(wall), _percentiles(cpu)


def timed(build: Callable[[], object]) -> tuple[object, float, int]:
    """What `build` returns, its wall time and its peak traced memory in bytes."""
    tracemalloc.start()
    start = time.perf_counter()
    built = build()
    elapsed = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return built, elapsed, peak


def report_scale(name: str, kb: KnowledgeBase, texts: Sequence[str]) -> None:
    start = time.perf_counter()
    engine = TriageEngine(kb)
    build = time.perf_counter() - start
    _, _, peak = timed(lambda: TriageEngine(kb))  # again under tracemalloc, which is slower
    latency(engine, texts[:50])  # warm caches: pinyin table, OpenCC, typo corrections
    (p50, p99, worst), (c50, c99, cworst) = latency(engine, texts)
    print(f"[{name}] {len(kb)} entries, {len(engine.index.phrasings)} phrasings")
    print(f"  index build          {_ms(build)}   peak traced memory {peak / 2**20:7.1f} MiB")
    print(f"  match latency  wall  p50 {_ms(p50)}  p99 {_ms(p99)}  max {_ms(worst)}")
    print(f"                 CPU   p50 {_ms(c50)}  p99 {_ms(c99)}  max {_ms(cworst)}")
    print(f"                       over {len(texts)} questions, one core")


def fresh_process(snippet: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", snippet], check=True, cwd=ROOT, capture_output=True)
    return time.perf_counter() - start


def report_startup() -> None:
    build = (
        "from faq.loader import load_knowledge_base\n"
        "from faq.engine import TriageEngine\n"
        "e = TriageEngine(load_knowledge_base())\n"
    )
    bare = min(fresh_process("pass") for _ in range(3))
    load = min(fresh_process(build) for _ in range(3))
    thousand = min(
        fresh_process(
            build + "import json, pathlib\n"
            "p = pathlib.Path('tests/data/eval_tuning.jsonl')\n"
            "qs = [json.loads(l)['text'] for l in p.open()] if p.exists() else ['商标续展']\n"
            "for q in (qs * 1000)[:1000]:\n"
            "    json.dumps(e.triage(q).to_json_dict(), ensure_ascii=False)\n"
        )
        for _ in range(3)
    )
    print("[start-up] fresh python process, best of 3")
    print(f"  python alone         {_ms(bare)}")
    print(f"  import+load+build    {_ms(load)}  (minus python: {_ms(load - bare)})")
    print(f"  1,000 questions      {_ms(thousand)}  including start-up, JSON out")


LOADERS = {
    "opencc t2s": "import opencc; opencc.OpenCC('t2s').convert('測試')",
    "zhconv": "import zhconv; zhconv.convert('測試', 'zh-hans')",
    "jieba": "import jieba; jieba.setLogLevel(60); jieba.lcut('测试一下')",
    "faq.pinyin table": "from faq.pinyin import syllable; syllable('标')",
    "pypinyin package": "import pypinyin; pypinyin.lazy_pinyin('标')",
}


def report_choices(kb: KnowledgeBase) -> None:
    print("[choices] load time in a fresh process (includes the first call)")
    for name, statement in LOADERS.items():
        snippet = (
            f"import time\nt = time.perf_counter()\n{statement}\nprint(time.perf_counter() - t)"
        )
        out = subprocess.run(
            [sys.executable, "-c", snippet], capture_output=True, text=True, check=False, cwd=ROOT
        )
        value = float(out.stdout.strip()) if out.returncode == 0 else float("nan")
        print(f"  {name:20} {_ms(value)}")

    import opencc

    try:
        import zhconv
    except ImportError:  # only needed to re-run the comparison that chose opencc
        print("  (zhconv and jieba not installed: pip install zhconv jieba to compare)")
        return

    converter = opencc.OpenCC("t2s")
    samples = [zhconv.convert(q, "zh-hant") for e in kb for q in e.questions["zh"]]
    for name, convert in (
        ("opencc t2s", converter.convert),
        ("zhconv zh-hans", lambda s: zhconv.convert(s, "zh-hans")),
    ):
        start = time.perf_counter()
        for _ in range(20):
            for s in samples:
                convert(s)
        per = (time.perf_counter() - start) / (20 * len(samples))
        print(f"  {name:20} {per * 1e6:8.2f} µs per string")
    agree = sum(converter.convert(s) == zhconv.convert(s, "zh-hans") for s in samples)
    print(f"  agreement            {agree}/{len(samples)} Traditional phrasings converted alike")
    report_tokenisers(kb)


def report_tokenisers(kb: KnowledgeBase) -> None:
    """Character bigrams (shipped) against jieba words, on the tuning set."""
    if not TUNING.exists():
        return
    try:
        import jieba
    except ImportError:
        return

    from faq import analysis
    from faq.evaluate import evaluate, load_eval_items

    jieba.setLogLevel(60)
    items = load_eval_items(TUNING)
    shipped = analysis._add_hanzi_features
    stop = set(analysis.ZH_STOP_WORDS)

    def jieba_words(run: str, tokens: set[str]) -> None:
        tokens.update(w for w in jieba.lcut(run) if w not in stop)

    print("[choices] Chinese features on the tuning set")
    for name, features in (("char bigrams", shipped), ("jieba words", jieba_words)):
        analysis._add_hanzi_features = features
        try:
            overall = evaluate(TriageEngine(kb), items).overall
        finally:
            analysis._add_hanzi_features = shipped
        print(
            f"  {name:20} answer accuracy {100 * overall.answer_accuracy:5.1f}%"
            f"  false answers {100 * overall.false_answer_rate:4.1f}%"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--questions", type=int, default=1_000)
    parser.add_argument("--skip-choices", action="store_true")
    args = parser.parse_args(argv)
    logging.getLogger("faq.engine").setLevel(logging.ERROR)  # unset contact details
    kb = load_knowledge_base()
    texts = questions(kb, args.questions)
    if not args.skip_choices:
        report_choices(kb)
    report_startup()
    report_scale("shipped", kb, texts)
    report_scale("synthetic", synthetic_kb(kb, args.entries), texts)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
