-- What each organization created per calendar month (UTC), for the
-- monthlyNumberOf…Created counters and their allowances. Counted when made,
-- so deleting an object does not give the allowance back.
CREATE TABLE usage (
  org_id TEXT NOT NULL,
  month TEXT NOT NULL,
  kind TEXT NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (org_id, month, kind)
) WITHOUT ROWID;
