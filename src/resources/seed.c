/* Seed fixtures (see seed.h): each entry becomes the body of the API
 * operation that creates its kind and runs through that operation's request
 * schema (dispatch_check_json) and handler, as the authenticated bootstrap
 * app client (or as an app-client-less caller of another organization).
 * What the API has no field for is taken out of the entry first and
 * checked here: a fixed id (ids_force_next makes the handler use it),
 * organizationId, an app client's credentials, a contentFile. */
#include "resources/seed.h"

#include "core/clock.h"
#include "core/codec.h"
#include "core/ids.h"
#include "core/log.h"
#include "resources/app_clients.h"
#include "resources/organizations.h"
#include "resources/resources.h"
#include "routing/dispatch.h"
#include "routing/router.h"
#include "validation/schemas.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A fixture file larger than this is refused at start (inline content is
 * base64 inside it). */
#define SEED_MAX_FILE_BYTES (256LL << 20)

/* The sections in the order they are applied: what an entry may refer to
 * comes before it. */
typedef struct seed_section {
  const char *name;     /* key in the document */
  const char *path;     /* the creating operation (POST); NULL: special */
  const char *id_field; /* fixed id, e.g. "datasetId" */
  const char *id_kind;  /* its kind in src/core/ids, e.g. "dataset" */
  bool credentials;     /* clientId, clientSecret, apiKey (app clients) */
} seed_section;

static const seed_section seed_sections[] = {
    {"organizations", NULL, "organizationId", "organization", false},
    {"users", "/users", "userId", "user", false},
    {"appClients", "/appClients", "appClientId", "app-client", true},
    {"secrets", "/secrets", "secretId", "secret", false},
    {"assets", "/assets", "assetId", "asset", false},
    {"datasets", "/datasets", "datasetId", "dataset", false},
    {"documents", "/documents", "documentId", "document", false},
    {"models", "/models", "modelId", "model", false},
    {"transitions", "/transitions", "transitionId", "transition", false},
    {"workflows", "/workflows", "workflowId", "workflow", false},
};
#define SEED_NSECTIONS (sizeof seed_sections / sizeof seed_sections[0])

#define SEED_SECTION_LIST                                                      \
  "organizations, users, appClients, secrets, assets, datasets, documents, "   \
  "models, transitions, workflows"

typedef struct seed_ctx {
  store *s;
  const char *base_dir;
  api_principal boot; /* the bootstrap app client */
  size_t count;
  json_t *created; /* may be NULL */
  char *err;
  size_t errlen;
} seed_ctx;

__attribute__((format(printf, 3, 4))) static store_status
seed_fail(seed_ctx *c, store_status st, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->err, c->errlen, fmt, ap);
  va_end(ap);
  return st;
}

static const route *seed_route(const char *method, const char *path) {
  for (size_t i = 0; i < routes_count; i++)
    if (strcmp(routes[i].method, method) == 0 &&
        strcmp(routes[i].path, path) == 0)
      return &routes[i];
  return NULL;
}

/* Messages quote what they were given and are cut to their buffers: a
 * byte that does not belong to a whole UTF-8 sequence (jansson's parse
 * errors quote the bytes near the error, a cut can split a character)
 * becomes '?', so that the message is text wherever it goes (stderr, a JSON
 * answer). */
static void seed_scrub_utf8(char *s) {
  unsigned char *p = (unsigned char *)s;
  while (*p) {
    size_t n = *p < 0x80           ? 1
               : (*p & 0xe0) == 0xc0 ? 2
               : (*p & 0xf0) == 0xe0 ? 3
               : (*p & 0xf8) == 0xf0 ? 4
                                     : 0;
    bool ok = n > 0 && (n != 2 || *p >= 0xc2) && (n != 4 || *p <= 0xf4);
    for (size_t i = 1; ok && i < n; i++)
      ok = (p[i] & 0xc0) == 0x80;
    /* Overlong three- and four-byte forms, surrogates, beyond U+10FFFF. */
    if (ok && n == 3)
      ok = !(p[0] == 0xe0 && p[1] < 0xa0) && !(p[0] == 0xed && p[1] >= 0xa0);
    if (ok && n == 4)
      ok = !(p[0] == 0xf0 && p[1] < 0x90) && !(p[0] == 0xf4 && p[1] >= 0x90);
    if (!ok) {
      *p++ = '?';
      continue;
    }
    p += n;
  }
}

