/* Workflows and the ASL engine over HTTP, against the real binary.
 *
 * The `asl` suite is a table: each row is a definition, an input, and what
 * the execution must end as (status, output, the error and cause of a
 * failure, how many events of a kind). Each row gets a workflow of its
 * own on one shared server; Waits and Retry intervals are passed by moving
 * the emulator's clock (POST /_emulator/clock/advance), never by sleeping,
 * and a row that waits is first checked to be still running. Definitions
 * are written with ' for " and placeholders for the transitions every row
 * can use: $AUTO (docker, completed by the engine with output = input),
 * $REFUSE (docker whose inputJsonSchema refuses every input: starting it
 * fails the step with States.TaskFailed), $MANUAL (manual, timeout 60 s),
 * $LONG (manual, timeout 1800 s), and $T+60 (an
 * RFC 3339 instant 60 s after the emulator's now).
 *
 * The `scenarios` suite drives executions the way users do: manual steps
 * approved and rejected, failures caught and not, a missing heartbeat,
 * docker auto mode, manual retry, stopping, listing, counters, and kill -9
 * in the middle of an execution and of a Wait. */
#include "it_client.h"

#include "ck_run.h"
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define EXPECT_STATUS(resp, code)                                              \
  do {                                                                         \
    it_response *r_ = (resp);                                                  \
    ck_assert_msg(r_->status == (code), "%s: expected %d, got %ld: %s",        \
                  r_->what, (int)(code), r_->status, r_->body);                \
  } while (0)

static it_server g_srv;
static it_session g_s;
static char g_auto[64], g_refuse[64], g_manual[64];
static char g_long[64]; /* manual, timeoutInSeconds 1800 */

static const char *const g_flags[] = {"--processing-delay-ms", "20", NULL};

/* ---- helpers ---- */

static json_t *ok_json(it_response *r, long status) {
  EXPECT_STATUS(r, status);
  json_t *j = json_incref(r->json);
  it_response_free(r);
  return j;
}

static void make_transition(it_session *s, json_t *body, char id[64]) {
  json_t *t = ok_json(it_send(s, "POST", body, "/transitions"), 200);
  snprintf(id, 64, "%s", it_str(t, "transitionId"));
  json_decref(t);
}

static void make_transitions(it_session *s) {
  make_transition(s,
                  json_pack("{s:s, s:{s:s}}", "transitionType", "docker",
                            "parameters", "imageUrl", "example/auto:1"),
                  g_auto);
  make_transition(s,
                  json_pack("{s:s, s:{s:s}, s:{s:s, s:[s]}}", "transitionType",
                            "docker", "parameters", "imageUrl",
                            "example/refuse:1", "inputJsonSchema", "type",
                            "object", "required", "never"),
                  g_refuse);
  make_transition(s,
                  json_pack("{s:s, s:{}, s:i}", "transitionType", "manual",
                            "parameters", "timeoutInSeconds", 60),
                  g_manual);
  make_transition(s,
                  json_pack("{s:s, s:{}, s:i}", "transitionType", "manual",
                            "parameters", "timeoutInSeconds", 1800),
                  g_long);
}

static void shared_setup(void) {
  ck_assert_msg(it_server_start(&g_srv, g_flags), "the server did not start");
  ck_assert(it_login_bootstrap(&g_srv, &g_s));
  make_transitions(&g_s);
}

/* Runs in the runner process, where failures do not count: an unclean
 * exit (a sanitizer report, a crash) is remembered for
 * test_servers_exit_cleanly. */
static char g_exit_problems[1024];
static void shared_teardown(void) {
  int status = g_srv.pid ? it_server_stop(&g_srv) : 0;
  if (status != 0) {
    size_t used = strlen(g_exit_problems);
    snprintf(g_exit_problems + used, sizeof g_exit_problems - used,
             "server on port %u exited with %d after SIGTERM; ", g_srv.port,
             status);
  }
  it_server_cleanup(&g_srv);
}

START_TEST(test_servers_exit_cleanly) {
  ck_assert_msg(g_exit_problems[0] == '\0', "%s", g_exit_problems);
}
END_TEST

/* 2026-11-29T11:20:27.446097+0000 -> epoch microseconds. */
static int64_t parse_time(const char *t) {
  struct tm tm = {0};
  long us = 0;
  ck_assert_msg(t && sscanf(t, "%4d-%2d-%2dT%2d:%2d:%2d.%6ld", &tm.tm_year,
                            &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                            &tm.tm_sec, &us) == 7,
                "not a timestamp: %s", t ? t : "(null)");
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return (int64_t)timegm(&tm) * 1000000 + us;
}

/* The emulator's now, from a new object's createdTime. */
static int64_t emulator_now(it_session *s) {
  json_t *d = ok_json(it_send(s, "POST", json_object(), "/datasets"), 200);
  int64_t now = parse_time(it_str(d, "createdTime"));
  json_decref(d);
  return now;
}

static void advance(it_session *s, int seconds) {
  it_response *r = it_send(s, "POST", json_pack("{s:i}", "seconds", seconds),
                           "/_emulator/clock/advance");
  EXPECT_STATUS(r, 200);
  it_response_free(r);
}

/* Replaces every `from` in *text (malloc'ed) by `to`. */
static void replace_all(char **text, const char *from, const char *to) {
  size_t fl = strlen(from), tl = strlen(to);
  for (char *p = strstr(*text, from); p; p = strstr(*text, from)) {
    size_t at = (size_t)(p - *text), len = strlen(*text);
    char *out = malloc(len - fl + tl + 1);
    memcpy(out, *text, at);
    memcpy(out + at, to, tl);
    memcpy(out + at + tl, p + fl, len - at - fl + 1);
    free(*text);
    *text = out;
    if (tl >= fl && strstr(to, from))
      break;
  }
}

