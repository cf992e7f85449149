-- Every API object is a row of `objects`: identity, owner and the indexed
-- relations live in columns, the rest of its attributes as JSON in `body`.
-- `seq` orders objects by creation and is the key of list pagination.
CREATE TABLE objects (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL,
  id TEXT NOT NULL UNIQUE,
  org_id TEXT NOT NULL,
  parent_id TEXT,
  group_id TEXT,
  body TEXT NOT NULL
);
CREATE INDEX objects_by_kind ON objects (org_id, kind, seq);
CREATE INDEX objects_by_parent ON objects (org_id, kind, parent_id, seq);
CREATE INDEX objects_by_group ON objects (org_id, kind, group_id, seq);

-- Document and asset content, kept apart so that lists never read it.
CREATE TABLE blobs (
  id TEXT PRIMARY KEY REFERENCES objects (id) ON DELETE CASCADE,
  data TEXT NOT NULL
) WITHOUT ROWID;

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

-- Access tokens die with their client.
CREATE TABLE tokens (
  token TEXT PRIMARY KEY,
  client_id TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
  principal TEXT NOT NULL,
  scopes TEXT NOT NULL,
  expires_us INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX tokens_by_client ON tokens (client_id);

CREATE TABLE passwords (
  username TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES objects (id) ON DELETE CASCADE,
  org_id TEXT NOT NULL,
  salt TEXT NOT NULL,
  hash TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
