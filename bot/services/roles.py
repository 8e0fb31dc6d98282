"""Who may do what: admins from configuration, coordinators and couriers granted by admins."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.clock import Clock, to_epoch
from bot.i18n import N_
from bot.models import AuditEntry, Role
from bot.storage.roles import AuditRepository, RoleRepository


class Permission(StrEnum):
    """Privileged actions; each command and button names the one it needs."""

    PUBLISH_POSTS = "post_updates"
    ANNOUNCE = "announce"
    REVIEW_LETTERS = "review_letters"
    SEE_STATS = "see_stats"
    MAKE_BUNDLES = "make_bundles"
    MANAGE_ROLES = "manage_roles"
    BLOCK_MEMBERS = "block_members"
    READ_AUDIT = "read_audit"
    TRANSLATE_LETTERS = "translate_letters"


# What a refused attempt was, in words, by the permission (or role command) the audit names:
# /audit and the admins' alerts say it the same way.
ATTEMPT_NAMES = {
    Permission.PUBLISH_POSTS.value: N_("posting an update"),
    Permission.ANNOUNCE.value: N_("sending an announcement"),
    Permission.REVIEW_LETTERS.value: N_("reviewing letters"),
    Permission.SEE_STATS.value: N_("reading statistics"),
    Permission.MAKE_BUNDLES.value: N_("making a bundle"),
    Permission.MANAGE_ROLES.value: N_("granting or revoking roles"),
    "grant": N_("granting or revoking roles"),
    "revoke": N_("granting or revoking roles"),
    Permission.BLOCK_MEMBERS.value: N_("blocking members"),
    Permission.READ_AUDIT.value: N_("reading the audit log"),
    Permission.TRANSLATE_LETTERS.value: N_("translating letters"),
}

_ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.COORDINATOR: frozenset(
        {
            Permission.PUBLISH_POSTS,
            Permission.ANNOUNCE,
            Permission.REVIEW_LETTERS,
            Permission.SEE_STATS,
            Permission.TRANSLATE_LETTERS,
        }
    ),
    Role.COURIER: frozenset({Permission.MAKE_BUNDLES}),
    # Volunteers who read the other language: they see approved letters, never who wrote them.
    Role.TRANSLATOR: frozenset({Permission.TRANSLATE_LETTERS}),
}
# Admins can do everything a coordinator can, plus manage roles (DESIGN.md, Roles).
_ADMIN_PERMISSIONS = _ROLE_PERMISSIONS[Role.COORDINATOR] | {
    Permission.MANAGE_ROLES,
    Permission.BLOCK_MEMBERS,
    Permission.READ_AUDIT,
}


@dataclass(frozen=True)
class Standing:
    """A user's privileges, looked up fresh for every privileged command and button."""

    user_id: int
    is_admin: bool
    roles: frozenset[Role]

    @property
    def permissions(self) -> frozenset[Permission]:
        granted = set(_ADMIN_PERMISSIONS) if self.is_admin else set()
        for role in self.roles:
            granted |= _ROLE_PERMISSIONS[role]
        return frozenset(granted)

    def may(self, permission: Permission) -> bool:
        return permission in self.permissions

    @property
    def is_privileged(self) -> bool:
        return self.is_admin or bool(self.roles)


class RoleChange(StrEnum):
    """What a /grant or /revoke did."""

    DONE = "done"
    UNCHANGED = "unchanged"
    REFUSED = "refused"


class RoleService:
    """Looks up standings and changes roles; every change is audited."""

    def __init__(
        self,
        roles: RoleRepository,
        audit: AuditRepository,
        admin_ids: frozenset[int],
        clock: Clock,
    ) -> None:
        self._roles = roles
        self._audit = audit
        self._admin_ids = admin_ids
        self._clock = clock

    async def standing(self, user_id: int) -> Standing:
        return self.standing_with(user_id, await self._roles.roles_of(user_id))

    def standing_with(self, user_id: int, roles: frozenset[Role]) -> Standing:
        """The standing from roles just read (with the member, when the update arrived)."""
        return Standing(user_id, user_id in self._admin_ids, roles)

    async def may_announce(self, user_id: int) -> bool:
        return (await self.standing(user_id)).may(Permission.ANNOUNCE)

    async def grant(self, actor_id: int, target_id: int, role: Role) -> RoleChange:
        if not (await self.standing(actor_id)).may(Permission.MANAGE_ROLES):
            await self.record_refusal(actor_id, "grant")
            return RoleChange.REFUSED
        done = await self._roles.grant(target_id, role, actor_id, to_epoch(self._clock.now()))
        return RoleChange.DONE if done else RoleChange.UNCHANGED

    async def revoke(self, actor_id: int, target_id: int, role: Role) -> RoleChange:
        if not (await self.standing(actor_id)).may(Permission.MANAGE_ROLES):
            await self.record_refusal(actor_id, "revoke")
            return RoleChange.REFUSED
        done = await self._roles.revoke(target_id, role, actor_id, to_epoch(self._clock.now()))
        return RoleChange.DONE if done else RoleChange.UNCHANGED

    async def grants(self) -> list[tuple[int, Role]]:
        return await self._roles.all_grants()

    @property
    def admin_ids(self) -> frozenset[int]:
        return self._admin_ids

    async def record_refusal(self, actor_id: int, what: str) -> None:
        """Refused privileged attempts are audited: a hijacked account probing shows up."""
        await self._audit.record(to_epoch(self._clock.now()), actor_id, "refused", None, what)

    async def recent_audit(self, limit: int = 20) -> list[AuditEntry]:
        return await self._audit.recent(limit)
