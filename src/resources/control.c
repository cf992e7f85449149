#include "resources/control.h"

static control_in_tx_hook control_in_tx[CONTROL_MAX_HOOKS];
static control_after_hook control_after[CONTROL_MAX_HOOKS];
static size_t control_n;

bool control_on_reset(control_in_tx_hook in_tx, control_after_hook after) {
  if (control_n == CONTROL_MAX_HOOKS)
    return false;
  control_in_tx[control_n] = in_tx;
  control_after[control_n] = after;
  control_n++;
  return true;
}

bool control_run_in_tx_hooks(store *s, bool restored, char *err,
                             size_t errlen) {
  for (size_t i = 0; i < control_n; i++)
    if (control_in_tx[i] && !control_in_tx[i](s, restored, err, errlen))
      return false;
  return true;
}

void control_run_after_hooks(bool restored) {
  for (size_t i = 0; i < control_n; i++)
    if (control_after[i])
      control_after[i](restored);
}
