/* Docker transitions on a machine without containers: the server's docker
 * mode, the image → command mapping of command mode, and the environment a
 * command gets, which is what the service gives a container: TRANSITION_ID,
 * EXECUTION_ID, the transition's `environment`, the keys and values of its
 * `environmentSecrets`, and credentials with the API and auth endpoints
 * (LAS_CLIENT_ID, LAS_CLIENT_SECRET, LAS_API_KEY, LAS_API_ENDPOINT,
 * LAS_AUTH_ENDPOINT) pointing at this emulator, so that unchanged
 * transition code (e.g. the official SDK's transition_handler) runs
 * against it. The jobs of the modes are here too: the auto completion, the
 * command launch, and what the runner thread reports of a command (its
 * output, for the execution's log, and its exit, which fails an execution
 * left running). */
#include "resources/transition_internal.h"

#include "core/clock.h"
#include "core/ids.h"
#include "core/log.h"
#include "engine/engine.h"
#include "engine/runner.h"
#include "resources/app_clients.h"
#include "resources/logs.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A command launch waits this long for the HTTP server's address. */
enum { DOCKER_LAUNCH_RETRY_US = 100000 };

static transitions_docker_mode docker_mode = TRANSITIONS_DOCKER_AUTO;
static json_t *docker_commands; /* image → command; set before start */

static pthread_mutex_t docker_lock = PTHREAD_MUTEX_INITIALIZER;
static char docker_api[512];
static char docker_auth[512];
static char docker_ca_file[1024];

/* What a command inherits from the server's own environment: enough for a
 * program to be found and run, nothing of the server's settings. */
static const char *const docker_inherited[] = {"PATH", "HOME",   "TMPDIR",
                                               "LANG", "LC_ALL", NULL};

static bool docker_add_line(json_t *map, const char *line, char *err,
                            size_t errlen) {
  const char *eq = strchr(line, '=');
  if (!eq || eq == line || !eq[1]) {
    snprintf(err, errlen, "--docker-command: '%s' is not IMAGE=COMMAND", line);
    return false;
  }
  char image[1024];
  size_t n = (size_t)(eq - line);
  if (n >= sizeof image) {
    snprintf(err, errlen, "--docker-command: image name too long");
    return false;
  }
  memcpy(image, line, n);
  image[n] = '\0';
  json_object_set_new(map, image, json_string(eq + 1));
  return true;
}

static bool docker_read_file(json_t *map, const char *path, char *err,
                             size_t errlen) {
  json_error_t jerr;
  json_t *file = json_load_file(path, 0, &jerr);
  if (!file) {
    snprintf(err, errlen, "--docker-commands: %s: %s (line %d)", path,
             jerr.text, jerr.line);
    return false;
  }
  bool ok = json_is_object(file);
  if (!ok)
    snprintf(err, errlen,
             "--docker-commands: %s: must be a JSON object "
             "{\"IMAGE\": \"COMMAND\"}",
             path);
  const char *image;
  json_t *cmd;
  json_object_foreach(file, image, cmd) {
    if (!ok)
      break;
    if (!json_is_string(cmd) || !json_string_length(cmd)) {
      snprintf(err, errlen,
               "--docker-commands: %s: the command of \"%s\" must be a "
               "non-empty string",
               path, image);
      ok = false;
    } else if (!json_object_get(map, image)) {
      json_object_set(map, image, cmd);
    }
  }
  json_decref(file);
  return ok;
}

bool transitions_configure(const char *mode, const char *commands,
                           const char *commands_file, char *err,
                           size_t errlen) {
  if (!mode || !*mode || strcmp(mode, "auto") == 0) {
    docker_mode = TRANSITIONS_DOCKER_AUTO;
  } else if (strcmp(mode, "external") == 0) {
    docker_mode = TRANSITIONS_DOCKER_EXTERNAL;
  } else if (strcmp(mode, "command") == 0) {
    docker_mode = TRANSITIONS_DOCKER_COMMAND;
  } else {
    snprintf(err, errlen,
             "--docker-mode: '%s' is not one of auto|external|command", mode);
    return false;
  }
  json_t *map = json_object();
  bool ok = true;
  char *copy = strdup(commands ? commands : "");
  char *save = NULL;
  for (char *line = copy ? strtok_r(copy, "\n", &save) : NULL; ok && line;
       line = strtok_r(NULL, "\n", &save))
    ok = docker_add_line(map, line, err, errlen);
  free(copy);
  /* Lines first: they win over the file for the same image. */
  if (ok && commands_file && *commands_file)
    ok = docker_read_file(map, commands_file, err, errlen);
  if (!ok) {
    json_decref(map);
    return false;
  }
  json_decref(docker_commands);
  docker_commands = map;
  return true;
}

