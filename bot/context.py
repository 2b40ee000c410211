"""The typed context handlers receive: services reach handlers here, never through globals."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine
from telegram.ext import Application, CallbackContext, ExtBot, JobQueue

from bot.i18n import Catalog
from bot.knowledge import LiveKnowledge
from bot.services.arrival import Arrival, ArrivalService
from bot.services.companies import CompanyService
from bot.services.conversation import ConversationService
from bot.services.dossier import DossierService
from bot.services.events import EventService
from bot.services.experts import ExpertService
from bot.services.faq_gaps import GapService
from bot.services.flood import FloodGuard
from bot.services.followups import FollowupService
from bot.services.inbox import Inbox
from bot.services.members import MemberService
from bot.services.outbox import Outbox
from bot.services.outreach import OutreachService
from bot.services.phrasings import PhrasingService
from bot.services.privacy import PrivacyService
from bot.services.questions import QuestionLog
from bot.services.relay import RelayService
from bot.services.roles import RoleService
from bot.services.stats import StatsService
from bot.services.tickets import TicketService
from bot.settings import Settings
from db.session import SessionFactory
from faq.engine import TriageEngine


@dataclass(slots=True)
class Services:
    settings: Settings
    knowledge: LiveKnowledge
    db: AsyncEngine
    sessions: SessionFactory
    catalog: Catalog
    members: MemberService
    arrivals: ArrivalService
    questions: QuestionLog
    tickets: TicketService
    flood: FloodGuard
    roles: RoleService
    experts: ExpertService
    companies: CompanyService
    relay: RelayService
    dossier: DossierService
    followups: FollowupService
    stats: StatsService
    phrasings: PhrasingService
    gaps: GapService
    outreach: OutreachService
    events: EventService
    privacy: PrivacyService
    outbox: Outbox
    conversation: ConversationService
    inbox: Inbox

    @property
    def engine(self) -> TriageEngine:
        """The current triage engine (faq/data/ plus stored phrasings; see LiveKnowledge)."""
        return self.knowledge.engine


class BotData:
    """bot_data as a typed object; PTB creates it empty, build_application fills it."""

    __slots__ = ("_services",)

    def __init__(self) -> None:
        self._services: Services | None = None

    def attach(self, services: Services) -> None:
        self._services = services

    @property
    def services(self) -> Services:
        if self._services is None:
            raise RuntimeError("services are not attached; use bot.app.build_application")
        return self._services


class Context(CallbackContext[ExtBot[None], dict[object, object], dict[object, object], BotData]):
    # PTB builds one context per update and hands it to every handler group: what the
    # first handler read about the sender (handlers.common.arrival_of) is kept here.
    arrival: Arrival | None = None

    @property
    def services(self) -> Services:
        return self.bot_data.services


IpdeskApp = Application[
    ExtBot[None], Context, dict[object, object], dict[object, object], BotData, JobQueue[Context]
]
