-- Backfill analyses: drift runs over a past period of the inference topic or an uploaded file.
-- An analysis moves queued -> running -> completed | failed | cancelled; its progress names the
-- instant it resumes from after a restart, and each evaluated window is kept with its verdicts.
CREATE TABLE analyses (
  analysis_id      text PRIMARY KEY,
  model_id         text NOT NULL,
  state            text NOT NULL CHECK (state IN ('queued', 'running', 'completed', 'failed', 'cancelled')),
  request          jsonb NOT NULL,
  tags             text[] NOT NULL DEFAULT '{}',
  progress         jsonb NOT NULL DEFAULT '{}'::jsonb,
  summary          jsonb,
  error            text,
  cancel_requested boolean NOT NULL DEFAULT false,
  upload           bytea,
  created_at       timestamptz NOT NULL,
  updated_at       timestamptz NOT NULL,
  started_at       timestamptz,
  finished_at      timestamptz
);
CREATE INDEX analyses_by_model ON analyses (model_id, created_at DESC, analysis_id DESC);
CREATE INDEX analyses_by_tag ON analyses USING gin (tags);
CREATE INDEX analyses_unfinished ON analyses (created_at) WHERE state IN ('queued', 'running');

CREATE TABLE analysis_windows (
  analysis_id  text NOT NULL REFERENCES analyses (analysis_id) ON DELETE CASCADE,
  window_start timestamptz NOT NULL,
  window_end   timestamptz NOT NULL,
  drift        boolean NOT NULL,
  evaluation   jsonb NOT NULL,
  PRIMARY KEY (analysis_id, window_start)
);