/* A table's JSON: ' for ", and the placeholders. */
static json_t *table_json(it_session *s, const char *text) {
  char *t = strdup(text);
  for (char *p = t; *p; p++)
    if (*p == '\'')
      *p = '"';
  replace_all(&t, "$AUTO", g_auto);
  replace_all(&t, "$REFUSE", g_refuse);
  replace_all(&t, "$MANUAL", g_manual);
  replace_all(&t, "$LONG", g_long);
  if (strstr(t, "$T+60")) {
    time_t at = (time_t)(emulator_now(s) / 1000000 + 60);
    struct tm tm;
    gmtime_r(&at, &tm);
    char when[64];
    /* An offset other than Z on purpose: instants, not strings. */
    at += 2 * 3600;
    gmtime_r(&at, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S.5+02:00", &tm);
    replace_all(&t, "$T+60", when);
  }
  json_error_t err;
  json_t *j = json_loads(t, JSON_DECODE_ANY, &err);
  ck_assert_msg(j, "bad table JSON (%s): %s", err.text, t);
  free(t);
  return j;
}

static void create_workflow(it_session *s, json_t *definition, json_t *extra,
                            char id[64]) {
  json_t *body = json_pack("{s:s, s:{s:s, s:s, s:o}}", "name", "test",
                           "specification", "language", "ASL", "version",
                           "1.0.0", "definition", definition);
  if (extra)
    json_object_update(body, extra);
  json_decref(extra);
  json_t *wf = ok_json(it_send(s, "POST", body, "/workflows"), 200);
  snprintf(id, 64, "%s", it_str(wf, "workflowId"));
  ck_assert(it_id_valid("workflow", id));
  json_decref(wf);
}

/* Starts an execution: the answer is the execution as it started. */
static json_t *start(it_session *s, const char *wf, json_t *input,
                     char ex[64]) {
  json_t *sent = json_incref(input);
  json_t *e = ok_json(it_send(s, "POST", json_pack("{s:o}", "input", input),
                              "/workflows/%s/executions", wf),
                      200);
  snprintf(ex, 64, "%s", it_str(e, "executionId"));
  ck_assert(it_id_valid("workflow-execution", ex));
  ck_assert_str_eq(it_str(e, "workflowId"), wf);
  ck_assert_str_eq(it_str(e, "status"), "running");
  ck_assert(json_equal(json_object_get(e, "input"), sent));
  ck_assert(json_is_object(json_object_get(e, "output")) &&
            json_object_size(json_object_get(e, "output")) == 0);
  ck_assert(it_id_valid("log", it_str(e, "logId")));
  ck_assert(it_timestamp_valid(it_str(e, "startTime")));
  ck_assert(json_is_null(json_object_get(e, "endTime")));
  ck_assert_int_eq(json_array_size(json_object_get(e, "events")), 1);
  ck_assert_int_eq(json_object_size(json_object_get(e, "transitionExecutions")),
                   0);
  json_decref(sent);
  return e;
}

static json_t *get_execution(it_session *s, const char *wf, const char *ex) {
  return ok_json(it_get(s, "/workflows/%s/executions/%s", wf, ex), 200);
}

static bool ended(const json_t *e) {
  const char *st = it_str(e, "status");
  return st && strcmp(st, "running") != 0 && strcmp(st, "retry") != 0;
}

/* Polls until the execution has ended (real time: work of the engine that
 * is due now, such as docker auto completions). */
static json_t *wait_end(it_session *s, const char *wf, const char *ex,
                        int timeout_ms) {
  int64_t until = it_now_ms() + timeout_ms;
  for (;;) {
    json_t *e = get_execution(s, wf, ex);
    if (ended(e) || it_now_ms() > until)
      return e;
    json_decref(e);
    usleep(5000);
  }
}

/* Polls until cond holds for the execution or timeout_ms passes. */
static json_t *wait_for(it_session *s, const char *wf, const char *ex,
                        bool (*cond)(const json_t *), int timeout_ms) {
  int64_t until = it_now_ms() + timeout_ms;
  for (;;) {
    json_t *e = get_execution(s, wf, ex);
    if (cond(e) || it_now_ms() > until)
      return e;
    json_decref(e);
    usleep(5000);
  }
}

static size_t count_events(const json_t *e, const char *type) {
  size_t n = 0, i;
  json_t *ev;
  json_array_foreach(json_object_get(e, "events"), i, ev) {
    if (strcmp(it_str(ev, "type"), type) == 0)
      n++;
  }
  return n;
}

static const json_t *find_event(const json_t *e, const char *type) {
  size_t i;
  json_t *ev;
  json_array_foreach(json_object_get(e, "events"), i, ev) {
    if (strcmp(it_str(ev, "type"), type) == 0)
      return ev;
  }
  return NULL;
}

static char *dump(const json_t *j) {
  return json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
}

/* The transition execution ids a workflow execution started for t. */
static const char *transition_execution(const json_t *e, const char *t,
                                        size_t index) {
  const json_t *list =
      json_object_get(json_object_get(e, "transitionExecutions"), t);
  return json_string_value(json_array_get(list, index));
}

/* ---- the table ---- */

typedef struct asl_case {
  const char *name;
  const char *definition;
  const char *input;
  const char *status; /* final status */
  const char *output; /* expected output (NULL: not checked) */
  const char *error;  /* ExecutionFailed's error (NULL: none) */
  const char *cause;  /* a part of its cause (NULL: not checked) */
  int waits;          /* seconds to move the clock, after checking the
                         execution still runs; 0: no waiting */
  int rounds;         /* how many times to move it (Retry: one per retry) */
  const char *event;  /* an event type that must occur… */
  int event_count;    /* …this many times (0: not checked) */
} asl_case;

/* Rows name only the columns they need; the rest are zero. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
static const asl_case cases[] = {
    /* Pass: Result, ResultPath, Parameters, InputPath, OutputPath */
    {"pass-result-resultpath",
     "{'StartAt':'P','States':{'P':{'Type':'Pass','Result':{'x':1},"
     "'ResultPath':'$.r','End':true}}}",
     "{'a':1}", "succeeded", "{'a':1,'r':{'x':1}}"},
    {"pass-result-replaces-input",
     "{'StartAt':'P','States':{'P':{'Type':'Pass','Result':{'x':1},'End':"
     "true}}}",
     "{'a':1}", "succeeded", "{'x':1}"},
    {"pass-resultpath-null-keeps-input",
     "{'StartAt':'P','States':{'P':{'Type':'Pass','Result':{'x':1},"
     "'ResultPath':null,'End':true}}}",
     "{'a':1}", "succeeded", "{'a':1}"},
    {"pass-parameters-dollar-keys",
     "{'StartAt':'P','States':{'P':{'Type':'Pass','Parameters':{'fixed':"
     "'v','copied.$':'$.a.b','whole.$':'$','ctx.$':'$$.State.Name',"
     "'list':[{'n.$':'$.n'}]},'End':true}}}",
     "{'a':{'b':[1,2]},'n':7}", "succeeded",
     "{'fixed':'v','copied':[1,2],'whole':{'a':{'b':[1,2]},'n':7},"
     "'ctx':'P','list':[{'n':7}]}"},
    {"pass-inputpath-outputpath",
     "{'StartAt':'P','States':{'P':{'Type':'Pass','InputPath':'$.in',"
     "'ResultPath':'$.copy','OutputPath':'$.copy','End':true}}}",
     "{'in':{'k':'v'},'other':1}", "succeeded", "{'k':'v'}"},
    {"pass-chain-three-states",
     "{'StartAt':'A','States':{'A':{'Type':'Pass','Result':1,'ResultPath':"
     "'$.a','Next':'B'},'B':{'Type':'Pass','Result':2,'ResultPath':'$.b',"
     "'Next':'C'},'C':{'Type':'Pass','Result':3,'ResultPath':'$.c','End':"
     "true}}}",
     "{}", "succeeded", "{'a':1,'b':2,'c':3}", NULL, NULL, 0, 0, "StateEntered",
     3},
    {"pass-inputpath-matches-nothing",
     "{'StartAt':'P','States':{'P':{'Type':'Pass','InputPath':'$.missing',"
     "'End':true}}}",
     "{'a':1}", "failed", NULL, "States.Runtime"},
    {"pass-resultpath-through-a-string",
     "{'StartAt':'P','States':{'P':{'Type':'Pass','Result':1,'ResultPath':"
     "'$.a.b','End':true}}}",
     "{'a':'text'}", "failed", NULL, "States.ResultPathMatchFailure"},
    {"pass-scalar-output-is-wrapped",
     "{'StartAt':'P','States':{'P':{'Type':'Pass','Result':'done','End':"
     "true}}}",
     "{}", "succeeded", "{'output':'done'}"},

    /* Choice */
    {"choice-string-equals",
     "{'StartAt':'C','States':{'C':{'Type':'Choice','Choices':[{'Variable':"
     "'$.kind','StringEquals':'invoice','Next':'I'}],'Default':'O'},'I':{"
     "'Type':'Pass','Result':'invoice','End':true},'O':{'Type':'Pass',"
     "'Result':'other','End':true}}}",
     "{'kind':'invoice'}", "succeeded", "{'output':'invoice'}"},
    {"choice-default",
     "{'StartAt':'C','States':{'C':{'Type':'Choice','Choices':[{'Variable':"
     "'$.kind','StringEquals':'invoice','Next':'I'}],'Default':'O'},'I':{"
     "'Type':'Pass','Result':'invoice','End':true},'O':{'Type':'Pass',"
     "'Result':'other','End':true}}}",
     "{'kind':'receipt'}", "succeeded", "{'output':'other'}"},
    {"choice-no-match",
     "{'StartAt':'C','States':{'C':{'Type':'Choice','Choices':[{'Variable':"
     "'$.n','NumericEquals':1,'Next':'A'}]},'A':{'Type':'Succeed'}}}",
     "{'n':2}", "failed", NULL, "States.NoChoiceMatched"},
    {"choice-numeric-and-paths",
     "{'StartAt':'C','States':{'C':{'Type':'Choice','Choices':[{'And':[{"
     "'Variable':'$.total','NumericGreaterThanPath':'$.limit'},{'Variable':"
     "'$.total','NumericLessThanEquals':1000}],'Next':'High'}],'Default':"
     "'Low'},'High':{'Type':'Pass','Result':'high','End':true},'Low':{'Type'"
     ":'Pass','Result':'low','End':true}}}",
     "{'total':500.5,'limit':100}", "succeeded", "{'output':'high'}"},
    {"choice-or-not-boolean-presence",
     "{'StartAt':'C','States':{'C':{'Type':'Choice','Choices':[{'Or':[{"
     "'Variable':'$.flag','BooleanEquals':true},{'Not':{'Variable':'$.x',"
     "'IsPresent':true}}],'Next':'Yes'}],'Default':'No'},'Yes':{'Type':"
     "'Pass','Result':'yes','End':true},'No':{'Type':'Pass','Result':'no',"
     "'End':true}}}",
     "{'flag':false}", "succeeded", "{'output':'yes'}"},
    {"choice-is-null-and-type-tests",
     "{'StartAt':'C','States':{'C':{'Type':'Choice','Choices':[{'And':[{"
     "'Variable':'$.a','IsNull':true},{'Variable':'$.b','IsString':true},{"
     "'Variable':'$.c','IsNumeric':true},{'Variable':'$.d','IsBoolean':true}"
     "],'Next':'Yes'}],'Default':'No'},'Yes':{'Type':'Succeed'},'No':{"
     "'Type':'Fail','Error':'Wrong'}}}",
     "{'a':null,'b':'s','c':1,'d':true}", "succeeded"},
    {"choice-timestamps-as-instants",
     "{'StartAt':'C','States':{'C':{'Type':'Choice','Choices':[{'Variable':"
     "'$.t','TimestampEquals':'2024-01-01T12:00:00Z','Next':'Same'}],"
     "'Default':'Other'},'Same':{'Type':'Succeed'},'Other':{'Type':'Fail',"
     "'Error':'NotSame'}}}",
     "{'t':'2024-01-01T14:00:00.000+02:00'}", "succeeded"},
    {"choice-timestamp-less-than-path",
     "{'StartAt':'C','States':{'C':{'Type':'Choice','Choices':[{'Variable':"
     "'$.due','TimestampLessThanPath':'$.now','Next':'Late'}],'Default':"
     "'OnTime'},'Late':{'Type':'Pass','Result':'late','End':true},'OnTime':"
     "{'Type':'Pass','Result':'on time','End':true}}}",
     "{'due':'2024-01-01T00:00:00.5Z','now':'2024-01-01T00:00:01Z'}",
     "succeeded", "{'output':'late'}"},
    {"choice-string-matches-and-output-path",
     "{'StartAt':'C','States':{'C':{'Type':'Choice','OutputPath':'$.keep',"
     "'Choices':[{'Variable':'$.file','StringMatches':'*.pdf','Next':'Pdf'}"
     "],'Default':'Other'},'Pdf':{'Type':'Succeed'},'Other':{'Type':'Fail'}"
     "}}",
     "{'file':'a.pdf','keep':{'k':1}}", "succeeded", "{'k':1}"},

    /* Wait: the four forms, each still running before the clock moves */
    {"wait-seconds",
     "{'StartAt':'W','States':{'W':{'Type':'Wait','Seconds':30,'Next':'D'},"
     "'D':{'Type':'Pass','Result':'done','ResultPath':'$.r','End':true}}}",
     "{'a':1}", "succeeded", "{'a':1,'r':'done'}", NULL, NULL, 31, 1,
     "WaitStarted", 1},
    {"wait-timestamp",
     "{'StartAt':'W','States':{'W':{'Type':'Wait','Timestamp':'$T+60',"
     "'End':true}}}",
     "{'a':1}", "succeeded", "{'a':1}", NULL, NULL, 62, 1},
    {"wait-seconds-path",
     "{'StartAt':'W','States':{'W':{'Type':'Wait','SecondsPath':'$.delay',"
     "'End':true}}}",
     "{'delay':45}", "succeeded", "{'delay':45}", NULL, NULL, 46, 1},
    {"wait-timestamp-path",
     "{'StartAt':'W','States':{'W':{'Type':'Wait','TimestampPath':'$.at',"
     "'OutputPath':'$.at','End':true}}}",
     "{'at':'$T+60'}", "succeeded", NULL, NULL, NULL, 62, 1},
    {"wait-seconds-path-wrong-type",
     "{'StartAt':'W','States':{'W':{'Type':'Wait','SecondsPath':'$.delay',"
     "'End':true}}}",
     "{'delay':'soon'}", "failed", NULL, "States.Runtime", "SecondsPath"},
    {"wait-timestamp-path-not-a-timestamp",
     "{'StartAt':'W','States':{'W':{'Type':'Wait','TimestampPath':'$.at',"
     "'End':true}}}",
     "{'at':'tomorrow'}", "failed", NULL, "States.Runtime", "TimestampPath"},
    {"wait-timestamp-in-the-past-does-not-wait",
     "{'StartAt':'W','States':{'W':{'Type':'Wait','Timestamp':"
     "'2001-01-01T00:00:00Z','End':true}}}",
     "{}", "succeeded", "{}"},

    /* Succeed and Fail */
    {"succeed-with-paths",
     "{'StartAt':'S','States':{'S':{'Type':'Succeed','InputPath':'$.a',"
     "'OutputPath':'$.b'}}}",
     "{'a':{'b':{'c':1}}}", "succeeded", "{'c':1}"},
    {"fail-error-and-cause",
     "{'StartAt':'F','States':{'F':{'Type':'Fail','Error':'Invoice."
     "Invalid','Cause':'the total is missing'}}}",
     "{}", "failed", NULL, "Invoice.Invalid", "the total is missing"},

    /* Parallel */
    {"parallel-results-in-branch-order",
     "{'StartAt':'P','States':{'P':{'Type':'Parallel','Branches':[{"
     "'StartAt':'W','States':{'W':{'Type':'Wait','Seconds':10,'Next':'A'},"
     "'A':{'Type':'Pass','Result':'first','End':true}}},{'StartAt':'B',"
     "'States':{'B':{'Type':'Pass','InputPath':'$.v','End':true}}}],"
     "'ResultPath':'$.results','End':true}}}",
     "{'v':2}", "succeeded", "{'v':2,'results':['first',2]}", NULL, NULL, 11, 1,
     "ParallelStarted", 1},
    {"parallel-result-selector-and-tasks",
     "{'StartAt':'P','States':{'P':{'Type':'Parallel','Branches':[{"
     "'StartAt':'T','States':{'T':{'Type':'Task','Resource':'$AUTO',"
     "'End':true}}},{'StartAt':'U','States':{'U':{'Type':'Pass','Result':"
     "{'u':1},'End':true}}}],'ResultSelector':{'auto.$':'$[0]','pass.$':"
     "'$[1].u'},'End':true}}}",
     "{'doc':'d'}", "succeeded", "{'auto':{'doc':'d'},'pass':1}"},
    {"parallel-branch-fails",
     "{'StartAt':'P','States':{'P':{'Type':'Parallel','Branches':[{"
     "'StartAt':'W','States':{'W':{'Type':'Wait','Seconds':100,'End':true}"
     "}},{'StartAt':'F','States':{'F':{'Type':'Fail','Error':'Bad',"
     "'Cause':'branch two'}}}],'End':true}}}",
     "{}", "failed", NULL, "Bad", "branch two"},
    {"parallel-branch-failure-caught",
     "{'StartAt':'P','States':{'P':{'Type':'Parallel','Branches':[{"
     "'StartAt':'F','States':{'F':{'Type':'Fail','Error':'Bad'}}}],"
     "'Catch':[{'ErrorEquals':['States.BranchFailed'],'ResultPath':"
     "'$.err','Next':'After'}],'End':true},'After':{'Type':'Pass',"
     "'InputPath':'$.err.Error','End':true}}}",
     "{}", "succeeded", "{'output':'Bad'}", NULL, NULL, 0, 0, "ErrorCaught", 1},
    /* QA: the branch's own error reaches the Parallel's Catchers by name. */
    {"parallel-branch-error-caught-by-name",
     "{'StartAt':'P','States':{'P':{'Type':'Parallel','Branches':[{"
     "'StartAt':'F','States':{'F':{'Type':'Fail','Error':'E1',"
     "'Cause':'c1'}}}],'Catch':[{'ErrorEquals':['E2'],'Next':'Other'},"
     "{'ErrorEquals':['E1'],'ResultPath':'$.err','Next':'After'}],"
     "'End':true},'Other':{'Type':'Fail','Error':'Wrong'},'After':{'Type':"
     "'Pass','InputPath':'$.err','End':true}}}",
     "{}", "succeeded", "{'Error':'E1','Cause':'c1'}", NULL, NULL, 0, 0,
     "ErrorCaught", 1},
    {"parallel-branch-runtime-error-not-caught",
     "{'StartAt':'P','States':{'P':{'Type':'Parallel','Branches':[{"
     "'StartAt':'A','States':{'A':{'Type':'Pass','InputPath':'$.nothing',"
     "'End':true}}}],'Catch':[{'ErrorEquals':['States.ALL'],'Next':'H'}],"
     "'End':true},'H':{'Type':'Succeed'}}}",
     "{}", "failed", NULL, "States.Runtime"},
    {"parallel-nested",
     "{'StartAt':'P','States':{'P':{'Type':'Parallel','Branches':[{"
     "'StartAt':'Q','States':{'Q':{'Type':'Parallel','Branches':[{"
     "'StartAt':'A','States':{'A':{'Type':'Pass','Result':1,'End':true}}},"
     "{'StartAt':'B','States':{'B':{'Type':'Pass','Result':2,'End':true}}}"
     "],'End':true}}},{'StartAt':'C','States':{'C':{'Type':'Pass','Result':"
     "3,'End':true}}}],'End':true}}}",
     "{}", "succeeded", "{'output':[[1,2],3]}"},

    /* Task, Retry, Catch, error names */
    {"task-docker-auto-resultpath",
     "{'StartAt':'T','States':{'T':{'Type':'Task','Resource':'$AUTO',"
     "'Parameters':{'doc.$':'$.d','exec.$':'$$.Execution.Id'},"
     "'ResultSelector':{'doc.$':'$.doc'},'ResultPath':'$.task','End':true}"
     "}}",
     "{'d':'x'}", "succeeded", "{'d':'x','task':{'doc':'x'}}", NULL, NULL, 0, 0,
     "TaskSucceeded", 1},
    {"task-failure-uncaught",
     "{'StartAt':'T','States':{'T':{'Type':'Task','Resource':'$REFUSE',"
     "'End':true}}}",
     "{}", "failed", NULL, "States.TaskFailed", "never"},
    {"task-failure-caught-with-error-and-cause",
     "{'StartAt':'T','States':{'T':{'Type':'Task','Resource':'$REFUSE',"
     "'Catch':[{'ErrorEquals':['States.Timeout'],'Next':'Wrong'},{"
     "'ErrorEquals':['States.ALL'],'ResultPath':'$.error','Next':'Handled'"
     "}],'End':true},'Wrong':{'Type':'Fail'},'Handled':{'Type':'Pass',"
     "'InputPath':'$.error.Error','End':true}}}",
     "{'a':1}", "succeeded", "{'output':'States.TaskFailed'}"},
    {"task-retry-then-fail",
     "{'StartAt':'T','States':{'T':{'Type':'Task','Resource':'$REFUSE',"
     "'Retry':[{'ErrorEquals':['States.TaskFailed'],'IntervalSeconds':10,"
     "'MaxAttempts':2,'BackoffRate':3}],'End':true}}}",
     "{}", "failed", NULL, "States.TaskFailed", NULL, 30, 2, "RetryScheduled",
     2},
    {"task-retry-then-catch",
     "{'StartAt':'T','States':{'T':{'Type':'Task','Resource':'$REFUSE',"
     "'Retry':[{'ErrorEquals':['States.ALL'],'IntervalSeconds':5,"
     "'MaxAttempts':1}],'Catch':[{'ErrorEquals':['States.TaskFailed'],"
     "'Next':'Done'}],'End':true},'Done':{'Type':'Succeed'}}}",
     "{}", "succeeded", NULL, NULL, NULL, 6, 1, "RetryScheduled", 1},
    {"task-retry-max-attempts-zero",
     "{'StartAt':'T','States':{'T':{'Type':'Task','Resource':'$REFUSE',"
     "'Retry':[{'ErrorEquals':['States.ALL'],'MaxAttempts':0}],'End':true}"
     "}}",
     "{}", "failed", NULL, "States.TaskFailed", NULL, 0, 0, "RetryScheduled",
     0},
    {"task-parameter-path-failure-caught",
     "{'StartAt':'T','States':{'T':{'Type':'Task','Resource':'$AUTO',"
     "'Parameters':{'x.$':'$.missing'},'Catch':[{'ErrorEquals':["
     "'States.ParameterPathFailure'],'ResultPath':'$.e','Next':'Done'}],"
     "'End':true},'Done':{'Type':'Pass','InputPath':'$.e.Error','End':true}"
     "}}",
     "{}", "succeeded", "{'output':'States.ParameterPathFailure'}", NULL, NULL,
     0, 0, "TaskStarted", 0},
    {"task-runtime-error-not-caught",
     "{'StartAt':'T','States':{'T':{'Type':'Task','Resource':'$AUTO',"
     "'InputPath':'$.missing','Catch':[{'ErrorEquals':['States.ALL'],"
     "'Next':'Done'}],'End':true},'Done':{'Type':'Succeed'}}}",
     "{}", "failed", NULL, "States.Runtime"},

    /* Limits */
    /* Done is never reached: the machine loops through A and B for ever. */
    {"endless-pass-loop-is-stopped",
     "{'StartAt':'A','States':{'A':{'Type':'Pass','Next':'B'},'B':{'Type':"
     "'Choice','Choices':[{'Variable':'$.x','IsPresent':false,'Next':'Done'}"
     "],'Default':'A'},'Done':{'Type':'Succeed'}}}",
     "{'x':1}", "failed", NULL, "States.Runtime", "25000"},
};
#pragma GCC diagnostic pop

