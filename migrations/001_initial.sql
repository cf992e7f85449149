-- Every API object is a row of `objects`: identity, owner and the indexed
-- relations live in columns, the rest of its attributes as JSON in `body`.
-- `seq` orders objects by creation and is the key of list pagination. (No
-- AUTOINCREMENT: it costs a page write per insert, and a seq can only come
-- back after the newest object is deleted, which a page walk tolerates.)
CREATE TABLE objects (
  seq INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  id TEXT NOT NULL UNIQUE,
  org_id TEXT NOT NULL,
  parent_id TEXT,
  group_id TEXT,
  body TEXT NOT NULL
);
CREATE INDEX objects_by_kind ON objects (org_id, kind, seq);
-- Partial: most objects have no parent or group, and need no entry.
CREATE INDEX objects_by_parent ON objects (org_id, kind, parent_id, seq)
  WHERE parent_id IS NOT NULL;
CREATE INDEX objects_by_group ON objects (org_id, kind, group_id, seq)
  WHERE group_id IS NOT NULL;

-- Document and asset content, kept apart so that lists never read it;
-- keyed by the object's seq so that storing one touches no extra index.
-- Stored as bytes, not the API's base64: a quarter less to write.
CREATE TABLE blobs (
  seq INTEGER PRIMARY KEY REFERENCES objects (seq) ON DELETE CASCADE,
  data BLOB NOT NULL
);

-- OAuth2 client credentials of app clients; secret_hash is NULL for public
-- clients (those made with generateSecret false, or by /signup).
CREATE TABLE clients (
  client_id TEXT PRIMARY KEY,
  app_client_id TEXT NOT NULL REFERENCES objects (id) ON DELETE CASCADE,
  org_id TEXT NOT NULL,
  secret_salt TEXT,
  secret_hash TEXT,
  api_key TEXT UNIQUE
) WITHOUT ROWID;
-- Deleting an app client finds its credentials through this.
CREATE INDEX clients_by_app_client ON clients (app_client_id);

-- Access tokens die with their client.
CREATE TABLE tokens (
  token TEXT PRIMARY KEY,
  client_id TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
  principal TEXT NOT NULL,
  scopes TEXT NOT NULL,
  expires_us INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX tokens_by_client ON tokens (client_id);
-- Deleting a user revokes the tokens it logged in for.
CREATE INDEX tokens_by_principal ON tokens (principal);

CREATE TABLE passwords (
  username TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES objects (id) ON DELETE CASCADE,
  org_id TEXT NOT NULL,
  salt TEXT NOT NULL,
  hash TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX passwords_by_user ON passwords (user_id);

CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