json_t *seed_parse(const char *text, size_t len, char *err, size_t errlen) {
  json_error_t jerr;
  json_t *doc = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
  if (doc)
    return doc;
  if (json_error_code(&jerr) == json_error_numeric_overflow)
    snprintf(err, errlen,
             "number out of range at line %d column %d (integers must fit in "
             "64 bits, other numbers in a double)",
             jerr.line, jerr.column);
  else if (json_error_code(&jerr) == json_error_null_byte_in_key)
    snprintf(err, errlen,
             "property name at line %d column %d: must not contain the NUL "
             "character (\\u0000)",
             jerr.line, jerr.column);
  else
    snprintf(err, errlen, "malformed JSON at line %d column %d: %s", jerr.line,
             jerr.column, jerr.text);
  seed_scrub_utf8(err);
  return NULL;
}

/* A handler's message about a body field ("datasetId: …", "a.b[2]: …") is
 * put under the entry ("documents[3].datasetId: …"); any other message
 * ("Limit Exceeded") follows the entry's name. */
static void seed_entry_message(const char *name, const char *msg, char *err,
                               size_t errlen) {
  size_t n = strspn(msg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                         "0123456789_.[]$");
  if (n > 0 && msg[n] == ':' && msg[n + 1] == ' ')
    snprintf(err, errlen, "%s%s%s", name, msg[0] == '[' ? "" : ".", msg);
  else
    snprintf(err, errlen, "%s: %s", name, msg);
}

static api_request seed_request(const seed_ctx *c, const route *r, json_t *body,
                                const api_principal *who) {
  api_request req;
  memset(&req, 0, sizeof req);
  req.route = r;
  req.method = r->method;
  req.path = r->path;
  req.body = body;
  req.db = c->s;
  req.now_us = clock_now_us();
  req.principal = *who;
  req.authenticated = true;
  return req;
}

/* The principal of the organization an entry names (organizationId, taken
 * out of the body), the bootstrap one when it names none. Objects of other
 * organizations are created by nobody in particular (createdBy null), as
 * /signup's first objects are. */
static store_status seed_take_org(seed_ctx *c, const char *name, json_t *body,
                                  api_principal *who) {
  json_t *v = json_object_get(body, "organizationId");
  if (!v) {
    *who = c->boot;
    return STORE_ONE;
  }
  const char *id = json_string_value(v);
  if (!id)
    return seed_fail(c, STORE_NONE, "%s.organizationId: must be string", name);
  if (!ids_valid("organization", id))
    return seed_fail(c, STORE_NONE,
                     "%s.organizationId: must match pattern "
                     "^las:organization:[a-f0-9]{32}$",
                     name);
  memset(who, 0, sizeof *who);
  snprintf(who->org_id, sizeof who->org_id, "%s", id);
  if (strcmp(id, c->boot.org_id) == 0) {
    *who = c->boot;
  } else {
    store_obj_key key = {"organization", id, id};
    json_t *org = NULL;
    store_status st = store_obj_get(c->s, &key, &org);
    json_decref(org);
    if (st == STORE_NONE)
      return seed_fail(c, STORE_NONE,
                       "%s.organizationId: organization %s does not exist",
                       name, id);
    if (st != STORE_ONE)
      return seed_fail(c, st, "%s: cannot read the database", name);
  }
  json_object_del(body, "organizationId");
  return STORE_ONE;
}

/* The entry's fixed id (taken out of the body) into fixed, "" when none. */
static store_status seed_take_id(seed_ctx *c, const char *name,
                                 const seed_section *sec, json_t *body,
                                 char fixed[IDS_MAX_LEN]) {
  fixed[0] = '\0';
  json_t *v = json_object_get(body, sec->id_field);
  if (!v)
    return STORE_ONE;
  const char *id = json_string_value(v);
  if (!id)
    return seed_fail(c, STORE_NONE, "%s.%s: must be string", name,
                     sec->id_field);
  if (!ids_valid(sec->id_kind, id))
    return seed_fail(c, STORE_NONE,
                     "%s.%s: must match pattern ^las:%s:[a-f0-9]{32}$", name,
                     sec->id_field, sec->id_kind);
  store_status st = store_seed_id_used(c->s, id);
  if (st == STORE_ONE)
    return seed_fail(c, STORE_NONE, "%s.%s: %s exists already", name,
                     sec->id_field, id);
  if (st != STORE_NONE)
    return seed_fail(c, st, "%s: cannot read the database", name);
  snprintf(fixed, IDS_MAX_LEN, "%s", id);
  json_object_del(body, sec->id_field);
  return STORE_ONE;
}