transitions_docker_mode transitions_mode(void) {
  return docker_mode;
}

const char *transition_docker_command(const char *image) {
  json_t *cmd = json_object_get(docker_commands, image ? image : "");
  if (!cmd)
    cmd = json_object_get(docker_commands, "*");
  return json_string_value(cmd);
}

void transitions_set_endpoints(const char *api_endpoint,
                               const char *auth_endpoint) {
  pthread_mutex_lock(&docker_lock);
  snprintf(docker_api, sizeof docker_api, "%s", api_endpoint);
  snprintf(docker_auth, sizeof docker_auth, "%s", auth_endpoint);
  pthread_mutex_unlock(&docker_lock);
}

void transitions_set_ca_file(const char *path) {
  pthread_mutex_lock(&docker_lock);
  snprintf(docker_ca_file, sizeof docker_ca_file, "%s", path);
  pthread_mutex_unlock(&docker_lock);
}

bool transition_docker_ready(void) {
  pthread_mutex_lock(&docker_lock);
  bool ready = docker_api[0] != '\0';
  pthread_mutex_unlock(&docker_lock);
  return ready;
}

/* ---- the organization's transition credentials ----
 * Commands act as a dedicated app client of the execution's organization,
 * made when its first command runs (named "las-emulator transitions"). Its
 * secret is kept in plain text in the meta table (this is a local
 * emulator; the bootstrap secret is kept the same way) so that every
 * command can be given it; deleting the app client makes the next command
 * get a new one. */

static const char *docker_meta_key(const char *org_id, char *buf, size_t len) {
  snprintf(buf, len, "transition_client:%s", org_id);
  return buf;
}

static store_status docker_credentials(store *s, const char *org_id,
                                       int64_t now_us, json_t **out) {
  char key[128];
  char *text = NULL;
  store_status st =
      store_meta_get(s, docker_meta_key(org_id, key, sizeof key), &text);
  if (st == STORE_ONE) {
    json_t *creds = json_loads(text, 0, NULL);
    free(text);
    store_client known;
    const char *id = json_string_value(json_object_get(creds, "clientId"));
    const char *secret =
        json_string_value(json_object_get(creds, "clientSecret"));
    st = id && secret ? store_client_check(s, id, secret, &known) : STORE_NONE;
    if (st == STORE_ONE) {
      *out = creds;
      return STORE_ONE;
    }
    json_decref(creds);
    if (st != STORE_NONE)
      return st;
  } else if (st != STORE_NONE) {
    return st;
  }
  api_request req;
  memset(&req, 0, sizeof req);
  req.db = s;
  req.now_us = now_us;
  snprintf(req.principal.org_id, sizeof req.principal.org_id, "%s", org_id);
  json_t *attrs = json_pack(
      "{s:s, s:s}", "name", "las-emulator transitions", "description",
      "credentials the emulator gives docker transitions in command mode");
  json_t *client = NULL;
  st = app_clients_make(&req, attrs, NULL, NULL, NULL, true, &client);
  json_decref(attrs);
  if (st != STORE_ONE)
    return st == STORE_NONE ? STORE_ERROR : st;
  json_t *creds = json_pack("{s:O, s:O, s:O}", "clientId",
                            json_object_get(client, "clientId"), "clientSecret",
                            json_object_get(client, "clientSecret"), "apiKey",
                            json_object_get(client, "apiKey"));
  json_decref(client);
  char *dump = creds ? json_dumps(creds, JSON_COMPACT) : NULL;
  st = dump ? store_meta_put(s, key, dump) : STORE_ERROR;
  free(dump);
  if (st != STORE_ONE) {
    json_decref(creds);
    return st;
  }
  log_msg(LOG_INFO, "transitions: made the command credentials of %s", org_id);
  *out = creds;
  return STORE_ONE;
}

/* ---- environment ---- */

static bool docker_name_ok(const char *name) {
  return name[0] && !strchr(name, '=');
}

/* Sets NAME=value in env (an object, later entries replace earlier). */
static void docker_set(json_t *env, const char *name, const char *value) {
  json_object_set_new(env, name, json_string(value ? value : ""));
}

/* A secret's data: a JSON object whose members become variables (strings
 * as they are, other values as compact JSON). */