START_TEST(test_asl_table) {
  const asl_case *c = &cases[_i];
  char wf[64], ex[64];
  json_t *definition = table_json(&g_s, c->definition);
  create_workflow(&g_s, definition, NULL, wf);
  json_t *started = start(&g_s, wf, table_json(&g_s, c->input), ex);
  ck_assert_str_eq(it_str(started, "status"), "running");
  json_decref(started);
  json_t *e = NULL;
  if (c->waits) {
    /* Nothing is due before the clock moves: still running. */
    usleep(100 * 1000);
    e = get_execution(&g_s, wf, ex);
    ck_assert_msg(!ended(e), "%s: ended before the clock moved: %s", c->name,
                  dump(e));
    json_decref(e);
    for (int i = 0; i < (c->rounds ? c->rounds : 1); i++) {
      advance(&g_s, c->waits);
      usleep(20 * 1000);
    }
  }
  e = wait_end(&g_s, wf, ex, 20000);
  char *text = dump(e);
  ck_assert_msg(strcmp(it_str(e, "status"), c->status) == 0,
                "%s: status %s, expected %s: %s", c->name, it_str(e, "status"),
                c->status, text);
  ck_assert_msg(it_timestamp_valid(it_str(e, "endTime")), "%s: endTime: %s",
                c->name, text);
  if (c->output) {
    json_t *want = table_json(&g_s, c->output);
    ck_assert_msg(json_equal(json_object_get(e, "output"), want),
                  "%s: output %s, expected %s", c->name,
                  dump(json_object_get(e, "output")), dump(want));
    json_decref(want);
  }
  const json_t *failed = find_event(e, "ExecutionFailed");
  if (c->error) {
    ck_assert_msg(failed, "%s: no ExecutionFailed event: %s", c->name, text);
    ck_assert_msg(strcmp(it_str(failed, "error"), c->error) == 0,
                  "%s: error %s, expected %s", c->name, it_str(failed, "error"),
                  c->error);
    ck_assert_msg(!c->cause || strstr(it_str(failed, "cause"), c->cause),
                  "%s: cause \"%s\" lacks \"%s\"", c->name,
                  it_str(failed, "cause"), c->cause);
  } else {
    ck_assert_msg(!failed, "%s: unexpected failure: %s", c->name, text);
  }
  if (c->event)
    ck_assert_msg(count_events(e, c->event) == (size_t)c->event_count,
                  "%s: %zu %s events, expected %d: %s", c->name,
                  count_events(e, c->event), c->event, c->event_count, text);
  free(text);
  json_decref(e);
}
END_TEST