/* A credential field (taken out of the body) into out, "" when absent:
 * 1..max printable ASCII characters without spaces (and without ':' when
 * no_colon: HTTP Basic separates the client id from the secret with it). */
static store_status seed_take_credential(seed_ctx *c, const char *name,
                                         json_t *body, const char *field,
                                         size_t max, bool no_colon, char *out,
                                         size_t outlen) {
  out[0] = '\0';
  json_t *v = json_object_get(body, field);
  if (!v)
    return STORE_ONE;
  if (!json_is_string(v))
    return seed_fail(c, STORE_NONE, "%s.%s: must be string", name, field);
  const char *text = json_string_value(v);
  size_t len = json_string_length(v);
  bool ok = len >= 1 && len <= max && len < outlen;
  for (size_t i = 0; ok && i < len; i++)
    ok = text[i] > ' ' && text[i] < 0x7f && !(no_colon && text[i] == ':');
  if (!ok)
    return seed_fail(c, STORE_NONE,
                     "%s.%s: must be 1 to %zu printable ASCII characters "
                     "without spaces%s",
                     name, field, max, no_colon ? " or ':'" : "");
  memcpy(out, text, len + 1);
  json_object_del(body, field);
  return STORE_ONE;
}

static store_status seed_take_credentials(seed_ctx *c, const char *name,
                                          json_t *body, char client_id[128],
                                          char secret[256], char api_key[128]) {
  store_status st = seed_take_credential(c, name, body, "clientId", 127, true,
                                         client_id, 128);
  if (st == STORE_ONE)
    st = seed_take_credential(c, name, body, "clientSecret", 255, false, secret,
                              256);
  if (st == STORE_ONE)
    st =
        seed_take_credential(c, name, body, "apiKey", 127, false, api_key, 128);
  if (st != STORE_ONE)
    return st;
  if (client_id[0]) {
    st = store_seed_client_id_used(c->s, client_id);
    if (st == STORE_ONE)
      return seed_fail(c, STORE_NONE,
                       "%s.clientId: %s is used by another app client", name,
                       client_id);
    if (st != STORE_NONE)
      return seed_fail(c, st, "%s: cannot read the database", name);
  }
  if (api_key[0]) {
    st = store_seed_api_key_used(c->s, api_key);
    if (st == STORE_ONE)
      return seed_fail(c, STORE_NONE,
                       "%s.apiKey: is used by another app client", name);
    if (st != STORE_NONE)
      return seed_fail(c, st, "%s: cannot read the database", name);
  }
  return STORE_ONE;
}

/* The content a schema allows (maxLength of its base64 "content"), in
 * bytes; 0 when the operation takes no content. */
static size_t seed_content_max(const char *schema_name) {
  const json_t *schema = schema_name ? schemas_json(schema_name) : NULL;
  const json_t *content =
      json_object_get(json_object_get(schema, "properties"), "content");
  if (!content)
    return 0;
  json_int_t max = json_integer_value(json_object_get(content, "maxLength"));
  return max > 0 ? (size_t)max / 4 * 3 : (size_t)SEED_MAX_FILE_BYTES;
}

/* Reads at most max + 1 bytes of the regular file at path. */
static unsigned char *seed_read_file(const char *path, long long max,
                                     size_t *len, long long *size, int *error) {
  *error = 0;
  *size = -1;
  /* O_NONBLOCK: a FIFO must not hold the loader; it is refused below. */
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    *error = errno;
    return NULL;
  }
  struct stat sb;
  int bad = fstat(fd, &sb) != 0 ? errno : !S_ISREG(sb.st_mode) ? EINVAL : 0;
  if (bad) {
    *error = bad;
    close(fd);
    return NULL;
  }
  *size = (long long)sb.st_size;
  if (*size > max) {
    close(fd);
    return NULL;
  }
  unsigned char *buf = malloc((size_t)*size + 1);
  size_t used = 0;
  while (buf && used < (size_t)*size) {
    ssize_t n = read(fd, buf + used, (size_t)*size - used);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      *error = n < 0 ? errno : EIO; /* the file shrank while read */
      free(buf);
      buf = NULL;
      break;
    }
    used += (size_t)n;
  }
  close(fd);
  if (!buf && !*error)
    *error = ENOMEM;
  *len = used;
  return buf;
}