static store_status docker_secret_vars(store *s, const char *secret_id,
                                       json_t *env, char *why, size_t whylen) {
  char *data = NULL;
  size_t len = 0;
  store_status st = store_blob_get(s, secret_id, &data, &len);
  if (st == STORE_NONE) {
    snprintf(why, whylen,
             "environmentSecrets: secret %s does not exist any more or has "
             "no data",
             secret_id);
    return STORE_NONE;
  }
  if (st != STORE_ONE)
    return st;
  json_t *obj = json_loadb(data, len, 0, NULL);
  free(data);
  if (!json_is_object(obj)) {
    json_decref(obj);
    snprintf(why, whylen,
             "environmentSecrets: the data of secret %s is not a JSON object",
             secret_id);
    return STORE_NONE;
  }
  const char *name;
  json_t *v;
  json_object_foreach(obj, name, v) {
    if (!docker_name_ok(name)) {
      snprintf(why, whylen,
               "environmentSecrets: secret %s: '%s' is not a valid variable "
               "name",
               secret_id, name);
      json_decref(obj);
      return STORE_NONE;
    }
    if (json_is_string(v)) {
      docker_set(env, name, json_string_value(v));
    } else {
      char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
      docker_set(env, name, text);
      free(text);
    }
  }
  json_decref(obj);
  return STORE_ONE;
}

store_status transition_docker_env(store *s, const char *org_id,
                                   const json_t *transition,
                                   const char *exec_id, int64_t now_us,
                                   json_t **out, char *why, size_t whylen) {
  /* Their own before the transition's, which come before the service's:
   * a later setting of the same name wins. */
  json_t *env = json_object();
  for (const char *const *v = docker_inherited; *v; v++)
    if (getenv(*v))
      docker_set(env, *v, getenv(*v));
  if (!json_object_get(env, "PATH"))
    docker_set(env, "PATH", "/usr/local/bin:/usr/bin:/bin");
  json_t *params = json_object_get(transition, "parameters");
  const char *name;
  json_t *v;
  json_object_foreach(json_object_get(params, "environment"), name, v) {
    if (!docker_name_ok(name)) {
      snprintf(why, whylen, "environment: '%s' is not a valid variable name",
               name);
      json_decref(env);
      return STORE_NONE;
    }
    docker_set(env, name, json_string_value(v));
  }
  size_t i;
  json_array_foreach(json_object_get(params, "environmentSecrets"), i, v) {
    store_status st =
        docker_secret_vars(s, json_string_value(v), env, why, whylen);
    if (st != STORE_ONE) {
      json_decref(env);
      return st;
    }
  }
  json_t *creds = NULL;
  store_status st = docker_credentials(s, org_id, now_us, &creds);
  if (st != STORE_ONE) {
    json_decref(env);
    return st;
  }
  docker_set(env, "TRANSITION_ID",
             json_string_value(json_object_get(transition, "transitionId")));
  docker_set(env, "EXECUTION_ID", exec_id);
  docker_set(env, "LAS_CLIENT_ID",
             json_string_value(json_object_get(creds, "clientId")));
  docker_set(env, "LAS_CLIENT_SECRET",
             json_string_value(json_object_get(creds, "clientSecret")));
  docker_set(env, "LAS_API_KEY",
             json_string_value(json_object_get(creds, "apiKey")));
  json_decref(creds);
  pthread_mutex_lock(&docker_lock);
  docker_set(env, "LAS_API_ENDPOINT", docker_api);
  docker_set(env, "LAS_AUTH_ENDPOINT", docker_auth);
  static const char *const ca_vars[] = {"REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"};
  for (size_t k = 0; docker_ca_file[0] && k < 2; k++)
    if (!json_object_get(env, ca_vars[k]))
      docker_set(env, ca_vars[k], docker_ca_file);
  pthread_mutex_unlock(&docker_lock);

  json_t *list = json_array();
  json_object_foreach(env, name, v) {
    size_t nl = strlen(name), vl = json_string_length(v);
    char *entry = malloc(nl + vl + 2);
    if (!entry)
      continue;
    memcpy(entry, name, nl);
    entry[nl] = '=';
    memcpy(entry + nl + 1, json_string_value(v), vl + 1);
    json_array_append_new(list, json_string(entry));
    free(entry);
  }
  json_decref(env);
  *out = list;
  return STORE_ONE;
}

/* ---- the jobs of the modes ---- */

static bool docker_running(const store_texec *row) {
  return strcmp(row->status, "running") == 0;
}

