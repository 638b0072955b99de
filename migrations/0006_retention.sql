-- Retention and deleting runs (issue 18).
--
-- runs.last_received_ms is the server's receive time of the run's newest
-- event: retention deletes runs whose last_received_ms is older than the
-- configured age. It has no index on purpose: the writer moves it on every
-- commit of the run, and an index entry rewritten per run and group costs
-- more WAL than the retention sweep's scan of `runs` (one row per run, read
-- once per sweep on the writer between groups) ever saves.
--
-- offset_high_water keeps the largest offset ever given out once events
-- are deleted, so that deleting the newest run never lets an offset be
-- given out twice (a stream client resuming from it would miss events).

ALTER TABLE runs ADD COLUMN last_received_ms INTEGER NOT NULL DEFAULT 0;
UPDATE runs SET last_received_ms =
    coalesce((SELECT max(received_ms) FROM events WHERE events.run_id = runs.id), 0);

CREATE TABLE offset_high_water (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    last_offset  INTEGER NOT NULL
);
