/* fault.c — test crash points (fault.h). One getenv per point passed: points sit on rare
 * paths (registration), never on the write or sync hot paths. */
#include "fault.h"
#include <signal.h>
#include <stdlib.h>
#include <string.h>

void rhei__fault_point(const char *point)
{
    const char *want = getenv("RHEI_FAULT_KILL");
    if (want && strcmp(want, point) == 0)
        raise(SIGKILL);
}
