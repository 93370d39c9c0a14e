-- driftstream schema, version 6: the detail of an evaluation (histograms, verdict evidence) stored compressed.
--
-- `detail_z` holds gzipped JSON of what the columns do not (src/adapters/postgres/evaluation-codec.ts), for
-- the drifting features of windows that drifted; a window that drifted used to keep its whole evaluation as
-- `detail` jsonb (about 12 KB after TOAST against about 0.6 KB now). Rows written before keep `detail` and are
-- read as they were; new rows leave it NULL, and retention drops the old ones with their partitions.
ALTER TABLE evaluation_rows ADD COLUMN detail_z bytea;
