-- Notifications: the channels alerts are routed to, and the delivery log. The log's unique key
-- (channel, alert, status, severity) is what makes a replayed alert, a restarted notifier or a
-- second replica find the notification already there instead of sending it again.

CREATE TABLE notification_channels (
  channel_id  text PRIMARY KEY,
  config      jsonb NOT NULL,
  source      text NOT NULL CHECK (source IN ('file', 'api')),
  version     bigint NOT NULL DEFAULT 1,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE notification_deliveries (
  id              bigserial PRIMARY KEY,
  channel_id      text NOT NULL,
  alert_id        text NOT NULL,
  status          text NOT NULL,
  severity        text NOT NULL,
  model_id        text NOT NULL,
  kind            text NOT NULL,
  group_key       text NOT NULL,
  record          jsonb NOT NULL,
  state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'dead')),
  attempts        integer NOT NULL DEFAULT 0,
  last_error      text,
  message_id      text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  next_attempt_at timestamptz NOT NULL,
  lease_owner     text,
  lease_until     timestamptz,
  delivered_at    timestamptz,
  UNIQUE (channel_id, alert_id, status, severity)
);

-- What the dispatchers poll: pending rows by channel and due time.
CREATE INDEX notification_deliveries_due ON notification_deliveries (channel_id, next_attempt_at) WHERE state = 'pending';
CREATE INDEX notification_deliveries_group ON notification_deliveries (channel_id, group_key) WHERE state = 'pending';
-- The delivery log, newest first, and the rate limit's count of recent messages.
CREATE INDEX notification_deliveries_created ON notification_deliveries (created_at DESC, id DESC);
CREATE INDEX notification_deliveries_delivered ON notification_deliveries (channel_id, delivered_at) WHERE state = 'delivered';
