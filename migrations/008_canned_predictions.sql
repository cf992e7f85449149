-- Canned prediction results (the control API's
-- /_emulator/models/{modelId}/predictions): per model, a queue of results
-- that the next POST /predictions of that model answer with, oldest first,
-- before the generator takes over again. `result` is the queued item as
-- JSON ({"predictions": […], "inferenceTime": …} or {"status", "message"}).
-- Kept in the database, not in memory, so that taking one is part of the
-- prediction's own transaction (a rolled back request leaves the queue as it
-- was) and a snapshot holds the queues too. Rows go with their model.
CREATE TABLE canned_predictions (
  seq INTEGER PRIMARY KEY,
  model_id TEXT NOT NULL REFERENCES objects (id) ON DELETE CASCADE,
  result TEXT NOT NULL
);
CREATE INDEX canned_predictions_by_model ON canned_predictions (model_id, seq);