/* ---- definitions refused at create ---- */

START_TEST(test_definition_checked_at_create) {
  it_response *r =
      it_send(&g_s, "POST",
              json_pack("{s:{s:{s:s, s:{s:{s:s, s:s, s:b}}}}}", "specification",
                        "definition", "StartAt", "T", "States", "T", "Type",
                        "Task", "Resource",
                        "las:transition:"
                        "0123456789abcdef0123456789abcdef",
                        "End", 1),
              "/workflows");
  EXPECT_STATUS(r, 400);
  ck_assert_msg(strstr(it_str(r->json, "message"), "specification.") &&
                    strstr(it_str(r->json, "message"), "T"),
                "message: %s", it_str(r->json, "message"));
  it_response_free(r);
  r = it_send(&g_s, "POST",
              json_pack("{s:{s:{s:s, s:{}}}}", "specification", "definition",
                        "StartAt", "Nowhere", "States"),
              "/workflows");
  EXPECT_STATUS(r, 400);
  it_response_free(r);
  /* A PATCH cannot carry a specification. */
  char wf[64];
  create_workflow(&g_s,
                  table_json(&g_s, "{'StartAt':'S','States':{'S':{'Type':"
                                   "'Succeed'}}}"),
                  NULL, wf);
  r = it_send(&g_s, "PATCH",
              json_pack("{s:{s:{}}}", "specification", "definition"),
              "/workflows/%s", wf);
  EXPECT_STATUS(r, 400);
  it_response_free(r);
}
END_TEST

/* ---- scenarios ---- */

static bool has_task(const json_t *e) {
  return json_object_size(json_object_get(e, "transitionExecutions")) > 0 ||
         ended(e);
}

/* Starts an execution and waits for its first transition execution of t;
 * tx receives its id. */
static void start_and_wait_task(it_session *s, const char *wf, json_t *input,
                                const char *t, char ex[64], char tx[64]) {
  json_decref(start(s, wf, input, ex));
  json_t *e = wait_for(s, wf, ex, has_task, 10000);
  const char *id = transition_execution(e, t, 0);
  ck_assert_msg(id, "no execution of %s: %s", t, dump(e));
  snprintf(tx, 64, "%s", id);
  json_decref(e);
}

