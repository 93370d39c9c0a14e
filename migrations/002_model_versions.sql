-- Model configurations are versioned: 1 when created, one more on every change, so writers can
-- compare-and-set (a detector registering a model never overwrites a declaration it has not seen).
ALTER TABLE models ADD COLUMN version bigint NOT NULL DEFAULT 1;
