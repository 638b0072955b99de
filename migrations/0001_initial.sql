-- The event log and the runs view (design/API.md, "The model").
-- `events` is the source of truth: one row per stored event, `offset` its
-- integer primary key (global, gap-free, increasing), `seq` its place in its
-- run. `runs` is kept by the writer in the same transaction as the events.

CREATE TABLE events (
    "offset"     INTEGER PRIMARY KEY,   -- global position; the SSE id
    id           TEXT    NOT NULL,      -- idempotency key (client's or UUIDv7)
    run_id       TEXT    NOT NULL,
    seq          INTEGER NOT NULL,      -- 1, 2, 3, ... within the run
    type         TEXT    NOT NULL,
    ts_ms        INTEGER NOT NULL,      -- agent's time (Unix ms)
    received_ms  INTEGER NOT NULL,      -- server's receive time (Unix ms)
    node         TEXT,
    parent_id    TEXT,
    payload      TEXT    NOT NULL,      -- compact JSON object
    fingerprint  TEXT    NOT NULL       -- sha256 of the client's body, for dedupe
);
CREATE UNIQUE INDEX events_by_id ON events(id);
CREATE UNIQUE INDEX events_by_run_seq ON events(run_id, seq);

CREATE TABLE runs (
    id             TEXT    PRIMARY KEY,
    name           TEXT,
    agent          TEXT,
    status         TEXT    NOT NULL DEFAULT 'running',  -- running|succeeded|failed|cancelled
    parent_run_id  TEXT,
    tags           TEXT    NOT NULL DEFAULT '[]',       -- JSON array of strings
    metadata       TEXT    NOT NULL DEFAULT '{}',       -- JSON object string -> string
    started_ms     INTEGER NOT NULL,                    -- ts of run_started, else of the first event
    ended_ms       INTEGER,                             -- ts of run_finished
    last_event_ms  INTEGER NOT NULL,                    -- latest ts seen
    last_seq       INTEGER NOT NULL DEFAULT 0,          -- seq of the run's newest event
    step_count     INTEGER NOT NULL DEFAULT 0,          -- events other than run_started/run_finished
    error_count    INTEGER NOT NULL DEFAULT 0,          -- `error` events
    input_tokens   INTEGER NOT NULL DEFAULT 0,          -- sum over llm_call
    output_tokens  INTEGER NOT NULL DEFAULT 0,
    cost_usd       REAL    NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX runs_by_started ON runs(started_ms DESC, id DESC);
CREATE INDEX runs_by_agent ON runs(agent, started_ms DESC);
CREATE INDEX runs_by_status ON runs(status, started_ms DESC);