static void patch_transition(it_session *s, const char *t, const char *tx,
                             json_t *body, long status) {
  it_response *r =
      it_send(s, "PATCH", body, "/transitions/%s/executions/%s", t, tx);
  EXPECT_STATUS(r, status);
  it_response_free(r);
}

static json_t *workflow_get(it_session *s, const char *wf) {
  return ok_json(it_get(s, "/workflows/%s", wf), 200);
}

static json_int_t running_count(it_session *s, const char *wf) {
  json_t *w = workflow_get(s, wf);
  json_int_t n =
      json_integer_value(json_object_get(w, "numberOfRunningExecutions"));
  json_decref(w);
  return n;
}

#define MANUAL_STEP                                                            \
  "{'StartAt':'Approve','States':{'Approve':{'Type':'Task','Resource':"        \
  "'$MANUAL','Parameters':{'documentId.$':'$.doc'},'ResultPath':"              \
  "'$.approval','End':true}}}"

START_TEST(test_manual_approve) {
  char wf[64], ex[64], tx[64];
  create_workflow(&g_s, table_json(&g_s, MANUAL_STEP), NULL, wf);
  start_and_wait_task(&g_s, wf, json_pack("{s:s, s:i}", "doc", "d1", "n", 2),
                      g_manual, ex, tx);
  ck_assert_int_eq(running_count(&g_s, wf), 1);
  /* The transition execution's input is the state's effective input. */
  json_t *t =
      ok_json(it_get(&g_s, "/transitions/%s/executions/%s", g_manual, tx), 200);
  json_t *want = json_pack("{s:s}", "documentId", "d1");
  ck_assert_msg(json_equal(json_object_get(t, "input"), want), "input: %s",
                dump(json_object_get(t, "input")));
  json_decref(want);
  json_decref(t);
  json_t *e = get_execution(&g_s, wf, ex);
  ck_assert_str_eq(it_str(e, "status"), "running");
  json_decref(e);
  patch_transition(&g_s, g_manual, tx,
                   json_pack("{s:s, s:{s:b}}", "status", "succeeded", "output",
                             "approved", 1),
                   200);
  e = wait_end(&g_s, wf, ex, 10000);
  ck_assert_str_eq(it_str(e, "status"), "succeeded");
  want = json_pack("{s:s, s:i, s:{s:b}}", "doc", "d1", "n", 2, "approval",
                   "approved", 1);
  ck_assert_msg(json_equal(json_object_get(e, "output"), want), "output: %s",
                dump(json_object_get(e, "output")));
  json_decref(want);
  ck_assert_int_eq(count_events(e, "TaskSucceeded"), 1);
  ck_assert_int_eq(running_count(&g_s, wf), 0);
  /* Who approved the step completed the execution (QA: completedBy stayed
   * empty unless commons-failed ended it). */
  t = ok_json(it_get(&g_s, "/transitions/%s/executions/%s", g_manual, tx), 200);
  ck_assert_ptr_nonnull(json_string_value(json_object_get(t, "completedBy")));
  want = json_pack("[O]", json_object_get(t, "completedBy"));
  ck_assert_msg(json_equal(json_object_get(e, "completedBy"), want),
                "completedBy: %s", dump(json_object_get(e, "completedBy")));
  json_decref(want);
  json_decref(t);
  /* Its log: written by the engine, found by the execution's id. */
  json_t *log = ok_json(it_get(&g_s, "/logs/%s", it_str(e, "logId")), 200);
  ck_assert_str_eq(it_str(log, "workflowExecutionId"), ex);
  ck_assert_int_ge(json_array_size(json_object_get(log, "events")), 3);
  json_decref(log);
  json_t *logs = ok_json(it_get(&g_s, "/logs?workflowExecutionId=%s", ex), 200);
  ck_assert_int_ge(json_array_size(json_object_get(logs, "logs")), 1);
  json_decref(logs);
  json_decref(e);
}
END_TEST

START_TEST(test_manual_reject) {
  char wf[64], ex[64], tx[64];
  create_workflow(&g_s, table_json(&g_s, MANUAL_STEP), NULL, wf);
  start_and_wait_task(&g_s, wf, json_pack("{s:s}", "doc", "d1"), g_manual, ex,
                      tx);
  patch_transition(&g_s, g_manual, tx,
                   json_pack("{s:s, s:{s:s}}", "status", "rejected", "error",
                             "message", "not an invoice"),
                   200);
  json_t *e = wait_end(&g_s, wf, ex, 10000);
  ck_assert_str_eq(it_str(e, "status"), "rejected");
  ck_assert(it_timestamp_valid(it_str(e, "endTime")));
  ck_assert_int_eq(count_events(e, "ExecutionRejected"), 1);
  ck_assert_int_eq(running_count(&g_s, wf), 0);
  json_decref(e);
}
END_TEST

START_TEST(test_manual_failure_caught_and_uncaught) {
  char wf[64], caught[64], ex[64], tx[64];
  create_workflow(&g_s, table_json(&g_s, MANUAL_STEP), NULL, wf);
  create_workflow(
      &g_s,
      table_json(&g_s,
                 "{'StartAt':'A','States':{'A':{'Type':'Task','Resource':"
                 "'$MANUAL','Catch':[{'ErrorEquals':['States.TaskFailed'],"
                 "'ResultPath':'$.failure','Next':'Fallback'}],'End':true},"
                 "'Fallback':{'Type':'Pass','Result':'fallback','ResultPath':"
                 "'$.path','End':true}}}"),
      NULL, caught);
  start_and_wait_task(&g_s, wf, json_pack("{s:s}", "doc", "d1"), g_manual, ex,
                      tx);
  patch_transition(&g_s, g_manual, tx,
                   json_pack("{s:s, s:{s:s}}", "status", "failed", "error",
                             "message", "the scan is unreadable"),
                   200);
  json_t *e = wait_end(&g_s, wf, ex, 10000);
  ck_assert_str_eq(it_str(e, "status"), "failed");
  const json_t *f = find_event(e, "ExecutionFailed");
  ck_assert_ptr_nonnull(f);
  ck_assert_str_eq(it_str(f, "error"), "States.TaskFailed");
  ck_assert_msg(strstr(it_str(f, "cause"), "the scan is unreadable"),
                "cause: %s", it_str(f, "cause"));
  json_decref(e);

  start_and_wait_task(&g_s, caught, json_pack("{s:s}", "doc", "d2"), g_manual,
                      ex, tx);
  patch_transition(
      &g_s, g_manual, tx,
      json_pack("{s:s, s:{s:s}}", "status", "failed", "error", "message", "no"),
      200);
  e = wait_end(&g_s, caught, ex, 10000);
  ck_assert_str_eq(it_str(e, "status"), "succeeded");
  json_t *out = json_object_get(e, "output");
  ck_assert_str_eq(it_str(out, "path"), "fallback");
  ck_assert_str_eq(it_str(json_object_get(out, "failure"), "Error"),
                   "States.TaskFailed");
  ck_assert_str_eq(it_str(json_object_get(out, "failure"), "Cause"), "no");
  json_decref(e);
}
END_TEST

START_TEST(test_missing_heartbeat_times_out) {
  char wf[64], ex[64], tx[64];
  create_workflow(
      &g_s,
      table_json(&g_s, "{'StartAt':'A','States':{'A':{'Type':'Task','Resource':"
                       "'$MANUAL','Catch':[{'ErrorEquals':['States.Timeout'],"
                       "'ResultPath':'$.e','Next':'Late'}],'End':true},'Late':{"
                       "'Type':'Pass','InputPath':'$.e.Error','End':true}}}"),
      NULL, wf);
  start_and_wait_task(&g_s, wf, json_object(), g_manual, ex, tx);
  /* A heartbeat at 40 s keeps it alive past 60 s from the start. */
  advance(&g_s, 40);
  it_response *r =
      it_send(&g_s, "POST", json_object(),
              "/transitions/%s/executions/%s/heartbeats", g_manual, tx);
  EXPECT_STATUS(r, 204);
  it_response_free(r);
  advance(&g_s, 40);
  json_t *e = get_execution(&g_s, wf, ex);
  ck_assert_str_eq(it_str(e, "status"), "running");
  json_decref(e);
  /* 70 s without a heartbeat: States.Timeout, caught. */
  advance(&g_s, 30);
  e = wait_end(&g_s, wf, ex, 10000);
  ck_assert_str_eq(it_str(e, "status"), "succeeded");
  json_t *want = json_string("States.Timeout");
  ck_assert_msg(
      json_equal(json_object_get(json_object_get(e, "output"), "output"), want),
      "output: %s", dump(json_object_get(e, "output")));
  json_decref(want);
  json_decref(e);
  /* Uncaught, it fails the execution with States.Timeout. */
  char wf2[64];
  create_workflow(&g_s, table_json(&g_s, MANUAL_STEP), NULL, wf2);
  start_and_wait_task(&g_s, wf2, json_pack("{s:s}", "doc", "d"), g_manual, ex,
                      tx);
  advance(&g_s, 61);
  e = wait_end(&g_s, wf2, ex, 10000);
  ck_assert_str_eq(it_str(e, "status"), "failed");
  ck_assert_str_eq(it_str(find_event(e, "ExecutionFailed"), "error"),
                   "States.Timeout");
  json_decref(e);
}
END_TEST

