"""The learned scorer: the shipped model is exactly what its data trains."""

from __future__ import annotations

import json

import pytest

from faq.scorer import CONFIG_FILE, MODEL_FILE, build, dump, features, load_config, load_scorer


def test_shipped_model_matches_its_training_data() -> None:
    pytest.importorskip("sklearn")
    rebuilt = json.loads(dump(build()))
    shipped = json.loads(MODEL_FILE.read_text(encoding="utf-8"))
    # a changed example, a changed FAQ phrasing or a hand-edited weight all show here
    assert rebuilt == shipped, (
        "faq/rules/scorer.json is stale: run `ipdesk faq train` "
        "(python -m faq.scorer train) and commit it"
    )


def test_the_frozen_blind_set_is_never_trained_on() -> None:
    assert not any("frozen" in name for name in load_config(CONFIG_FILE)["training"])


def test_features_see_both_scripts_and_collapse_numbers() -> None:
    feats = features("我们被起诉了 sued for 500000 RMB")
    assert {"c:诉", "b:起诉", "w:sued", "w:0", "p:sued_for", "has:digit"} <= feats


def test_risk_ranks_a_live_case_above_a_generic_question() -> None:
    scorer = load_scorer()
    live = scorer.risk("对方昨天起诉了我们，开庭通知已经收到，要求赔偿")
    generic = scorer.risk("商标注册需要多长时间")
    assert 0.0 <= generic < live <= 1.0
