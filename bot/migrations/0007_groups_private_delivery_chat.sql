-- A member's delivery chat is their private chat, whose id is their user id. Before this, /start
-- sent in a group moved it to the group: every such member gets their private chat back, and so
-- does whatever is still queued for them.
UPDATE members SET chat_id = user_id WHERE chat_id <> user_id;
UPDATE outbox SET chat_id = user_id WHERE chat_id <> user_id AND state IN ('pending', 'sending');

-- Telegram's shared senders (every anonymous group admin, messages sent as a channel, channel
-- posts in discussion groups) are many people, never one member: nothing more is sent to them,
-- and the retention job removes them like anyone who left.
UPDATE members SET subscribed = 0, active = 0 WHERE user_id IN (1087968824, 136817688, 777000);