START_TEST(test_docker_auto_mode) {
  char wf[64], ex[64];
  create_workflow(&g_s,
                  table_json(&g_s, "{'StartAt':'Predict','States':{'Predict':"
                                   "{'Type':'Task','Resource':'$AUTO','Next':"
                                   "'Approve'},'Approve':{'Type':'Pass',"
                                   "'End':true}}}"),
                  NULL, wf);
  json_decref(start(&g_s, wf, json_pack("{s:s}", "documentId", "d"), ex));
  json_t *e = wait_end(&g_s, wf, ex, 10000);
  ck_assert_str_eq(it_str(e, "status"), "succeeded");
  ck_assert_str_eq(it_str(json_object_get(e, "output"), "documentId"), "d");
  const char *tx = transition_execution(e, g_auto, 0);
  ck_assert_ptr_nonnull(tx);
  json_t *t =
      ok_json(it_get(&g_s, "/transitions/%s/executions/%s", g_auto, tx), 200);
  ck_assert_str_eq(it_str(t, "status"), "succeeded");
  json_decref(t);
  json_decref(e);
}
END_TEST

START_TEST(test_manual_retry_and_commons_failed) {
  char wf[64], plain[64], ex[64], tx[64];
  create_workflow(&g_s, table_json(&g_s, MANUAL_STEP),
                  json_pack("{s:{s:b, s:s}}", "errorConfig", "manualRetry", 1,
                            "email", "ops@example.com"),
                  wf);
  create_workflow(&g_s, table_json(&g_s, MANUAL_STEP), NULL, plain);
  start_and_wait_task(&g_s, wf, json_pack("{s:s}", "doc", "d1"), g_manual, ex,
                      tx);
  patch_transition(&g_s, g_manual, tx,
                   json_pack("{s:s, s:{s:s}}", "status", "failed", "error",
                             "message", "try again"),
                   200);
  json_t *e = wait_end(&g_s, wf, ex, 10000);
  ck_assert_str_eq(it_str(e, "status"), "error");
  const json_t *note = find_event(e, "ErrorNotification");
  ck_assert_ptr_nonnull(note);
  ck_assert_str_eq(it_str(note, "email"), "ops@example.com");
  json_decref(e);
  ck_assert_int_eq(running_count(&g_s, wf), 0);
  /* Continue at the Task state of the manual transition, same input. */
  e = ok_json(it_send(&g_s, "PATCH",
                      json_pack("{s:s}", "nextTransitionId", g_manual),
                      "/workflows/%s/executions/%s", wf, ex),
              200);
  ck_assert_str_eq(it_str(e, "status"), "retry");
  ck_assert(json_is_null(json_object_get(e, "endTime")));
  json_decref(e);
  ck_assert_int_eq(running_count(&g_s, wf), 1);
  e = get_execution(&g_s, wf, ex);
  const char *tx2 = transition_execution(e, g_manual, 1);
  ck_assert_msg(tx2, "no second transition execution: %s", dump(e));
  char second[64];
  snprintf(second, sizeof second, "%s", tx2);
  json_decref(e);
  json_t *t = ok_json(
      it_get(&g_s, "/transitions/%s/executions/%s", g_manual, second), 200);
  ck_assert_str_eq(it_str(json_object_get(t, "input"), "documentId"), "d1");
  json_decref(t);
  patch_transition(&g_s, g_manual, second,
                   json_pack("{s:s, s:{}}", "status", "succeeded", "output"),
                   200);
  e = wait_end(&g_s, wf, ex, 10000);
  ck_assert_str_eq(it_str(e, "status"), "succeeded");
  json_decref(e);
  /* An execution that has ended cannot be continued or failed. */
  it_response *r = it_send(
      &g_s, "PATCH",
      json_pack("{s:s}", "nextTransitionId", "las:transition:commons-failed"),
      "/workflows/%s/executions/%s", wf, ex);
  EXPECT_STATUS(r, 409); /* a state conflict, as for transition executions */
  it_response_free(r);

  /* commons-failed ends one in status error as failed, by the caller. */
  start_and_wait_task(&g_s, wf, json_pack("{s:s}", "doc", "d2"), g_manual, ex,
                      tx);
  patch_transition(
      &g_s, g_manual, tx,
      json_pack("{s:s, s:{s:s}}", "status", "failed", "error", "message", "x"),
      200);
  json_decref(wait_end(&g_s, wf, ex, 10000));
  e = ok_json(it_send(&g_s, "PATCH",
                      json_pack("{s:s}", "nextTransitionId",
                                "las:transition:commons-failed"),
                      "/workflows/%s/executions/%s", wf, ex),
              200);
  ck_assert_str_eq(it_str(e, "status"), "failed");
  ck_assert_int_eq(json_array_size(json_object_get(e, "completedBy")), 1);
  json_decref(e);

  /* Without errorConfig.manualRetry a failure is final. */
  start_and_wait_task(&g_s, plain, json_pack("{s:s}", "doc", "d3"), g_manual,
                      ex, tx);
  patch_transition(
      &g_s, g_manual, tx,
      json_pack("{s:s, s:{s:s}}", "status", "failed", "error", "message", "x"),
      200);
  e = wait_end(&g_s, plain, ex, 10000);
  ck_assert_str_eq(it_str(e, "status"), "failed");
  json_decref(e);
  r = it_send(&g_s, "PATCH", json_pack("{s:s}", "nextTransitionId", g_manual),
              "/workflows/%s/executions/%s", plain, ex);
  EXPECT_STATUS(r, 400);
  ck_assert_msg(strstr(it_str(r->json, "message"), "manualRetry"), "%s",
                it_str(r->json, "message"));
  it_response_free(r);
}
END_TEST

static bool has_second_task(const json_t *e) {
  return transition_execution(e, g_manual, 1) != NULL || ended(e);
}

START_TEST(test_transition_asks_for_retry) {
  char wf[64], ex[64], tx[64];
  create_workflow(&g_s, table_json(&g_s, MANUAL_STEP), NULL, wf);
  start_and_wait_task(&g_s, wf, json_pack("{s:s}", "doc", "d1"), g_manual, ex,
                      tx);
  patch_transition(&g_s, g_manual, tx,
                   json_pack("{s:s, s:{s:s}}", "status", "retry", "error",
                             "message", "busy"),
                   200);
  /* Started again with the same input; the execution is in `retry`. */
  json_t *e = wait_for(&g_s, wf, ex, has_second_task, 10000);
  ck_assert_str_eq(it_str(e, "status"), "retry");
  ck_assert_int_eq(count_events(e, "TaskRetried"), 1);
  char second[64];
  snprintf(second, sizeof second, "%s", transition_execution(e, g_manual, 1));
  json_decref(e);
  ck_assert_int_eq(running_count(&g_s, wf), 1);
  json_t *t = ok_json(
      it_get(&g_s, "/transitions/%s/executions/%s", g_manual, second), 200);
  ck_assert_str_eq(it_str(json_object_get(t, "input"), "documentId"), "d1");
  json_decref(t);
  patch_transition(&g_s, g_manual, second,
                   json_pack("{s:s, s:{}}", "status", "succeeded", "output"),
                   200);
  e = wait_end(&g_s, wf, ex, 10000);
  ck_assert_str_eq(it_str(e, "status"), "succeeded");
  json_decref(e);
}
END_TEST

