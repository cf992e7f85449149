/* asl_eval, the pure step of the engine, table-driven: a machine, the state
 * entered (or whose work came back), the input, and the outcome it must
 * give (where to go, with what, until when, or which error). The same
 * machines run end to end over HTTP in test_workflows.c; here each step is
 * checked alone, without a store or a clock. JSON is written with ' for ". */
#include "workflows/asl_eval.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "ck_run.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define NOW 1000000000000000LL /* epoch µs of every step here */

static json_t *J(const char *text) {
  if (!text)
    return NULL;
  char *copy = strdup(text);
  for (char *p = copy; *p; p++)
    if (*p == '\'')
      *p = '"';
  json_error_t e;
  json_t *v = json_loads(copy, JSON_DECODE_ANY, &e);
  ck_assert_msg(v != NULL, "bad test JSON %s: %s", text, e.text);
  free(copy);
  return v;
}

static const char *go_name(asl_go go) {
  static const char *const names[] = {"NEXT", "END",      "FAIL", "WAIT",
                                      "TASK", "PARALLEL", "RETRY"};
  return (unsigned)go < N(names) ? names[go] : "?";
}

typedef struct {
  const char *name;
  const char *machine;
  const char *state;
  const char *input;
  /* the work came back (asl_eval_result) when result or error is set */
  const char *result;
  const char *error;
  const char *attempts; /* the Retriers' counts before the step ([]) */
  asl_go go;
  const char *next; /* NEXT, WAIT */
  const char *data; /* NEXT, END, WAIT, TASK, PARALLEL */
  int64_t after_us; /* WAIT, RETRY: until - NOW */
  const char *err;  /* FAIL, RETRY, caught NEXT: the error name */
  const char *resource;
  const char *attempts_after;
} eval_case;

#define M_TASK                                                                 \
  "{'StartAt':'T','States':{'T':{'Type':'Task','Resource':'r1',"               \
  "'Parameters':{'id.$':'$.id'},'ResultPath':'$.out','Retry':[{"               \
  "'ErrorEquals':['States.Timeout'],'IntervalSeconds':2,'BackoffRate':3,"      \
  "'MaxAttempts':2}],'Catch':[{'ErrorEquals':['States.ALL'],'ResultPath':"     \
  "'$.err','Next':'H'}],'Next':'N'},'H':{'Type':'Succeed'},'N':{'Type':"       \
  "'Succeed'}}}"

