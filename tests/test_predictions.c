/* Integration tests of predictions (being written). */
#include <stdlib.h>
int main(void) { return EXIT_SUCCESS; }
