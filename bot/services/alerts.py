"""Admin alerts: each grant, revoke, block, broadcast, approval, bundle and hand-over is told
to every admin at once, in one line, so a hijacked account's actions are seen within minutes."""

from __future__ import annotations

import functools
from collections.abc import Callable
from enum import StrEnum

from bot.clock import Clock, from_epoch, to_epoch
from bot.i18n import N_, Html, Texts, Translator
from bot.models import AuditEntry
from bot.services.roles import ATTEMPT_NAMES
from bot.storage.alerts import AlertRepository, WaitingAlert
from bot.storage.outbox import Payload


class AlertKind(StrEnum):
    """What an admin can mute (see ALERTED_ACTIONS for the actions of each)."""

    ROLES = "roles"
    BLOCKS = "blocks"
    BROADCASTS = "broadcasts"
    APPROVALS = "approvals"
    BUNDLES = "bundles"
    DELIVERIES = "deliveries"
    TRANSLATIONS = "translations"
    REFUSALS = "refusals"


ALERT_KIND_NAMES = {
    AlertKind.ROLES: N_("Roles granted and revoked"),
    AlertKind.BLOCKS: N_("Members blocked and unblocked"),
    AlertKind.BROADCASTS: N_("Posts and announcements"),
    AlertKind.APPROVALS: N_("Approvals and refusals"),
    AlertKind.BUNDLES: N_("Bundles made"),
    AlertKind.DELIVERIES: N_("Bundles handed over"),
    AlertKind.TRANSLATIONS: N_("Letters translated"),
    AlertKind.REFUSALS: N_("Staff trying what their role does not allow"),
}


class AlertService:
    """Queues waiting alerts to the admins and keeps each admin's muted kinds."""

    def __init__(
        self,
        alerts: AlertRepository,
        translator: Translator,
        clock: Clock,
        admin_ids: frozenset[int],
        wake_sender: Callable[[], None],
    ) -> None:
        self._alerts = alerts
        self._translator = translator
        self._clock = clock
        self._admin_ids = admin_ids
        self._wake_sender = wake_sender

    async def flush(self) -> int:
        """Queue every waiting alert (each exactly once, even if two flushes overlap)."""
        queued = 0
        for alert in await self._alerts.waiting():
            queued += await self._alerts.queue(
                alert,
                self._admin_ids,
                functools.partial(self._payload, alert),
                to_epoch(self._clock.now()),
            )
        if queued:
            self._wake_sender()
        return queued

    def _payload(self, alert: WaitingAlert, language: str) -> Payload:
        return Payload(self.render(alert, language))

    def render(self, alert: WaitingAlert, language: str) -> Html:
        texts = self._translator.texts(language)
        return Html("🔔 " + describe(texts, alert.entry))

    async def muted(self, user_id: int) -> set[AlertKind]:
        return {AlertKind(kind) for kind in await self._alerts.muted(user_id) if kind in _KINDS}

    async def set_muted(self, user_id: int, kind: AlertKind, muted: bool) -> None:
        await self._alerts.set_muted(user_id, kind.value, muted)


_KINDS = {kind.value for kind in AlertKind}
# The same words as /whoami and /roles use.
_ROLE_NAMES = {
    "coordinator": N_("coordinator"),
    "courier": N_("courier"),
    "translator": N_("translator"),
}


def describe(texts: Texts, entry: AuditEntry) -> Html:
    """One line saying who did what; the detail's fields were written by our own code."""
    fields = entry.detail.split()
    actor, target = entry.actor_id, entry.target_id if entry.target_id is not None else "?"
    action = entry.action
    if action in {"grant", "revoke"}:
        name = _ROLE_NAMES.get(entry.detail)
        role = texts(name) if name else entry.detail
        if action == "grant":
            return texts(
                "{actor} gave {target} the role {role}.", actor=actor, target=target, role=role
            )
        return texts(
            "{actor} took the role {role} from {target}.", actor=actor, target=target, role=role
        )
    if action == "block":
        return texts("{actor} blocked member {target}.", actor=actor, target=target)
    if action == "unblock":
        return texts("{actor} unblocked member {target}.", actor=actor, target=target)
    if action in {"update_published", "announcement_sent"} and len(fields) == 4:
        count = int(fields[3]) if fields[3].isdigit() else 0
        if action == "update_published":
            return texts.ngettext(
                "{actor} published an update; it goes at once to {count} subscriber.",
                "{actor} published an update; it goes at once to {count} subscribers.",
                count,
                actor=actor,
            )
        return texts.ngettext(
            "{actor} sent an announcement to {count} person.",
            "{actor} sent an announcement to {count} people.",
            count,
            actor=actor,
        )
    if action == "announcement_scheduled" and len(fields) == 4 and fields[3].isdigit():
        return texts(
            "{actor} scheduled an announcement for {when} (Seoul time).",
            actor=actor,
            when=texts.datetime_in(from_epoch(int(fields[3])), "Asia/Seoul"),
        )
    if action == "answer_published" and len(fields) == 3 and fields[2].isdigit():
        return texts.ngettext(
            "{actor} published the soldiers' answer; {count} writer is told.",
            "{actor} published the soldiers' answer; {count} writers are told.",
            int(fields[2]),
            actor=actor,
        )
    if action == "announcement_unscheduled":
        return texts("{actor} cancelled a scheduled announcement.", actor=actor)
    if action == "feed_added":
        return texts("{actor} added news feed {feed}.", actor=actor, feed=entry.detail)
    if action == "feed_removed":
        return texts("{actor} removed news feed {feed}.", actor=actor, feed=entry.detail)
    if action == "letter_translated" and len(fields) == 2 and fields[1].isdigit():
        # What is printed is the translation: a hijacked translator's words would reach the
        # soldiers, so every translation is seen.
        return texts(
            "{actor} translated letter {number} into Korean; the bundle prints the translation.",
            actor=actor,
            number=fields[1],
        )
    if action == "refused":
        attempt = ATTEMPT_NAMES.get(entry.detail)
        return texts(
            "{actor}, who holds a role, was refused: {attempt}. That role does not allow it. "
            "More tries within the hour are only in /audit.",
            actor=actor,
            attempt=texts(attempt) if attempt else entry.detail,
        )
    if action == "approval_granted":
        return texts("{actor} approved a broadcast by {target}.", actor=actor, target=target)
    if action == "approval_refused":
        return texts("{actor} refused a broadcast by {target}.", actor=actor, target=target)
    if action == "bundle_made" and len(fields) == 3:
        count = int(fields[2]) if fields[2].isdigit() else 0
        return texts.ngettext(
            "{actor} made bundle {bundle} of {count} letter.",
            "{actor} made bundle {bundle} of {count} letters.",
            count,
            actor=actor,
            bundle=fields[1],
        )
    if action == "bundle_delivered" and len(fields) == 3:
        return texts(
            "{actor} marked bundle {bundle} as handed over on {day}.",
            actor=actor,
            bundle=fields[1],
            day=fields[2],
        )
    return texts("{actor}: {action} {detail}", actor=actor, action=action, detail=entry.detail)
