-- Artifacts (design/API.md, PUT/GET /observability/runs/{run_id}/artifacts):
-- one row per (run, name), pointing at content stored by its sha256 under
-- the data directory (artifacts/sha256/ab/abcdef...). A re-put of the same
-- name replaces the row; the content file stays while any row refers to it.
-- Rows are written by the writer in the same savepoint as the run's
-- `artifact` event, whose id the row keeps.

CREATE TABLE artifacts (
    run_id        TEXT    NOT NULL,
    name          TEXT    NOT NULL,  -- 1-255 bytes of UTF-8, no '/', '\', control characters, '.' or '..'
    id            TEXT    NOT NULL,  -- the id of the `artifact` event that stored this version (UUIDv7)
    step_id       TEXT,              -- X-Step-Id of the upload, when given
    content_type  TEXT    NOT NULL,  -- as uploaded; application/octet-stream when none was sent
    size          INTEGER NOT NULL,  -- bytes
    sha256        TEXT    NOT NULL,  -- 64 lower-case hex digits: the content's address and ETag
    created_ms    INTEGER NOT NULL,  -- server time of the upload (Unix ms)
    PRIMARY KEY (run_id, name)
) WITHOUT ROWID;
CREATE INDEX artifacts_by_sha256 ON artifacts(sha256);