/* contentFile (taken out of the body) becomes the base64 content. */
static store_status seed_take_content_file(seed_ctx *c, const char *name,
                                           const route *r, json_t *body) {
  size_t max = seed_content_max(r->request_schema);
  json_t *v = json_object_get(body, "contentFile");
  if (!v || !max)
    return STORE_ONE; /* without content, the schema refuses contentFile */
  const char *file = json_string_value(v);
  if (!file || !*file)
    return seed_fail(c, STORE_NONE,
                     "%s.contentFile: must be a non-empty string", name);
  if (json_object_get(body, "content"))
    return seed_fail(c, STORE_NONE,
                     "%s.contentFile: must not be given together with content",
                     name);
  char *path = NULL;
  if (file[0] == '/' || !c->base_dir || !*c->base_dir)
    path = strdup(file);
  else if (asprintf(&path, "%s/%s", c->base_dir, file) < 0)
    path = NULL;
  if (!path)
    return seed_fail(c, STORE_ERROR, "%s: out of memory", name);
  size_t len = 0;
  long long size = -1;
  int error = 0;
  unsigned char *bytes =
      seed_read_file(path, (long long)max, &len, &size, &error);
  store_status st = STORE_ONE;
  if (!bytes && error)
    st = seed_fail(c, STORE_NONE, "%s.contentFile: cannot read %s: %s", name,
                   path,
                   error == EINVAL ? "not a regular file" : strerror(error));
  else if (!bytes)
    st = seed_fail(c, STORE_NONE,
                   "%s.contentFile: %s holds %lld bytes, more than the %zu "
                   "that content allows",
                   name, path, size, max);
  else if (len == 0)
    st = seed_fail(c, STORE_NONE, "%s.contentFile: %s is empty", name, path);
  free(path);
  if (st != STORE_ONE) {
    free(bytes);
    return st;
  }
  char *b64 = codec_b64_encode_alloc(bytes, len);
  free(bytes);
  if (!b64)
    return seed_fail(c, STORE_ERROR, "%s: out of memory", name);
  json_object_set_new(body, "content", json_string(b64));
  free(b64);
  json_object_del(body, "contentFile");
  return STORE_ONE;
}

/* The handler's answer: created (kept in c->created), or the entry's
 * failure. */
static store_status seed_result(seed_ctx *c, const char *name,
                                const seed_section *sec, const char *fixed,
                                api_response resp) {
  json_t *obj = resp.body;
  resp.body = NULL;
  if (resp.raw)
    obj = json_loadb(resp.raw, resp.raw_len, 0, NULL);
  api_response_free(&resp);
  store_status st = STORE_ONE;
  if (resp.status >= 300) {
    const char *msg = json_string_value(json_object_get(obj, "message"));
    seed_entry_message(name, msg ? msg : err_message(ERR_INTERNAL), c->err,
                       c->errlen);
    st = resp.status == err_status(ERR_UNAVAILABLE) ? STORE_BUSY
         : resp.status >= 500                       ? STORE_ERROR
                                                    : STORE_NONE;
  } else {
    const char *id = json_string_value(json_object_get(obj, sec->id_field));
    if (!id || (fixed[0] && strcmp(id, fixed) != 0)) {
      /* The handler made something else than the id asked for: a bug. */
      st = seed_fail(c, STORE_ERROR, "%s: created %s instead of %s", name,
                     id ? id : "no id", fixed);
    } else {
      c->count++;
      if (c->created) {
        json_t *list = json_object_get(c->created, sec->name);
        if (!list) {
          list = json_array();
          json_object_set_new(c->created, sec->name, list);
        }
        json_array_append(list, obj);
      }
    }
  }
  json_decref(obj);
  return st;
}

