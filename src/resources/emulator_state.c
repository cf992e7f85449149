/* The control API's state operations (see resources/state.h for what a
 * reset keeps; the README's control API section for the shapes):
 *
 *   POST /_emulator/reset                 (no body) → {"organizationId",
 *        "appClientId", "clientId", "idSeed" (null without one),
 *        "tookMilliseconds"}
 *   POST /_emulator/snapshots             {"path": "/absolute/file"} →
 *        {"path", "bytes", "tookMilliseconds"}
 *   POST /_emulator/snapshots/restore     {"path": "/absolute/file"} →
 *        the reset's answer with "restored": path
 *   GET  /_emulator/snapshot              the snapshot file itself
 *        (application/octet-stream)
 *   PUT  /_emulator/snapshot              the file as the body → as restore
 *   GET|DELETE /_emulator/ids, PUT {"seed": N}: the id seed
 *        → {"seed": N or null, "deterministic": bool}
 *
 * Paths are the server's (the admin's): absolute only, since a relative one
 * would depend on the directory the server was started in; the file is
 * written or read with the server's permissions. */
#include "core/clock.h"
#include "core/ids.h"
#include "core/log.h"
#include "resources/resources.h"
#include "resources/state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { EMU_PATH_MAX = 1000 };

static const char *emu_path(const api_request *req, api_response *fail) {
  const json_t *v = api_body_only_field(req, "path", fail);
  if (!v)
    return NULL;
  const char *path = json_string_value(v);
  if (!path) {
    *fail = api_errf(ERR_BAD_REQUEST, "path: must be a string");
    return NULL;
  }
  if (path[0] != '/') {
    *fail = api_errf(ERR_BAD_REQUEST,
                     "path: must be an absolute path (a file on the "
                     "emulator's machine)");
    return NULL;
  }
  if (strlen(path) > EMU_PATH_MAX) {
    *fail = api_errf(ERR_BAD_REQUEST, "path: must have at most %d characters",
                     EMU_PATH_MAX);
    return NULL;
  }
  return path;
}

static api_response emu_state_err(state_result r, const char *err) {
  return api_errf(r == STATE_BAD_REQUEST ? ERR_BAD_REQUEST
                  : r == STATE_CONFLICT  ? ERR_CONFLICT
                                         : ERR_INTERNAL,
                  "%s", err);
}

static double emu_ms_since(int64_t start_us) {
  return (double)(clock_mono_us() - start_us) / 1000.0;
}

static json_t *emu_boot_json(const bootstrap_info *boot, int64_t start_us) {
  uint64_t seed = 0;
  bool seeded = ids_get_seed(&seed);
  /* The credentials to log in with afterwards: with an id seed a reset
   * makes new generated ones (the control API is the admin's, so they are
   * shown, as the start lines show them). */
  return json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:o, s:f}", "organizationId",
                   boot->principal.org_id, "appClientId",
                   boot->principal.app_client_id, "clientId", boot->client_id,
                   "clientSecret",
                   boot->client_secret[0] ? boot->client_secret : NULL,
                   "apiKey", boot->api_key[0] ? boot->api_key : NULL, "idSeed",
                   seeded ? json_integer((json_int_t)seed) : json_null(),
                   "tookMilliseconds", emu_ms_since(start_us));
}

LAS_HANDLER(emulator_reset) {
  (void)req;
  int64_t start = clock_mono_us();
  bootstrap_info boot;
  char err[512];
  state_result r = state_reset(&boot, err, sizeof err);
  if (r != STATE_OK)
    return emu_state_err(r, err);
  json_t *out = emu_boot_json(&boot, start);
  log_msg(LOG_INFO, "control: reset in %.1f ms",
          json_real_value(json_object_get(out, "tookMilliseconds")));
  return api_ok(out);
}

LAS_HANDLER(emulator_snapshot_write) {
  api_response fail;
  const char *path = emu_path(req, &fail);
  if (!path)
    return fail;
  int64_t start = clock_mono_us();
  int64_t bytes = 0;
  char err[1500];
  state_result r = state_export(path, &bytes, err, sizeof err);
  if (r != STATE_OK)
    return emu_state_err(r, err);
  return api_ok(json_pack("{s:s, s:I, s:f}", "path", path, "bytes",
                          (json_int_t)bytes, "tookMilliseconds",
                          emu_ms_since(start)));
}

