"""Roles: admin bootstrap, who may change roles, and the predicates handlers use."""

from __future__ import annotations

import pytest

from bot.services.errors import NotAllowed
from bot.services.roles import RoleError, RoleService, is_admin, is_expert, is_staff, is_team
from db.models import Role
from db.session import SessionFactory
from tests.services import add_experts, add_user, spec


@pytest.mark.parametrize(
    ("role", "admin", "staff", "expert", "team"),
    [
        (Role.MEMBER, False, False, False, False),
        (Role.EXPERT, False, False, True, True),
        (Role.STAFF, False, True, False, True),
        (Role.ADMIN, True, True, False, True),
    ],
)
def test_predicates(role: Role, admin: bool, staff: bool, expert: bool, team: bool) -> None:
    assert (is_admin(role), is_staff(role), is_expert(role), is_team(role)) == (
        admin,
        staff,
        expert,
        team,
    )


async def test_ensure_admins_promotes_once_and_creates_rows(sessions: SessionFactory) -> None:
    roles = RoleService(sessions)
    await add_user(sessions, 1, Role.STAFF)
    assert await roles.ensure_admins([1, 2, 2]) == (1, 2)
    assert await roles.role_of(1) is Role.ADMIN
    assert await roles.role_of(2) is Role.ADMIN  # never seen before: row created
    assert await roles.ensure_admins([1, 2]) == ()  # idempotent at every start
    assert await roles.role_of(99) is Role.MEMBER  # a stranger is a member


async def test_only_admins_set_roles(sessions: SessionFactory) -> None:
    roles = RoleService(sessions)
    await roles.ensure_admins([1])
    await add_user(sessions, 2, Role.STAFF)
    await add_user(sessions, 3)
    with pytest.raises(NotAllowed):
        await roles.set_role(2, 3, Role.STAFF)  # staff may not
    with pytest.raises(NotAllowed):
        await roles.set_role(3, 3, Role.ADMIN)  # nor may a member promote themselves
    change = await roles.set_role(1, 3, Role.STAFF)
    assert (change.old, change.new, change.changed) == (Role.MEMBER, Role.STAFF, True)
    assert await roles.role_of(3) is Role.STAFF
    assert (await roles.set_role(1, 444, Role.STAFF)).new is Role.STAFF  # pre-authorise an id


async def test_expert_role_needs_a_roster_entry(sessions: SessionFactory) -> None:
    roles = RoleService(sessions)
    await roles.ensure_admins([1])
    await add_user(sessions, 5)
    with pytest.raises(RoleError) as refused:
        await roles.set_role(1, 5, Role.EXPERT)
    assert refused.value.reason == "not_in_roster"
    await add_experts(sessions, spec("wang", 5))
    assert await roles.role_of(5) is Role.EXPERT  # the roster gave the role
    await roles.set_role(1, 5, Role.MEMBER)
    assert (await roles.set_role(1, 5, Role.EXPERT)).new is Role.EXPERT


async def test_the_last_admin_cannot_step_down(sessions: SessionFactory) -> None:
    roles = RoleService(sessions)
    await roles.ensure_admins([1])
    with pytest.raises(RoleError) as refused:
        await roles.set_role(1, 1, Role.STAFF)
    assert refused.value.reason == "last_admin"
    await roles.set_role(1, 2, Role.ADMIN)
    assert (await roles.set_role(2, 1, Role.STAFF)).new is Role.STAFF
    team = await roles.team()
    assert [(m.user_id, m.role) for m in team] == [(2, Role.ADMIN), (1, Role.STAFF)]