/* organizations[i]: {"bootstrap": true} names the bootstrap organization,
 * anything else makes a new one (organizationId fixes its id); name and
 * description go through PATCH /organizations/{organizationId}. */
static store_status seed_organization(seed_ctx *c, const seed_section *sec,
                                      const char *name, json_t *body) {
  json_t *boot = json_object_get(body, "bootstrap");
  if (boot && !json_is_boolean(boot))
    return seed_fail(c, STORE_NONE, "%s.bootstrap: must be boolean", name);
  bool is_boot = json_is_true(boot);
  json_object_del(body, "bootstrap");
  char fixed[IDS_MAX_LEN];
  store_status st = seed_take_id(c, name, sec, body, fixed);
  if (st != STORE_ONE)
    return st;
  if (is_boot && fixed[0])
    return seed_fail(c, STORE_NONE,
                     "%s.organizationId: must not be given with bootstrap "
                     "(the bootstrap organization's id is made at start)",
                     name);
  const route *patch = seed_route("PATCH", "/organizations/{organizationId}");
  const route *get = seed_route("GET", "/organizations/{organizationId}");
  if (!patch || !get)
    return seed_fail(c, STORE_ERROR, "%s: no organization routes", name);
  bool fields = json_object_size(body) > 0;
  if (fields && !dispatch_check_json(patch->request_schema, body, name, c->err,
                                     c->errlen))
    return STORE_NONE;
  api_principal who;
  memset(&who, 0, sizeof who);
  if (is_boot)
    who = c->boot;
  api_request req = seed_request(c, fields ? patch : get, body, &who);
  if (!is_boot) {
    /* A new organization is made with its name, as /signup makes one; only
     * a description needs the PATCH afterwards. */
    if (fixed[0])
      ids_force_next("organization", fixed);
    st = organizations_create(&req,
                              json_string_value(json_object_get(body, "name")));
    ids_force_clear();
    if (st != STORE_ONE)
      return seed_fail(c, st == STORE_BUSY ? STORE_BUSY : STORE_ERROR,
                       "%s: cannot write the database", name);
    json_object_del(body, "name");
    if (json_object_size(body) == 0)
      req.route = get;
  }
  req.path_params[0] = req.principal.org_id;
  req.n_path_params = 1;
  return seed_result(c, name, sec, fixed, req.route->handler(&req));
}

static store_status seed_entry(seed_ctx *c, const seed_section *sec,
                               const char *name, json_t *body) {
  api_principal who;
  char fixed[IDS_MAX_LEN];
  char client_id[128] = "", secret[256] = "", api_key[128] = "";
  const route *r = seed_route("POST", sec->path);
  if (!r)
    return seed_fail(c, STORE_ERROR, "%s: no route POST %s", name, sec->path);
  store_status st = seed_take_org(c, name, body, &who);
  if (st == STORE_ONE)
    st = seed_take_id(c, name, sec, body, fixed);
  if (st == STORE_ONE && sec->credentials)
    st = seed_take_credentials(c, name, body, client_id, secret, api_key);
  if (st == STORE_ONE)
    st = seed_take_content_file(c, name, r, body);
  if (st != STORE_ONE)
    return st;
  if (!dispatch_check_json(r->request_schema, body, name, c->err, c->errlen))
    return STORE_NONE;
  api_request req = seed_request(c, r, body, &who);
  if (fixed[0])
    ids_force_next(sec->id_kind, fixed);
  api_response resp =
      sec->credentials
          ? app_clients_create_with(&req, client_id[0] ? client_id : NULL,
                                    secret[0] ? secret : NULL,
                                    api_key[0] ? api_key : NULL)
          : r->handler(&req);
  ids_force_clear();
  return seed_result(c, name, sec, fixed, resp);
}