static api_response emu_restore(const char *path, const char *what) {
  int64_t start = clock_mono_us();
  bootstrap_info boot;
  char err[1500];
  state_result r = state_restore(path, what, &boot, err, sizeof err);
  if (r != STATE_OK)
    return emu_state_err(r, err);
  return api_ok(emu_boot_json(&boot, start));
}

LAS_HANDLER(emulator_snapshot_restore) {
  api_response fail;
  const char *path = emu_path(req, &fail);
  if (!path)
    return fail;
  api_response resp = emu_restore(path, "path");
  if (resp.status == 200)
    json_object_set_new(resp.body, "restored", json_string(path));
  return resp;
}

static bool emu_read_file(const char *path, char **data, size_t *len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  struct stat sb;
  if (fd < 0 || fstat(fd, &sb) != 0) {
    if (fd >= 0)
      close(fd);
    return false;
  }
  size_t size = (size_t)sb.st_size;
  char *buf = malloc(size ? size : 1);
  size_t got = 0;
  while (buf && got < size) {
    ssize_t n = read(fd, buf + got, size - got);
    if (n <= 0)
      break;
    got += (size_t)n;
  }
  close(fd);
  if (!buf || got != size) {
    free(buf);
    return false;
  }
  *data = buf;
  *len = size;
  return true;
}

static bool emu_write_file(const char *path, const char *data, size_t len) {
  int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0)
    return false;
  size_t done = 0;
  while (done < len) {
    ssize_t n = write(fd, data + done, len - done);
    if (n <= 0)
      break;
    done += (size_t)n;
  }
  return close(fd) == 0 && done == len;
}

LAS_HANDLER(emulator_snapshot_download) {
  (void)req;
  char tmp[1200];
  if (!store_temp_beside(store_global_path(), "download", tmp, sizeof tmp))
    return api_errf(ERR_INTERNAL,
                    "snapshot: cannot make a temporary file beside the "
                    "database: %s",
                    strerror(errno));
  char err[1500];
  state_result r = state_export(tmp, NULL, err, sizeof err);
  char *data = NULL;
  size_t len = 0;
  bool read_ok = r == STATE_OK && emu_read_file(tmp, &data, &len);
  unlink(tmp);
  if (r != STATE_OK)
    return api_errf(ERR_INTERNAL, "%s", err);
  if (!read_ok)
    return api_errf(ERR_INTERNAL, "snapshot: cannot read the copy back");
  api_response resp = api_ok_raw(data, len);
  resp.content_type = "application/octet-stream";
  return resp;
}

LAS_HANDLER(emulator_snapshot_upload) {
  if (req->raw_body_len == 0)
    return api_errf(ERR_BAD_REQUEST,
                    "body: must be a snapshot file (as GET /_emulator/snapshot "
                    "answers it), is empty");
  char tmp[1200];
  if (!store_temp_beside(store_global_path(), "upload", tmp, sizeof tmp))
    return api_errf(ERR_INTERNAL,
                    "snapshot: cannot make a temporary file beside the "
                    "database: %s",
                    strerror(errno));
  api_response resp;
  if (!emu_write_file(tmp, req->raw_body, req->raw_body_len))
    resp =
        api_errf(ERR_INTERNAL, "snapshot: cannot write the upload to %s", tmp);
  else
    resp = emu_restore(tmp, "body");
  unlink(tmp);
  return resp;
}

static json_t *emu_ids_json(void) {
  uint64_t seed = 0;
  bool seeded = ids_get_seed(&seed);
  return json_pack("{s:o, s:b}", "seed",
                   seeded ? json_integer((json_int_t)seed) : json_null(),
                   "deterministic", seeded);
}

LAS_HANDLER(emulator_ids_get) {
  (void)req;
  return api_ok(emu_ids_json());
}

LAS_HANDLER(emulator_ids_put) {
  api_response fail;
  const json_t *v = api_body_only_field(req, "seed", &fail);
  if (!v)
    return fail;
  if (!json_is_integer(v))
    return api_errf(ERR_BAD_REQUEST, "seed: must be an integer");
  if (json_integer_value(v) < 0)
    return api_errf(ERR_BAD_REQUEST, "seed: must be >= 0");
  ids_set_seed((uint64_t)json_integer_value(v));
  return api_ok(emu_ids_json());
}

LAS_HANDLER(emulator_ids_delete) {
  (void)req;
  ids_clear_seed();
  return api_ok(emu_ids_json());
}
