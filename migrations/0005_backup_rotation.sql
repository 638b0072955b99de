-- Scheduled backups and rotation (issue 18, --backup-interval and
-- --backup-keep): who started each attempt, and when rotation deleted the
-- tarball a succeeded row points at. A row keeps its status `succeeded`
-- after its tarball is deleted: the history still tells that the backup was
-- made; `deleted_ms` tells that it can no longer be restored.

ALTER TABLE backups ADD COLUMN started_by TEXT NOT NULL DEFAULT 'manual';  -- manual|scheduled
ALTER TABLE backups ADD COLUMN deleted_ms INTEGER;  -- when rotation deleted the tarball (Unix ms); NULL: not deleted