/* Rows name only the columns they need; the rest are zero. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
static const eval_case cases[] = {
    {"pass goes on",
     "{'StartAt':'P','States':{'P':{'Type':'Pass','Result':"
     "1,'ResultPath':'$.r','Next':'Q'},'Q':{'Type':'Succeed'}"
     "}}",
     "P", "{'a':1}", NULL, NULL, "[]", ASL_GO_NEXT, "Q", "{'a':1,'r':1}"},
    {"pass at the end",
     "{'StartAt':'P','States':{'P':{'Type':'Pass','End':"
     "true}}}",
     "P", "{'a':1}", NULL, NULL, "[]", ASL_GO_END, NULL, "{'a':1}"},
    {"succeed",
     "{'StartAt':'S','States':{'S':{'Type':'Succeed','OutputPath':"
     "'$.a'}}}",
     "S", "{'a':[1]}", NULL, NULL, "[]", ASL_GO_END, NULL, "[1]"},
    {"fail",
     "{'StartAt':'F','States':{'F':{'Type':'Fail','Error':'E',"
     "'Cause':'c'}}}",
     "F", "{}", NULL, NULL, "[]", ASL_GO_FAIL, NULL, NULL, 0, "E"},
    {"choice",
     "{'StartAt':'C','States':{'C':{'Type':'Choice','Choices':[{"
     "'Variable':'$.n','NumericLessThan':0,'Next':'Neg'}],"
     "'Default':'Pos'},'Neg':{'Type':'Succeed'},'Pos':{'Type':"
     "'Succeed'}}}",
     "C", "{'n':-1}", NULL, NULL, "[]", ASL_GO_NEXT, "Neg", "{'n':-1}"},
    {"choice matches nothing",
     "{'StartAt':'C','States':{'C':{'Type':"
     "'Choice','Choices':[{'Variable':'$.n',"
     "'NumericLessThan':0,'Next':'Neg'}]},'Neg':{"
     "'Type':'Succeed'}}}",
     "C", "{'n':1}", NULL, NULL, "[]", ASL_GO_FAIL, NULL, NULL, 0,
     "States.NoChoiceMatched"},
    {"wait seconds, then the end",
     "{'StartAt':'W','States':{'W':{'Type':"
     "'Wait','Seconds':5,'End':true}}}",
     "W", "{'x':1}", NULL, NULL, "[]", ASL_GO_WAIT, NULL, "{'x':1}", 5000000},
    {"wait seconds path, then next",
     "{'StartAt':'W','States':{'W':{'Type':"
     "'Wait','SecondsPath':'$.s','Next':'X'}"
     ",'X':{'Type':'Succeed'}}}",
     "W", "{'s':7}", NULL, NULL, "[]", ASL_GO_WAIT, "X", "{'s':7}", 7000000},
    {"wait path of the wrong type",
     "{'StartAt':'W','States':{'W':{'Type':"
     "'Wait','SecondsPath':'$.s','End':true}"
     "}}",
     "W", "{'s':'x'}", NULL, NULL, "[]", ASL_GO_FAIL, NULL, NULL, 0,
     "States.Runtime"},
    {"task starts with its effective input", M_TASK, "T",
     "{'id':'d1','other':2}", NULL, NULL, "[]", ASL_GO_TASK, NULL,
     "{'id':'d1'}", 0, NULL, "r1"},
    {"task parameter path fails: caught", M_TASK, "T", "{'other':2}", NULL,
     NULL, "[]", ASL_GO_NEXT, "H",
     "{'other':2,'err':{'Error':"
     "'States.ParameterPathFailure'}}",
     0, "States.ParameterPathFailure"},
    {"task result", M_TASK, "T", "{'id':'d1'}", "{'ok':true}", NULL, "[]",
     ASL_GO_NEXT, "N", "{'id':'d1','out':{'ok':true}}"},
    {"task timeout retried after 2 s", M_TASK, "T", "{'id':'d1'}", NULL,
     "States.Timeout", "[]", ASL_GO_RETRY, NULL, NULL, 2000000,
     "States.Timeout", NULL, "[1]"},
    {"task timeout retried again after 6 s", M_TASK, "T", "{'id':'d1'}", NULL,
     "States.Timeout", "[1]", ASL_GO_RETRY, NULL, NULL, 6000000,
     "States.Timeout", NULL, "[2]"},
    {"task timeout, retries spent: caught", M_TASK, "T", "{'id':'d1'}", NULL,
     "States.Timeout", "[2]", ASL_GO_NEXT, "H", NULL, 0, "States.Timeout"},
    {"task failure not retried: caught", M_TASK, "T", "{'id':'d1'}", NULL,
     "States.TaskFailed", "[]", ASL_GO_NEXT, "H", NULL, 0, "States.TaskFailed"},
    {"runtime error is not caught",
     "{'StartAt':'T','States':{'T':{'Type':'Task','Resource':'r','InputPath':"
     "'$.nothing','Catch':[{'ErrorEquals':['States.ALL'],'Next':'H'}],"
     "'End':true},'H':{'Type':'Succeed'}}}",
     "T", "{}", NULL, NULL, "[]", ASL_GO_FAIL, NULL, NULL, 0, "States.Runtime"},
    {"parallel starts its branches",
     "{'StartAt':'P','States':{'P':{'Type':'Parallel','InputPath':'$.in',"
     "'Branches':[{'StartAt':'A','States':{'A':{'Type':'Succeed'}}}],'End':"
     "true}}}",
     "P", "{'in':{'k':1}}", NULL, NULL, "[]", ASL_GO_PARALLEL, NULL, "{'k':1}"},
    {"parallel results in branch order",
     "{'StartAt':'P','States':{'P':{'Type':'Parallel','Branches':[{'StartAt':"
     "'A','States':{'A':{'Type':'Succeed'}}}],'ResultSelector':{'first.$':"
     "'$[0]'},'End':true}}}",
     "P", "{}", "[{'a':1},{'b':2}]", NULL, "[]", ASL_GO_END, NULL,
     "{'first':{'a':1}}"},
    {"a missing state", "{'StartAt':'P','States':{'P':{'Type':'Succeed'}}}",
     "Nowhere", "{}", NULL, NULL, "[]", ASL_GO_FAIL, NULL, NULL, 0,
     "States.Runtime"},
};
#pragma GCC diagnostic pop

START_TEST(test_eval_table) {
  const eval_case *c = &cases[_i];
  json_t *machine = J(c->machine), *input = J(c->input);
  json_t *attempts = J(c->attempts);
  json_t *ctx = J("{'Execution':{'Id':'x'},'State':{'Name':'s'}}");
  asl_outcome o;
  if (c->result || c->error) {
    json_t *result = J(c->result);
    asl_eval_result(machine, c->state, input, result, c->error, "why", ctx, NOW,
                    attempts, &o);
    json_decref(result);
  } else {
    asl_eval_enter(machine, c->state, input, ctx, NOW, attempts, &o);
  }
  ck_assert_msg(o.go == c->go, "%s: %s, want %s (%s: %s)", c->name,
                go_name(o.go), go_name(c->go), o.err.error, o.err.cause);
  if (c->next || o.go == ASL_GO_NEXT)
    ck_assert_msg(o.next && c->next && strcmp(o.next, c->next) == 0,
                  "%s: next %s, want %s", c->name, o.next ? o.next : "(null)",
                  c->next ? c->next : "(null)");
  else if (o.go == ASL_GO_WAIT)
    ck_assert_msg(!o.next, "%s: next %s, want the end", c->name, o.next);
  if (c->data) {
    json_t *want = J(c->data);
    char *got = o.data ? json_dumps(o.data, JSON_ENCODE_ANY) : NULL;
    /* A caught error's data carries a Cause too: only the named members
     * are compared then. */
    bool same =
        o.data &&
        (json_equal(o.data, want) ||
         (o.caught && json_is_object(want) && json_object_get(o.data, "err") &&
          strcmp(json_string_value(
                     json_object_get(json_object_get(o.data, "err"), "Error")),
                 json_string_value(json_object_get(json_object_get(want, "err"),
                                                   "Error"))) == 0));
    ck_assert_msg(same, "%s: data %s, want %s", c->name, got ? got : "(null)",
                  c->data);
    free(got);
    json_decref(want);
  }
  if (c->after_us)
    ck_assert_msg(o.until_us - NOW == c->after_us,
                  "%s: until +%lld, want +%lld", c->name,
                  (long long)(o.until_us - NOW), (long long)c->after_us);
  if (c->err)
    ck_assert_msg(strcmp(o.err.error, c->err) == 0, "%s: error %s, want %s",
                  c->name, o.err.error, c->err);
  if (c->resource)
    ck_assert_str_eq(o.resource, c->resource);
  if (c->attempts_after) {
    json_t *want = J(c->attempts_after);
    ck_assert_msg(json_equal(attempts, want), "%s: attempts", c->name);
    json_decref(want);
  }
  ck_assert_int_eq(o.caught, o.go == ASL_GO_NEXT && c->err != NULL);
  asl_outcome_clear(&o);
  json_decref(ctx);
  json_decref(attempts);
  json_decref(input);
  json_decref(machine);
}
END_TEST

int main(void) {
  Suite *s = suite_create("asl_eval");
  TCase *tc = tcase_create("steps");
  tcase_add_loop_test(tc, test_eval_table, 0, (int)N(cases));
  suite_add_tcase(s, tc);
  return ck_run(s, CK_NORMAL);
}
