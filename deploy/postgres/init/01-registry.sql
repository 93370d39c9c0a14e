-- Runs once, when the PostgreSQL volume is first initialised (docker-compose.yml).
-- The schema registry keeps its schemas in a database of its own, so that
-- `driftstream migrate` and the registry never share tables.
CREATE USER registry WITH PASSWORD 'registry';
CREATE DATABASE registry OWNER registry;
