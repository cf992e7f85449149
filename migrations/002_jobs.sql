-- Work the background engine owes: what is due, and when. Durable, so that
-- pending work survives a restart and resumes.
CREATE TABLE jobs (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  target_id TEXT NOT NULL,
  org_id TEXT NOT NULL,
  due_us INTEGER NOT NULL
);
CREATE INDEX jobs_by_due ON jobs (due_us);
