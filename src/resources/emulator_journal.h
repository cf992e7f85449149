/* The start configuration of the fault rules and the throttle, which a
 * reset (POST /_emulator/reset, resources/control.h) restores, along with
 * an empty request journal. */
#ifndef LAS_RESOURCES_EMULATOR_JOURNAL_H
#define LAS_RESOURCES_EMULATOR_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>

/* Loads the rules of faults_file (NULL or "": none) and sets the throttle
 * (0: the file's throttleRps, else off); both are remembered for resets.
 * False with the reason (naming the file, rule and field) in err. */
bool emulator_journal_start(const char *faults_file, unsigned throttle_rps,
                            char *err, size_t errlen);

/* The reset hook (control_on_reset's `after`): on a reset, empties the
 * journal and puts the rules and the throttle back as they were at start;
 * a snapshot restore leaves them alone (they are not in the snapshot). */
void emulator_journal_after_reset(bool restored);

#endif
