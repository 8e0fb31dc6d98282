"""getUpdates answers with any update the library cannot read replaced by its bare id.

python-telegram-bot parses a whole getUpdates batch at once; one update it cannot read (a
field Telegram added, a malformed value) makes the batch fail, the Updater log the raw data
(message texts, user ids) at CRITICAL and ask for the same batch again, for ever: every member
stalls. Here each update is checked first; an unreadable one becomes `{"update_id": N}`, which
the library reads, no handler matches, and the offset moves past. One log line, no content.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram._utils.types import JSONDict
from telegram.request import HTTPXRequest

log = logging.getLogger(__name__)


class ReadableUpdatesRequest(HTTPXRequest):
    """The request object for getUpdates only (ApplicationBuilder.get_updates_request).

    PTB documents `parse_json_payload` as the place to customize how answers are read.
    """

    @staticmethod
    def parse_json_payload(payload: bytes) -> JSONDict:
        data = HTTPXRequest.parse_json_payload(payload)
        result = data.get("result")
        if data.get("ok") and isinstance(result, list):
            data["result"] = [_readable(update) for update in result]
        return data


def _readable(update: object) -> object:
    try:
        if not isinstance(update, dict):
            raise TypeError("an update is not an object")
        Update.de_json(update, None)
    except Exception as error:  # whatever the library fails on, the batch must go on
        update_id = update.get("update_id") if isinstance(update, dict) else None
        log.warning("event=update_skipped reason=unreadable error=%s", type(error).__name__)
        if isinstance(update_id, int) and not isinstance(update_id, bool):
            return {"update_id": update_id}
        raise  # without an id there is nothing to move past: the library's handling applies
    return update