store_status transition_auto_job(store *s, const store_job *job,
                                 int64_t now_us) {
  json_t *body = NULL, *t = NULL;
  store_texec row;
  store_status st =
      transition_exec_load(s, job->org_id, job->target_id, &body, &row);
  if (st == STORE_NONE)
    return STORE_ONE;
  if (st != STORE_ONE)
    return st;
  if (docker_running(&row))
    st = transition_load(s, job->org_id, row.transition_id, &t);
  if (st == STORE_ONE && t) {
    const json_t *output = json_object_get(body, "input");
    char why[1024];
    if (transition_exec_matches(t, "outputJsonSchema", output, "output", why,
                                sizeof why)) {
      transition_ending e = {.status = "succeeded", .output = output};
      st = transition_exec_end(s, job->org_id, job->target_id, body, &row, &e,
                               now_us);
    } else {
      char msg[1200];
      snprintf(msg, sizeof msg,
               "docker mode auto completes with output = input, and %s", why);
      json_t *error = transition_exec_error(msg);
      transition_ending e = {.status = "failed", .error = error};
      st = transition_exec_end(s, job->org_id, job->target_id, body, &row, &e,
                               now_us);
      json_decref(error);
    }
  }
  json_decref(t);
  json_decref(body);
  return st == STORE_NONE ? STORE_ONE : st;
}

/* Starts the mapped command of a docker execution (command mode). */
store_status transition_launch_job(store *s, const store_job *job,
                                   int64_t now_us) {
  json_t *body = NULL, *t = NULL;
  store_texec row;
  store_status st =
      transition_exec_load(s, job->org_id, job->target_id, &body, &row);
  if (st == STORE_NONE)
    return STORE_ONE;
  if (st != STORE_ONE)
    return st;
  if (!docker_running(&row) ||
      (st = transition_load(s, job->org_id, row.transition_id, &t)) !=
          STORE_ONE) {
    json_decref(body);
    return st == STORE_NONE ? STORE_ONE : st;
  }
  if (!transition_docker_ready()) {
    json_decref(t);
    json_decref(body);
    return store_job_add(s, TRANSITION_JOB_LAUNCH, job->target_id, job->org_id,
                         now_us + DOCKER_LAUNCH_RETRY_US);
  }
  const char *image = json_string_value(
      json_object_get(json_object_get(t, "parameters"), "imageUrl"));
  const char *command = transition_docker_command(image);
  char why[1024] = "";
  json_t *env = NULL;
  if (!command) {
    snprintf(why, sizeof why,
             "no command is mapped to image %s in docker mode command "
             "(--docker-command IMAGE=COMMAND or --docker-commands FILE)",
             image ? image : "");
  } else {
    st = transition_docker_env(s, job->org_id, t, job->target_id, now_us, &env,
                               why, sizeof why);
    if (st != STORE_ONE && st != STORE_NONE) {
      json_decref(t);
      json_decref(body);
      return st;
    }
  }
  if (env) {
    char line[1200];
    snprintf(line, sizeof line, "running /bin/sh -c '%s' for image %s", command,
             image);
    st = transition_exec_log(s, job->org_id, body, now_us, line);
    if (st == STORE_ONE &&
        !transition_command_spawn(
            job->target_id, job->org_id,
            json_string_value(json_object_get(body, "logId")), command, env))
      snprintf(why, sizeof why,
               "the command for image %s could not be "
               "started",
               image);
    json_decref(env);
  }
  if (st == STORE_ONE && why[0]) {
    json_t *error = transition_exec_error(why);
    transition_ending e = {.status = "failed", .error = error};
    st = transition_exec_end(s, job->org_id, job->target_id, body, &row, &e,
                             now_us);
    json_decref(error);
  }
  json_decref(t);
  json_decref(body);
  return st;
}

/* ---- a command's output and exit (on the runner thread) ---- */

typedef struct {
  char org_id[64];
  char log_id[64];
  const char *id;
  const char *text;
  size_t len;
  const runner_exit *how;
} exec_cmd_ctx;

/* The runner tag of a command whose output and end go to log_id of org_id
 * (at most 160 bytes with the ids): it carries the data's generation
 * (store_state_generation) too, so that the output and end of a command
 * killed by a reset or restore are not recorded in what replaced it. */
static void transition_command_tag(const char *org_id, const char *log_id,
                                   char *out, size_t len) {
  snprintf(out, len, "%llu %s %s", (unsigned long long)store_state_generation(),
           org_id, log_id ? log_id : "");
}

