-- When an object expires (documents: createdTime + retentionInDays), so the
-- engine can find what is due without scanning.
ALTER TABLE objects ADD COLUMN expires_us INTEGER;
CREATE INDEX objects_by_expiry ON objects (expires_us)
  WHERE expires_us IS NOT NULL;