START_TEST(test_delete_stops_an_execution) {
  char wf[64], ex[64], tx[64];
  create_workflow(&g_s, table_json(&g_s, MANUAL_STEP), NULL, wf);
  start_and_wait_task(&g_s, wf, json_pack("{s:s}", "doc", "d1"), g_manual, ex,
                      tx);
  ck_assert_int_eq(running_count(&g_s, wf), 1);
  it_response *r = it_delete(&g_s, "/workflows/%s", wf);
  EXPECT_STATUS(r, 400);
  ck_assert_msg(strstr(it_str(r->json, "message"), "running"), "%s",
                it_str(r->json, "message"));
  it_response_free(r);
  json_t *e =
      ok_json(it_delete(&g_s, "/workflows/%s/executions/%s", wf, ex), 200);
  ck_assert_str_eq(it_str(e, "executionId"), ex);
  json_decref(e);
  r = it_get(&g_s, "/workflows/%s/executions/%s", wf, ex);
  EXPECT_STATUS(r, 404);
  it_response_free(r);
  ck_assert_int_eq(running_count(&g_s, wf), 0);
  /* Its transition execution can still be completed, but moves nothing. */
  patch_transition(&g_s, g_manual, tx,
                   json_pack("{s:s, s:{}}", "status", "succeeded", "output"),
                   200);
  usleep(100 * 1000);
  r = it_get(&g_s, "/workflows/%s/executions/%s", wf, ex);
  EXPECT_STATUS(r, 404);
  it_response_free(r);
  json_t *w = ok_json(it_delete(&g_s, "/workflows/%s", wf), 200);
  ck_assert_str_eq(it_str(w, "workflowId"), wf);
  json_decref(w);
  r = it_get(&g_s, "/workflows/%s", wf);
  EXPECT_STATUS(r, 404);
  it_response_free(r);
}
END_TEST

static size_t list_count(it_session *s, const char *wf, const char *query) {
  json_t *l = ok_json(it_get(s, "/workflows/%s/executions%s", wf, query), 200);
  size_t n = json_array_size(json_object_get(l, "executions"));
  json_decref(l);
  return n;
}

START_TEST(test_list_filters_sorting_paging) {
  char wf[64], ex[3][64], tx[64];
  create_workflow(
      &g_s,
      table_json(&g_s, "{'StartAt':'C','States':{'C':{'Type':'Choice',"
                       "'Choices':[{'Variable':'$.k','StringEquals':'wait',"
                       "'Next':'M'},{'Variable':'$.k','StringEquals':'fail',"
                       "'Next':'F'}],'Default':'S'},'M':{'Type':'Task',"
                       "'Resource':'$MANUAL','End':true},'F':{'Type':'Fail'},"
                       "'S':{'Type':'Succeed'}}}"),
      NULL, wf);
  /* Started in this order; the running one first, so that it has the
   * earliest start but no end. */
  start_and_wait_task(&g_s, wf, json_pack("{s:s}", "k", "wait"), g_manual,
                      ex[0], tx);
  json_decref(start(&g_s, wf, json_pack("{s:s}", "k", "fail"), ex[1]));
  json_decref(wait_end(&g_s, wf, ex[1], 10000));
  json_decref(start(&g_s, wf, json_pack("{s:s}", "k", "ok"), ex[2]));
  json_decref(wait_end(&g_s, wf, ex[2], 10000));

  ck_assert_int_eq(list_count(&g_s, wf, ""), 3);
  ck_assert_int_eq(list_count(&g_s, wf, "?status=running"), 1);
  ck_assert_int_eq(list_count(&g_s, wf, "?status=succeeded&status=failed"), 2);
  ck_assert_int_eq(list_count(&g_s, wf, "?status=rejected"), 0);
  json_t *l =
      ok_json(it_get(&g_s, "/workflows/%s/executions?sortBy=endTime", wf), 200);
  json_t *items = json_object_get(l, "executions");
  ck_assert_str_eq(it_str(json_array_get(items, 0), "executionId"), ex[1]);
  ck_assert_str_eq(it_str(json_array_get(items, 1), "executionId"), ex[2]);
  ck_assert_str_eq(it_str(json_array_get(items, 2), "executionId"), ex[0]);
  ck_assert_str_eq(it_str(l, "sortBy"), "endTime");
  ck_assert_str_eq(it_str(l, "workflowId"), wf);
  json_decref(l);
  l = ok_json(it_get(&g_s,
                     "/workflows/%s/executions?sortBy=startTime&order="
                     "descending",
                     wf),
              200);
  items = json_object_get(l, "executions");
  ck_assert_str_eq(it_str(json_array_get(items, 0), "executionId"), ex[2]);
  ck_assert_str_eq(it_str(json_array_get(items, 2), "executionId"), ex[0]);
  json_decref(l);
  /* Pages of one, by end, descending: each once. */
  char seen[3][64] = {"", "", ""};
  char token[4096] = "";
  for (int page = 0; page < 3; page++) {
    char *enc = token[0] ? it_url_encode(token) : strdup("");
    l = ok_json(it_get(&g_s,
                       "/workflows/%s/executions?sortBy=endTime&order="
                       "descending&maxResults=1%s%s",
                       wf, token[0] ? "&nextToken=" : "", enc),
                200);
    free(enc);
    items = json_object_get(l, "executions");
    ck_assert_int_eq(json_array_size(items), 1);
    snprintf(seen[page], 64, "%s",
             it_str(json_array_get(items, 0), "executionId"));
    const char *next = it_str(l, "nextToken");
    ck_assert_msg(page == 2 ? next == NULL : next != NULL, "page %d", page);
    snprintf(token, sizeof token, "%s", next ? next : "");
    json_decref(l);
  }
  ck_assert_str_eq(seen[0], ex[0]);
  ck_assert_str_eq(seen[1], ex[2]);
  ck_assert_str_eq(seen[2], ex[1]);
  it_response *r = it_get(&g_s, "/workflows/%s/executions?status=paused", wf);
  EXPECT_STATUS(r, 400);
  it_response_free(r);
  r = it_get(&g_s, "/workflows/%s/executions?sortBy=name", wf);
  EXPECT_STATUS(r, 400);
  it_response_free(r);
  r = it_get(&g_s, "/workflows/%s/executions?order=up", wf);
  EXPECT_STATUS(r, 400);
  it_response_free(r);
}
END_TEST

START_TEST(test_completion_step_and_isolation) {
  char wf[64], ex[64];
  create_workflow(&g_s,
                  table_json(&g_s, "{'StartAt':'S','States':{'S':{'Type':"
                                   "'Succeed'}}}"),
                  json_pack("{s:{s:s, s:{s:s}}}", "completedConfig", "imageUrl",
                            "example/done:1", "environment", "A", "b"),
                  wf);
  json_decref(start(&g_s, wf, json_object(), ex));
  json_t *e = wait_end(&g_s, wf, ex, 10000);
  ck_assert_str_eq(it_str(e, "status"), "succeeded");
  const char *log_id = it_str(e, "completedTaskLogId");
  ck_assert_msg(it_id_valid("log", log_id), "%s", dump(e));
  json_t *log = ok_json(it_get(&g_s, "/logs/%s", log_id), 200);
  ck_assert_str_eq(it_str(log, "transitionId"),
                   "las:transition:commons-completed");
  ck_assert_str_eq(it_str(log, "workflowExecutionId"), ex);
  json_decref(log);
  json_decref(e);
  /* Another organization sees none of it; the wrong workflow neither. */
  it_session other;
  ck_assert(it_signup(&g_srv, &other, NULL));
  it_response *r = it_get(&other, "/workflows/%s", wf);
  EXPECT_STATUS(r, 404);
  it_response_free(r);
  r = it_get(&other, "/workflows/%s/executions/%s", wf, ex);
  EXPECT_STATUS(r, 404);
  it_response_free(r);
  char wf2[64];
  create_workflow(&g_s,
                  table_json(&g_s, "{'StartAt':'S','States':{'S':{'Type':"
                                   "'Succeed'}}}"),
                  NULL, wf2);
  r = it_get(&g_s, "/workflows/%s/executions/%s", wf2, ex);
  EXPECT_STATUS(r, 404);
  it_response_free(r);
  r = it_delete(&g_s, "/workflows/%s/executions/%s", wf2, ex);
  EXPECT_STATUS(r, 404);
  it_response_free(r);
}
END_TEST

/* Servers of their own: allowances, and kill -9. */

