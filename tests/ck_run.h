/* One way every test program runs its suite. */
#ifndef LAS_TESTS_CK_RUN_H
#define LAS_TESTS_CK_RUN_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Runs s and frees it; returns the process's exit status (EXIT_FAILURE
 * when a test failed). Check's report goes to stderr, after everything the
 * tests and their servers wrote there: meson shows a failed test's stdout
 * and stderr apart and only the last 100 lines, so a report on stdout was
 * lost above a server's log lines. */
static inline int ck_run(Suite *s, enum print_output mode) {
  fflush(stdout);
  dup2(STDERR_FILENO, STDOUT_FILENO);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, mode);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
