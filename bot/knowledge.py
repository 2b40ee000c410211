"""Build the triage engine from settings: thresholds and the office details in answers."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from bot.settings import Settings
from faq.engine import Thresholds, TriageEngine
from faq.loader import load_knowledge_base
from faq.models import Lang


def placeholders(settings: Settings) -> dict[Lang, dict[str, str]]:
    hours = settings.expert_first_reply_hours
    zh_reply = f"{hours} 个工作小时内" if hours % 8 else f"{hours // 8} 个工作日内"
    en_unit = "working day" if hours == 8 else "working days"
    en_reply = f"within {hours} working hours" if hours % 8 else f"within {hours // 8} {en_unit}"
    return {
        "zh": {
            "office_address": settings.office_address_zh,
            "office_phone": settings.office_phone,
            "office_email": settings.office_email,
            "office_hours": settings.office_hours_zh,
            "expert_response_time": zh_reply,
        },
        "en": {
            "office_address": settings.office_address_en,
            "office_phone": settings.office_phone,
            "office_email": settings.office_email,
            "office_hours": settings.office_hours_en,
            "expert_response_time": en_reply,
        },
    }


def thresholds(settings: Settings) -> Thresholds:
    base = Thresholds()
    if settings.match_answer_threshold is not None:
        base = replace(base, answer=settings.match_answer_threshold)
    if settings.match_suggest_threshold is not None:
        base = replace(base, suggest=settings.match_suggest_threshold)
    if settings.match_margin is not None:
        base = replace(base, margin=settings.match_margin)
    return base


def build_engine(settings: Settings, directory: Path | None = None) -> TriageEngine:
    kb = load_knowledge_base(directory)
    return TriageEngine(kb, thresholds(settings), placeholders(settings))