static store_status seed_bootstrap_principal(seed_ctx *c) {
  static const struct {
    const char *key;
    size_t offset;
    size_t size;
  } keys[] = {
      {"bootstrap_org_id", offsetof(api_principal, org_id),
       sizeof(((api_principal *)0)->org_id)},
      {"bootstrap_app_client_id", offsetof(api_principal, app_client_id),
       sizeof(((api_principal *)0)->app_client_id)},
      {"bootstrap_app_client_id", offsetof(api_principal, id),
       sizeof(((api_principal *)0)->id)},
      {"bootstrap_client_id", offsetof(api_principal, client_id),
       sizeof(((api_principal *)0)->client_id)},
  };
  memset(&c->boot, 0, sizeof c->boot);
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
    char *v = NULL;
    store_status st = store_meta_get(c->s, keys[i].key, &v);
    if (st == STORE_ONE)
      snprintf((char *)&c->boot + keys[i].offset, keys[i].size, "%s", v);
    free(v);
    if (st == STORE_NONE && i == 0)
      return seed_fail(c, STORE_ERROR,
                       "the database has no bootstrap "
                       "organization");
    if (st != STORE_ONE && st != STORE_NONE)
      return seed_fail(c, st, "cannot read the database");
  }
  return STORE_ONE;
}

store_status seed_apply(store *s, const json_t *doc, const char *base_dir,
                        size_t *count, json_t *created, char *err,
                        size_t errlen) {
  seed_ctx c;
  memset(&c, 0, sizeof c);
  c.s = s;
  c.base_dir = base_dir;
  c.created = created;
  c.err = err;
  c.errlen = errlen;
  err[0] = '\0';
  if (count)
    *count = 0;
  if (!json_is_object(doc))
    return seed_fail(&c, STORE_NONE,
                     "must be an object of sections (" SEED_SECTION_LIST ")");
  const char *key;
  json_t *v;
  json_object_foreach((json_t *)doc, key, v) {
    size_t i = 0;
    while (i < SEED_NSECTIONS && strcmp(seed_sections[i].name, key) != 0)
      i++;
    if (i == SEED_NSECTIONS)
      return seed_fail(
          &c, STORE_NONE,
          "%.100s: is not a section of a seed (" SEED_SECTION_LIST ")", key);
    if (!json_is_array(v))
      return seed_fail(&c, STORE_NONE, "%s: must be array", key);
  }
  store_status st = seed_bootstrap_principal(&c);
  for (size_t i = 0; i < SEED_NSECTIONS && st == STORE_ONE; i++) {
    const seed_section *sec = &seed_sections[i];
    json_t *entries = json_object_get(doc, sec->name);
    size_t n;
    json_t *entry;
    json_array_foreach(entries, n, entry) {
      char name[64];
      snprintf(name, sizeof name, "%s[%zu]", sec->name, n);
      if (!json_is_object(entry)) {
        st = seed_fail(&c, STORE_NONE, "%s: must be object", name);
        break;
      }
      /* The API's first check on a body, before fixture fields are taken
       * out of it: no string holding U+0000. */
      json_t *body = json_deep_copy(entry);
      if (!body) {
        st = seed_fail(&c, STORE_ERROR, "%s: out of memory", name);
        break;
      }
      if (!dispatch_check_json(NULL, body, name, err, errlen))
        st = STORE_NONE;
      else if (sec->path)
        st = seed_entry(&c, sec, name, body);
      else
        st = seed_organization(&c, sec, name, body);
      json_decref(body);
      if (st != STORE_ONE)
        break;
    }
  }
  ids_force_clear();
  if (st == STORE_ONE && count)
    *count = c.count;
  if (st != STORE_ONE)
    seed_scrub_utf8(err);
  return st;
}

/* ---- --seed FILE ---- */

static json_t *seed_doc;     /* the configured file, parsed */
static char *seed_path;      /* as given */
static char *seed_dir;       /* its directory, for relative contentFile */
static char seed_digest[65]; /* SHA-256 of its bytes */

#define SEED_META_KEY "seed_sha256"

void seed_free(void) {
  json_decref(seed_doc);
  seed_doc = NULL;
  free(seed_path);
  free(seed_dir);
  seed_path = seed_dir = NULL;
}