START_TEST(test_counters_and_allowances) {
  static const char *const flags[] = {
      "--allowances",
      "numberOfWorkflowsAllowed=2,monthlyNumberOfWorkflowExecutionsAllowed=3",
      NULL};
  it_server srv;
  ck_assert(it_server_start(&srv, flags));
  it_session s;
  ck_assert(it_login_bootstrap(&srv, &s));
  const char *def = "{'StartAt':'S','States':{'S':{'Type':'Succeed'}}}";
  char wf[64], wf2[64], ex[64];
  create_workflow(&s, table_json(&s, def), NULL, wf);
  create_workflow(&s, table_json(&s, def), NULL, wf2);
  it_response *r = it_send(&s, "POST",
                           json_pack("{s:{s:o}}", "specification", "definition",
                                     table_json(&s, def)),
                           "/workflows");
  EXPECT_STATUS(r, 429);
  it_response_free(r);
  for (int i = 0; i < 3; i++)
    json_decref(start(&s, wf, json_object(), ex));
  r = it_send(&s, "POST", json_pack("{s:{}}", "input"),
              "/workflows/%s/executions", wf);
  EXPECT_STATUS(r, 429);
  it_response_free(r);
  json_t *org = ok_json(it_get(&s, "/organizations/me"), 200);
  ck_assert_int_eq(
      json_integer_value(json_object_get(org, "numberOfWorkflowsCreated")), 2);
  ck_assert_int_eq(json_integer_value(json_object_get(
                       org, "monthlyNumberOfWorkflowExecutionsCreated")),
                   3);
  json_decref(org);
  ck_assert_int_eq(list_count(&s, wf, ""), 3);
  ck_assert_int_eq(it_server_stop(&srv), 0);
  it_server_cleanup(&srv);
}
END_TEST

/* In docker mode command the completion step runs the command mapped to
 * completedConfig.imageUrl, with the workflow execution's ids and the
 * config's environment; its output and exit go to the completion log. */
START_TEST(test_completion_command_runs) {
  static const char *const flags[] = {
      "--docker-mode", "command", "--docker-command",
      "example/done:2=echo \"wf=$WORKFLOW_ID ex=$EXECUTION_ID "
      "wfx=$WORKFLOW_EXECUTION_ID a=$A\"; echo to-stderr >&2; exit 3",
      NULL};
  it_server srv;
  ck_assert(it_server_start(&srv, flags));
  it_session s;
  ck_assert(it_login_bootstrap(&srv, &s));
  char wf[64], ex[64];
  create_workflow(&s,
                  table_json(&s, "{'StartAt':'S','States':{'S':{'Type':"
                                 "'Succeed'}}}"),
                  json_pack("{s:{s:s, s:{s:s}}}", "completedConfig", "imageUrl",
                            "example/done:2", "environment", "A", "b"),
                  wf);
  json_decref(start(&s, wf, json_object(), ex));
  json_t *e = wait_end(&s, wf, ex, 10000);
  ck_assert_str_eq(it_str(e, "status"), "succeeded");
  char log_id[64];
  snprintf(log_id, sizeof log_id, "%s", it_str(e, "completedTaskLogId"));
  json_decref(e);
  char want[300];
  snprintf(want, sizeof want, "wf=%s ex=%s wfx=%s a=b", wf, ex, ex);
  char *text = NULL;
  for (int i = 0; i < 200; i++) {
    json_t *log = ok_json(it_get(&s, "/logs/%s", log_id), 200);
    free(text);
    text = json_dumps(json_object_get(log, "events"), 0);
    json_decref(log);
    if (strstr(text, "exited with status 3"))
      break;
    usleep(50 * 1000);
  }
  ck_assert_msg(strstr(text, want), "no '%s' in %s", want, text);
  ck_assert_msg(strstr(text, "to-stderr"), "%s", text);
  ck_assert_msg(strstr(text, "the command exited with status 3"), "%s", text);
  free(text);
  /* The execution stays as it ended. */
  e = ok_json(it_get(&s, "/workflows/%s/executions/%s", wf, ex), 200);
  ck_assert_str_eq(it_str(e, "status"), "succeeded");
  json_decref(e);
  ck_assert_int_eq(it_server_stop(&srv), 0);
  it_server_cleanup(&srv);
}
END_TEST

START_TEST(test_restart_mid_execution_and_mid_wait) {
  it_server srv;
  ck_assert(it_server_start(&srv, g_flags));
  it_session s;
  ck_assert(it_login_bootstrap(&srv, &s));
  make_transitions(&s);
  char manual[64], waiting[64], both[64], ex1[64], ex2[64], ex3[64], tx[64];
  create_workflow(&s, table_json(&s, MANUAL_STEP), NULL, manual);
  create_workflow(&s,
                  table_json(&s, "{'StartAt':'W','States':{'W':{'Type':"
                                 "'Wait','Seconds':1200,'Next':'D'},'D':{"
                                 "'Type':'Pass','Result':'done','End':"
                                 "true}}}"),
                  NULL, waiting);
  create_workflow(
      &s,
      table_json(&s, "{'StartAt':'P','States':{'P':{'Type':'Parallel',"
                     "'Branches':[{'StartAt':'W','States':{'W':{'Type':"
                     "'Wait','Seconds':600,'End':true}}},{'StartAt':'M',"
                     "'States':{'M':{'Type':'Task','Resource':'$LONG',"
                     "'End':true}}}],'End':true}}}"),
      NULL, both);
  start_and_wait_task(&s, manual, json_pack("{s:s}", "doc", "d"), g_manual, ex1,
                      tx);
  json_decref(start(&s, waiting, json_pack("{s:i}", "a", 1), ex2));
  char tx3[64];
  start_and_wait_task(&s, both, json_pack("{s:i}", "b", 2), g_long, ex3, tx3);
  it_server_kill9(&srv);
  ck_assert(it_server_restart(&srv));
  ck_assert(it_login_bootstrap(&srv, &s));
  json_t *e = get_execution(&s, manual, ex1);
  ck_assert_str_eq(it_str(e, "status"), "running");
  json_decref(e);
  ck_assert_int_eq(running_count(&s, manual), 1);
  patch_transition(
      &s, g_manual, tx,
      json_pack("{s:s, s:{s:s}}", "status", "succeeded", "output", "ok", "yes"),
      200);
  e = wait_end(&s, manual, ex1, 10000);
  ck_assert_str_eq(it_str(e, "status"), "succeeded");
  json_decref(e);
  /* The Wait is where it was: not over before its time. */
  e = get_execution(&s, waiting, ex2);
  ck_assert_str_eq(it_str(e, "status"), "running");
  json_decref(e);
  advance(&s, 700);
  usleep(100 * 1000);
  e = get_execution(&s, waiting, ex2);
  ck_assert_str_eq(it_str(e, "status"), "running");
  json_decref(e);
  /* Past the Wait; still within the long manual step's 1800 s timeout. */
  advance(&s, 600);
  e = wait_end(&s, waiting, ex2, 10000);
  ck_assert_str_eq(it_str(e, "status"), "succeeded");
  ck_assert_str_eq(it_str(json_object_get(e, "output"), "output"), "done");
  ck_assert_int_eq(count_events(e, "WaitStarted"), 1);
  json_decref(e);
  /* The Parallel: its Wait branch ended with the clock; the manual one now. */
  patch_transition(
      &s, g_long, tx3,
      json_pack("{s:s, s:{s:i}}", "status", "succeeded", "output", "m", 1),
      200);
  e = wait_end(&s, both, ex3, 10000);
  ck_assert_str_eq(it_str(e, "status"), "succeeded");
  json_t *want = json_pack("{s:[{s:i},{s:i}]}", "output", "b", 2, "m", 1);
  ck_assert_msg(json_equal(json_object_get(e, "output"), want), "output %s",
                dump(json_object_get(e, "output")));
  json_decref(want);
  json_decref(e);
  ck_assert_int_eq(it_server_stop(&srv), 0);
  it_server_cleanup(&srv);
}
END_TEST

static Suite *asl_suite(void) {
  Suite *s = suite_create("workflows");
  TCase *tc = tcase_create("asl");
  tcase_add_unchecked_fixture(tc, shared_setup, shared_teardown);
  tcase_set_timeout(tc, 120);
  tcase_add_loop_test(tc, test_asl_table, 0,
                      (int)(sizeof cases / sizeof cases[0]));
  tcase_add_test(tc, test_definition_checked_at_create);
  suite_add_tcase(s, tc);
  tc = tcase_create("scenarios");
  tcase_add_unchecked_fixture(tc, shared_setup, shared_teardown);
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_manual_approve);
  tcase_add_test(tc, test_manual_reject);
  tcase_add_test(tc, test_manual_failure_caught_and_uncaught);
  tcase_add_test(tc, test_missing_heartbeat_times_out);
  tcase_add_test(tc, test_docker_auto_mode);
  tcase_add_test(tc, test_manual_retry_and_commons_failed);
  tcase_add_test(tc, test_transition_asks_for_retry);
  tcase_add_test(tc, test_delete_stops_an_execution);
  tcase_add_test(tc, test_list_filters_sorting_paging);
  tcase_add_test(tc, test_completion_step_and_isolation);
  suite_add_tcase(s, tc);
  tc = tcase_create("servers");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_counters_and_allowances);
  tcase_add_test(tc, test_completion_command_runs);
  tcase_add_test(tc, test_restart_mid_execution_and_mid_wait);
  tcase_add_test(tc, test_servers_exit_cleanly);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return ck_run(asl_suite(), CK_NORMAL);
}