bool transition_command_spawn(const char *id, const char *org_id,
                              const char *log_id, const char *command,
                              const json_t *env) {
  size_t n = json_array_size(env);
  const char **envp = calloc(n + 1, sizeof *envp);
  if (!envp)
    return false;
  for (size_t i = 0; i < n; i++)
    envp[i] = json_string_value(json_array_get(env, i));
  const char *argv[] = {"/bin/sh", "-c", command, NULL};
  char tag[160];
  transition_command_tag(org_id, log_id, tag, sizeof tag);
  bool ok = runner_spawn(id, tag, argv, envp);
  free(envp);
  return ok;
}

static bool exec_parse_tag(const char *tag, exec_cmd_ctx *c) {
  char *rest = NULL;
  unsigned long long gen = strtoull(tag, &rest, 10);
  if (rest == tag || *rest != ' ' || gen != store_state_generation())
    return false;
  tag = rest + 1;
  const char *space = strchr(tag, ' ');
  if (!space || (size_t)(space - tag) >= sizeof c->org_id)
    return false;
  memcpy(c->org_id, tag, (size_t)(space - tag));
  c->org_id[space - tag] = '\0';
  snprintf(c->log_id, sizeof c->log_id, "%s", space + 1);
  return true;
}

static store_status exec_output_tx(store *s, void *arg) {
  exec_cmd_ctx *c = arg;
  char when[CLOCK_ISO_LEN];
  clock_format_iso(clock_now_us(), when, sizeof when);
  json_t *events = json_array();
  const char *p = c->text, *end = c->text + c->len;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
    json_array_append_new(events, json_pack("{s:s, s:o}", "timestamp", when,
                                            "message", transition_text(p, n)));
    p += n + (nl ? 1 : 0);
  }
  store_status st = logs_append(s, c->org_id, c->log_id, events);
  return st == STORE_NONE ? STORE_ONE : st;
}

static void exec_on_output(const char *id, const char *tag, const char *text,
                           size_t len) {
  exec_cmd_ctx c = {.id = id, .text = text, .len = len};
  if (!exec_parse_tag(tag, &c) ||
      store_write_tx(exec_output_tx, &c) != STORE_ONE)
    log_msg(LOG_WARN, "transitions: output of %s not logged", id);
}

static store_status exec_exit_tx(store *s, void *arg) {
  exec_cmd_ctx *c = arg;
  int64_t now = clock_now_us();
  char how[200];
  if (c->how->spawn_failed && c->how->signal)
    snprintf(how, sizeof how, "was killed before it started");
  else if (c->how->spawn_failed)
    snprintf(how, sizeof how, "could not be started");
  else if (c->how->signal)
    snprintf(how, sizeof how, "was killed by signal %d", c->how->signal);
  else
    snprintf(how, sizeof how, "exited with status %d%s", c->how->status,
             c->how->status == 127 ? " (127: command not found?)" : "");
  char line[400];
  snprintf(line, sizeof line, "the command %s", how);
  if (c->how->dropped)
    snprintf(line + strlen(line), sizeof line - strlen(line),
             "; %zu bytes of its output were not kept (a log keeps the "
             "first %d)",
             c->how->dropped, RUNNER_OUTPUT_CAP);
  store_status st = logs_append(s, c->org_id, c->log_id,
                                json_pack("[o]", logs_event(now, line)));
  /* A completion step's command: its workflow execution has ended. */
  if (ids_valid("workflow-execution", c->id) || st == STORE_ERROR ||
      st == STORE_BUSY)
    return st == STORE_NONE ? STORE_ONE : st;
  char msg[400];
  snprintf(msg, sizeof msg,
           "the command %s without completing the execution (PATCH "
           "succeeded, failed, rejected or retry)",
           how);
  return transition_exec_fail(s, c->org_id, c->id, msg, false, now);
}

static void exec_on_exit(const char *id, const char *tag,
                         const runner_exit *how) {
  exec_cmd_ctx c = {.id = id, .how = how};
  if (!exec_parse_tag(tag, &c) || store_write_tx(exec_exit_tx, &c) != STORE_ONE)
    log_msg(LOG_WARN,
            "transitions: the end of the command of %s was not "
            "recorded",
            id);
}

bool transitions_start(char *err, size_t errlen) {
  engine_register(TRANSITION_JOB_TIMEOUT, transition_timeout_job);
  engine_register(TRANSITION_JOB_AUTO, transition_auto_job);
  engine_register(TRANSITION_JOB_LAUNCH, transition_launch_job);
  engine_register(TRANSITION_JOB_COMPLETED, transition_completed_job);
  return runner_start(exec_on_output, exec_on_exit, err, errlen);
}

void transitions_stop(void) {
  runner_stop();
}