bool seed_configure(const char *path, char *err, size_t errlen) {
  seed_free();
  size_t len = 0;
  long long size = -1;
  int error = 0;
  unsigned char *text =
      seed_read_file(path, SEED_MAX_FILE_BYTES, &len, &size, &error);
  if (!text) {
    if (error)
      snprintf(err, errlen, "seed %s: cannot read it: %s", path,
               error == EINVAL ? "not a regular file" : strerror(error));
    else
      snprintf(err, errlen, "seed %s: %lld bytes, more than %lld", path, size,
               SEED_MAX_FILE_BYTES);
    return false;
  }
  char why[512];
  json_t *doc = seed_parse((const char *)text, len, why, sizeof why);
  if (doc)
    codec_sha256_hex(text, len, seed_digest);
  free(text);
  if (!doc) {
    snprintf(err, errlen, "seed %s: %s", path, why);
    return false;
  }
  const char *slash = strrchr(path, '/');
  seed_path = strdup(path);
  seed_dir = slash ? strndup(path, (size_t)(slash - path + (slash == path)))
                   : strdup(".");
  if (!seed_path || !seed_dir) {
    json_decref(doc);
    seed_free();
    snprintf(err, errlen, "seed %s: out of memory", path);
    return false;
  }
  seed_doc = doc;
  return true;
}

typedef struct seed_start_ctx {
  size_t count;
  bool skipped;
  bool other; /* the database has another seed file's objects */
  char *err;
  size_t errlen;
} seed_start_ctx;

static store_status seed_start_tx(store *s, void *arg) {
  seed_start_ctx *c = arg;
  c->count = 0;
  c->skipped = false;
  char *applied = NULL;
  store_status st = store_meta_get(s, SEED_META_KEY, &applied);
  bool same = st == STORE_ONE && strcmp(applied, seed_digest) == 0;
  free(applied);
  if (st != STORE_ONE && st != STORE_NONE)
    return st;
  c->other = st == STORE_ONE && !same;
  if (same) {
    c->skipped = true;
    return STORE_ONE;
  }
  st = seed_apply(s, seed_doc, seed_dir, &c->count, NULL, c->err, c->errlen);
  if (st == STORE_ONE)
    st = store_meta_put(s, SEED_META_KEY, seed_digest);
  return st;
}

bool seed_startup(size_t *count, bool *skipped, char *err, size_t errlen) {
  *count = 0;
  *skipped = false;
  if (!seed_doc)
    return true;
  char why[1024] = "";
  seed_start_ctx c = {0, false, false, why, sizeof why};
  store_status st = store_write_tx(seed_start_tx, &c);
  if (st != STORE_ONE) {
    /* A changed file meets the objects of its earlier version. */
    snprintf(err, errlen, "seed %s: %s%s", seed_path,
             why[0] ? why : "cannot write the database",
             c.other && st == STORE_NONE
                 ? " (this database has the objects of another version of "
                   "the seed file: start on a new database, or reset it)"
                 : "");
    return false;
  }
  *count = c.count;
  *skipped = c.skipped;
  return true;
}

bool seed_on_reset(store *s, bool restored, char *err, size_t errlen) {
  if (restored || !seed_doc)
    return true;
  char why[1024] = "";
  store_status st =
      seed_apply(s, seed_doc, seed_dir, NULL, NULL, why, sizeof why);
  if (st == STORE_ONE)
    st = store_meta_put(s, SEED_META_KEY, seed_digest);
  if (st == STORE_ONE)
    return true;
  snprintf(err, errlen, "seed %s: %s", seed_path,
           why[0] ? why : "cannot write the database");
  return false;
}

/* ---- POST /_emulator/seed ---- */

typedef struct seed_post_ctx {
  const json_t *doc;
  json_t *created;
  size_t count;
  char err[1024];
} seed_post_ctx;

static store_status seed_post_tx(store *s, void *arg) {
  seed_post_ctx *c = arg;
  /* A retried transaction starts over. */
  json_object_clear(c->created);
  return seed_apply(s, c->doc, seed_dir, &c->count, c->created, c->err,
                    sizeof c->err);
}

LAS_HANDLER(emulator_seed_post) {
  seed_post_ctx c = {req->body, json_object(), 0, ""};
  store_status st = store_write_tx(seed_post_tx, &c);
  if (st != STORE_ONE) {
    json_decref(c.created);
    err_code code = st == STORE_NONE   ? ERR_BAD_REQUEST
                    : st == STORE_BUSY ? ERR_UNAVAILABLE
                                       : ERR_INTERNAL;
    return c.err[0] ? api_errf(code, "%s", c.err) : api_err(code);
  }
  log_msg(LOG_INFO, "seed: %zu objects created through the control API",
          c.count);
  return api_ok(json_pack("{s:I, s:o}", "count", (json_int_t)c.count, "created",
                          c.created));
}
