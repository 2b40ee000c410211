"""Who may do what: the four roles, their predicates, and the role service.

Roles, lowest to highest: ``member`` < ``expert`` < ``staff`` (secretariat) < ``admin``.

* Admins are bootstrapped from ``settings.admin_user_ids`` at start-up with
  :meth:`RoleService.ensure_admins` (it only promotes; removing an id from the setting does
  not demote anybody — an admin does that with :meth:`RoleService.set_role`).
* Only admins change roles (:meth:`RoleService.set_role`).
* Experts get their role from the roster (``bot/services/experts.py``); the roster never lowers
  a staff member or an admin who is also on it.

Authorisation always starts from the database: :func:`load_actor` reads the user's role and,
for team members, their roster entry. A user the bot has never seen is a plain member.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.errors import DomainError, NotAllowed
from db.models import Expert, Role, User
from db.session import SessionFactory

_RANK = {Role.MEMBER: 0, Role.EDITOR: 1, Role.EXPERT: 1, Role.STAFF: 2, Role.ADMIN: 3}


def is_admin(role: Role) -> bool:
    return role is Role.ADMIN


def is_staff(role: Role) -> bool:
    """Secretariat powers: staff or admin (see every ticket, act on any)."""
    return role in (Role.STAFF, Role.ADMIN)


def is_expert(role: Role) -> bool:
    """Exactly the expert role (staff who are also on the roster have the staff role)."""
    return role is Role.EXPERT


def is_team(role: Role) -> bool:
    """Anyone who handles tickets: expert, staff or admin."""
    return role in (Role.EXPERT, Role.STAFF, Role.ADMIN)


def outranks(role: Role, other: Role) -> bool:
    return _RANK[role] > _RANK[other]


@dataclass(frozen=True, slots=True)
class Actor:
    """The user behind a request, as the database knows them.

    ``expert_id`` is the roster entry of a team member (expert, or staff/admin who is also on
    the roster); it is None for members, whatever the roster says, so demoting an expert to
    member removes their access at once.
    """

    user_id: int
    role: Role
    expert_id: int | None

    @property
    def staff(self) -> bool:
        return is_staff(self.role)

    @property
    def team(self) -> bool:
        return is_team(self.role)


@dataclass(frozen=True, slots=True)
class RoleChange:
    user_id: int
    old: Role
    new: Role

    @property
    def changed(self) -> bool:
        return self.old is not self.new


@dataclass(frozen=True, slots=True)
class TeamMember:
    user_id: int
    role: Role
    first_name: str
    username: str | None
    expert_key: str | None


class RoleError(DomainError):
    """A role change that cannot be made; ``reason`` is a stable code for the catalog.

    Reasons: ``not_in_roster`` (expert role without a roster entry), ``last_admin``
    (the only admin may not step down).
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


async def load_actor(session: AsyncSession, user_id: int) -> Actor:
    """Role and roster entry of ``user_id``; an unknown user is a member. Never commits."""
    role = await session.scalar(select(User.role).where(User.id == user_id))
    if role is None:
        return Actor(user_id, Role.MEMBER, None)
    expert_id = None
    if is_team(role):
        expert_id = await session.scalar(select(Expert.id).where(Expert.user_id == user_id))
    return Actor(user_id, role, expert_id)


async def ensure_user(session: AsyncSession, user_id: int) -> User:
    """The user row, created bare if the bot has not met them yet. Never commits."""
    user = await session.get(User, user_id)
    if user is None:
        user = User(id=user_id, first_name="")
        session.add(user)
        await session.flush()
    return user


async def raise_role(session: AsyncSession, user_id: int, role: Role) -> User:
    """Give ``user_id`` at least ``role`` (never lowers anyone). Never commits."""
    user = await ensure_user(session, user_id)
    if outranks(role, user.role):
        user.role = role
    return user


class RoleService:
    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions

    async def ensure_admins(self, user_ids: Iterable[int]) -> tuple[int, ...]:
        """Make every id in ``user_ids`` an admin (creating the user row if needed).

        Call at start-up with ``settings.admin_user_ids``. Returns the ids that were promoted
        now (empty on every later start). Idempotent.
        """
        promoted: list[int] = []
        async with self._sessions() as s, s.begin():
            for user_id in sorted(set(user_ids)):
                user = await ensure_user(s, user_id)
                if user.role is not Role.ADMIN:
                    user.role = Role.ADMIN
                    promoted.append(user_id)
        return tuple(promoted)

    async def role_of(self, user_id: int) -> Role:
        """The stored role; ``member`` for a user the bot has never seen."""
        async with self._sessions() as s:
            return (await load_actor(s, user_id)).role

    async def actor(self, user_id: int) -> Actor:
        async with self._sessions() as s:
            return await load_actor(s, user_id)

    async def set_role(self, actor_id: int, user_id: int, role: Role) -> RoleChange:
        """Set the role of ``user_id``; only an admin may.

        Raises NotAllowed (actor is not an admin), RoleError ``not_in_roster`` (the expert
        role needs a roster entry with this Telegram id: import or add the expert instead) or
        RoleError ``last_admin`` (demoting the only admin).
        """
        async with self._sessions() as s, s.begin():
            actor = await load_actor(s, actor_id)
            if not is_admin(actor.role):
                raise NotAllowed("only an admin may change roles")
            user = await ensure_user(s, user_id)
            old = user.role
            if role is Role.EXPERT:
                on_roster = await s.scalar(select(Expert.id).where(Expert.user_id == user_id))
                if on_roster is None:
                    raise RoleError("not_in_roster", f"user {user_id} is not on the roster")
            if old is Role.ADMIN and role is not Role.ADMIN:
                admins = await s.scalar(
                    select(func.count()).select_from(User).where(User.role == Role.ADMIN)
                )
                if int(admins or 0) <= 1:
                    raise RoleError("last_admin", "the only admin may not be demoted")
            user.role = role
            return RoleChange(user_id, old, role)

    async def team(self) -> list[TeamMember]:
        """Everyone above member, highest role first (for an admin's /team listing)."""
        async with self._sessions() as s:
            rows = await s.execute(
                select(User, Expert.key)
                .outerjoin(Expert, Expert.user_id == User.id)
                .where(User.role != Role.MEMBER)
            )
            members = [TeamMember(u.id, u.role, u.first_name, u.username, key) for u, key in rows]
        return sorted(members, key=lambda m: (-_RANK[m.role], m.user_id))
