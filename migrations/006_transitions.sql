-- Logs are filtered by what they belong to through log_refs: one row per log
-- and per id it names (transitionId, transitionExecutionId, workflowId,
-- workflowExecutionId), plus one with the empty ref for every log. Ids carry
-- their kind (las:transition:…, las:workflow-execution:…), so one column
-- holds them all without ambiguity, and one query driven by the primary key
-- (org_id, ref, seq) serves any filter, in seq order, without reading logs
-- that do not match. A log's ids are set when it is made (logs_create) and
-- never change, so only inserts and deletes keep the table.
CREATE TABLE log_refs (
  org_id TEXT NOT NULL,
  ref TEXT NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (org_id, ref, seq)
) WITHOUT ROWID;

CREATE TRIGGER log_refs_insert AFTER INSERT ON objects WHEN NEW.kind = 'log'
BEGIN
  INSERT OR IGNORE INTO log_refs (org_id, ref, seq)
    SELECT NEW.org_id, value, NEW.seq FROM json_each(json_array('',
      json_extract(NEW.body, '$.transitionId'),
      json_extract(NEW.body, '$.transitionExecutionId'),
      json_extract(NEW.body, '$.workflowId'),
      json_extract(NEW.body, '$.workflowExecutionId')))
    WHERE value IS NOT NULL;
END;

CREATE TRIGGER log_refs_delete AFTER DELETE ON objects WHEN OLD.kind = 'log'
BEGIN
  DELETE FROM log_refs WHERE org_id = OLD.org_id AND seq = OLD.seq
    AND ref IN (SELECT value FROM json_each(json_array('',
      json_extract(OLD.body, '$.transitionId'),
      json_extract(OLD.body, '$.transitionExecutionId'),
      json_extract(OLD.body, '$.workflowId'),
      json_extract(OLD.body, '$.workflowExecutionId'))));
END;

INSERT OR IGNORE INTO log_refs (org_id, ref, seq)
  SELECT o.org_id, j.value, o.seq FROM objects o, json_each(json_array('',
      json_extract(o.body, '$.transitionId'),
      json_extract(o.body, '$.transitionExecutionId'),
      json_extract(o.body, '$.workflowId'),
      json_extract(o.body, '$.workflowExecutionId'))) j
  WHERE o.kind = 'log' AND j.value IS NOT NULL;

-- Transition executions are objects (kind 'transition-execution', parent the
-- transition; `body` is the API's answer). What lists sort and filter by,
-- and what the engine needs but the API does not show, lives here, keyed by
-- the object's seq:
--   end_key      endTime in microseconds, or the largest integer while the
--                execution runs (so running ones sort after ended ones)
--   timeout_us   the transition's timeoutInSeconds when it started
--   deadline_us  while running: when it times out unless a heartbeat or a
--                completion comes first (the timeout job reads it)
--   detached     its workflow execution was stopped: the end hook is not
--                called for it any more
--   result       the output (succeeded) or error (otherwise) as JSON text
CREATE TABLE transition_executions (
  seq INTEGER PRIMARY KEY,
  org_id TEXT NOT NULL,
  transition_id TEXT NOT NULL,
  status TEXT NOT NULL,
  start_us INTEGER NOT NULL,
  end_key INTEGER NOT NULL,
  timeout_us INTEGER NOT NULL,
  deadline_us INTEGER,
  workflow_id TEXT,
  workflow_execution_id TEXT,
  detached INTEGER NOT NULL DEFAULT 0,
  result TEXT
);
CREATE INDEX transition_executions_by_start
  ON transition_executions (org_id, transition_id, start_us, seq);
CREATE INDEX transition_executions_by_end
  ON transition_executions (org_id, transition_id, end_key, seq);
CREATE INDEX transition_executions_by_status
  ON transition_executions (org_id, transition_id, status, seq);

CREATE TRIGGER transition_executions_delete AFTER DELETE ON objects
  WHEN OLD.kind = 'transition-execution'
BEGIN
  DELETE FROM transition_executions WHERE seq = OLD.seq;
END;
