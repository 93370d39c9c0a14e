-- driftstream schema, version 1: models, immutable reference profiles, drift history, alert history.
-- Every write is an idempotent upsert on a deterministic key, so replays and retries never duplicate rows.

CREATE TABLE models (
  model_id    text PRIMARY KEY,
  config      jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Reference profiles are immutable versions: a new profile is a new row, never an update.
CREATE TABLE reference_profiles (
  reference_id text PRIMARY KEY,
  model_id     text NOT NULL,
  version      integer NOT NULL CHECK (version >= 1),
  created_at   timestamptz NOT NULL DEFAULT now(),
  profile      jsonb NOT NULL,
  UNIQUE (model_id, version)
);

CREATE FUNCTION reference_profiles_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'reference profile % is immutable; add a new version instead', OLD.reference_id
    USING ERRCODE = 'restrict_violation';
END
$$;

CREATE TRIGGER reference_profiles_no_update
  BEFORE UPDATE ON reference_profiles
  FOR EACH ROW EXECUTE FUNCTION reference_profiles_immutable();

-- One row per evaluated window; `document` is the whole evaluation as served by the API.
CREATE TABLE evaluations (
  evaluation_id  text PRIMARY KEY,
  model_id       text NOT NULL,
  model_version  text,
  window_name    text NOT NULL,
  window_start   timestamptz NOT NULL,
  window_end     timestamptz NOT NULL,
  sample_size    bigint NOT NULL,
  reference_id   text NOT NULL,
  evaluated_at   timestamptz NOT NULL,
  drift_share    double precision NOT NULL,
  dataset_drift  boolean NOT NULL,
  alertable      boolean NOT NULL,
  document       jsonb NOT NULL
);

CREATE INDEX evaluations_model_window_end ON evaluations (model_id, window_name, window_end DESC);
CREATE INDEX evaluations_model_end ON evaluations (model_id, window_end DESC);

-- Drift statistics per window and feature (kind 'feature', or 'prediction' for score / predicted class).
CREATE TABLE drift_results (
  evaluation_id  text NOT NULL REFERENCES evaluations (evaluation_id) ON DELETE CASCADE,
  kind           text NOT NULL CHECK (kind IN ('feature', 'prediction')),
  feature        text NOT NULL,
  model_id       text NOT NULL,
  window_name    text NOT NULL,
  window_start   timestamptz NOT NULL,
  feature_type   text NOT NULL,
  n_current      bigint NOT NULL,
  missing_rate   double precision,
  psi            double precision,
  ks_statistic   double precision,
  ks_p_value     double precision,
  wasserstein_normed double precision,
  jensen_shannon double precision,
  hellinger      double precision,
  chi_square_p_value double precision,
  drift          boolean NOT NULL,
  severity       text NOT NULL CHECK (severity IN ('NONE', 'WARNING', 'CRITICAL')),
  result         jsonb NOT NULL,
  PRIMARY KEY (evaluation_id, kind, feature)
);

CREATE INDEX drift_results_model_feature ON drift_results (model_id, feature, window_start DESC);

CREATE TABLE performance_results (
  evaluation_id  text PRIMARY KEY REFERENCES evaluations (evaluation_id) ON DELETE CASCADE,
  model_id       text NOT NULL,
  window_name    text NOT NULL,
  window_start   timestamptz NOT NULL,
  labelled       bigint NOT NULL,
  predictions    bigint NOT NULL,
  coverage       double precision NOT NULL,
  metrics        jsonb NOT NULL,
  label_delay_p50_ms double precision,
  label_delay_p95_ms double precision
);

-- Alert history: each (alert_id, status, severity) record exists once; FIRING, an escalation and
-- RESOLVED of one incident share the alert_id.
CREATE TABLE alerts (
  alert_id      text NOT NULL,
  status        text NOT NULL CHECK (status IN ('FIRING', 'RESOLVED')),
  severity      text NOT NULL CHECK (severity IN ('WARNING', 'CRITICAL')),
  model_id      text NOT NULL,
  model_version text,
  kind          text NOT NULL,
  feature       text,
  statistic     text NOT NULL,
  value         double precision NOT NULL,
  threshold     double precision NOT NULL,
  window_name   text NOT NULL,
  window_start  timestamptz NOT NULL,
  window_end    timestamptz NOT NULL,
  sample_size   bigint NOT NULL,
  reference_id  text NOT NULL,
  detected_at   timestamptz NOT NULL,
  details       jsonb NOT NULL DEFAULT '{}'::jsonb,
  PRIMARY KEY (alert_id, status, severity)
);

CREATE INDEX alerts_detected ON alerts (detected_at DESC, alert_id, status, severity);
CREATE INDEX alerts_model_detected ON alerts (model_id, detected_at DESC);

-- The latest record of every incident: what is firing now.
CREATE VIEW alert_incidents AS
  SELECT DISTINCT ON (alert_id) *
  FROM alerts
  ORDER BY alert_id, detected_at DESC, (status = 'RESOLVED') DESC, (severity = 'CRITICAL') DESC;
