-- The backup history (design/API.md, POST /observability/backup and
-- GET /observability/backups): one row per attempt, failed or not, written
-- when the attempt starts (status `running`) and completed when it ends.
-- A row still `running` after a restart belongs to an attempt the process
-- did not live to finish.

CREATE TABLE backups (
    id           INTEGER PRIMARY KEY,   -- increasing: newest first is id DESC
    started_ms   INTEGER NOT NULL,      -- server time the attempt began (Unix ms)
    finished_ms  INTEGER,               -- when it ended; NULL while running
    status       TEXT    NOT NULL DEFAULT 'running',  -- running|succeeded|failed
    location     TEXT,                  -- s3://bucket/key, or the local tarball's path
    bytes        INTEGER,               -- size of the tarball (compressed)
    sha256       TEXT,                  -- of the tarball as uploaded
    db_bytes     INTEGER,               -- size of the database snapshot
    events       INTEGER,               -- events in the snapshot
    last_offset  INTEGER,               -- the snapshot's last offset
    error        TEXT                   -- why it failed (S3's code included); NULL on success
);
