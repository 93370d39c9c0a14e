-- driftstream schema, version 7: the alert history partitioned by time, so retention drops whole partitions.
--
-- The key of a record was (alert_id, status, severity), with no time in it. The partition key must be part
-- of every unique key, so the key gains `incident_start`: the start of the window where the incident first
-- fired. That is the time the alertId was made from (src/core/drift/ids.ts), so it is the same for every
-- record of an incident (FIRING, an escalation, RESOLVED) and known whenever a record is written or looked
-- up: a replayed record lands on the same key in the same partition, and the key stays as unique as before.
-- Detection time would not do: a replay detects again, later, and would store the record a second time.
-- Partitions span a UTC month; `driftstream_partition` / `driftstream_drop_partitions` (version 3) create
-- and drop them.

DROP VIEW alert_incidents;
ALTER TABLE alerts RENAME TO alerts_v6;
ALTER INDEX alerts_pkey RENAME TO alerts_v6_pkey;
ALTER INDEX alerts_detected RENAME TO alerts_v6_detected;
ALTER INDEX alerts_model_detected RENAME TO alerts_v6_model_detected;

-- The same columns, defaults and checks, and the incident's start.
CREATE TABLE alerts (
  LIKE alerts_v6 INCLUDING DEFAULTS INCLUDING CONSTRAINTS,
  incident_start timestamptz NOT NULL,
  PRIMARY KEY (alert_id, status, severity, incident_start)
) PARTITION BY RANGE (incident_start);

CREATE INDEX alerts_detected ON alerts (detected_at DESC, alert_id, status, severity);
CREATE INDEX alerts_model_detected ON alerts (model_id, detected_at DESC);

-- Moving the records: the incident's start is `firstWindowStart` in their details, else (records that do not
-- carry it, such as RETRAIN_RECOMMENDED) their own window start, which is then the time their id was made from.
CREATE TEMPORARY TABLE moving_alerts ON COMMIT DROP AS
SELECT a.*, CASE WHEN a.details ->> 'firstWindowStart' ~ '^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$'
                 THEN (a.details ->> 'firstWindowStart')::timestamptz ELSE a.window_start END AS incident_start
FROM alerts_v6 a;

SELECT driftstream_partition('alerts', 'month', d)
FROM generate_series((SELECT date_trunc('month', min(incident_start)) FROM moving_alerts), (SELECT max(incident_start) FROM moving_alerts), interval '1 month') AS d;

INSERT INTO alerts (alert_id, status, severity, model_id, model_version, kind, feature, statistic, value, threshold, window_name,
  window_start, window_end, sample_size, reference_id, detected_at, details, incident_start)
SELECT alert_id, status, severity, model_id, model_version, kind, feature, statistic, value, threshold, window_name,
  window_start, window_end, sample_size, reference_id, detected_at, details, incident_start
FROM moving_alerts;

DROP TABLE alerts_v6;

-- The latest record of every incident: what is firing now.
CREATE VIEW alert_incidents AS
  SELECT DISTINCT ON (alert_id) *
  FROM alerts
  ORDER BY alert_id, detected_at DESC, (status = 'RESOLVED') DESC, (severity = 'CRITICAL') DESC;
