-- Workflow executions: the API object (body) and the engine's durable state
-- of the machine (state, JSON: where each run of the execution is, what it
-- waits for). Kept apart from `objects` because executions are listed per
-- workflow in two orders (start, end) and filtered by status, and because
-- the engine rewrites them at every step.
-- end_key orders the list by endTime: ended executions get the next number
-- of their workflow when they end, running ones sort after every ended one
-- in creation order (2^62 + seq), so one integer is the keyset position.
CREATE TABLE workflow_executions (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  org_id TEXT NOT NULL,
  workflow_id TEXT NOT NULL,
  status TEXT NOT NULL,
  end_key INTEGER NOT NULL,
  body TEXT NOT NULL,
  state TEXT NOT NULL
);
CREATE INDEX workflow_executions_by_workflow
  ON workflow_executions (workflow_id, seq);
CREATE INDEX workflow_executions_by_end
  ON workflow_executions (workflow_id, end_key);
-- numberOfRunningExecutions is counted through this: only running ones.
CREATE INDEX workflow_executions_running ON workflow_executions (workflow_id)
  WHERE status IN ('running', 'retry');
