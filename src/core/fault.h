/* fault.h — crash points for the kill -9 tests: a named point kills the process with SIGKILL
 * when the environment variable RHEI_FAULT_KILL names it. Placed between the steps of
 * multi-step operations (registration) so tests can prove each gap recovers. */
#ifndef RHEI_CORE_FAULT_H
#define RHEI_CORE_FAULT_H

/* Kills the process (SIGKILL, no cleanup) if RHEI_FAULT_KILL equals point; else nothing. */
void rhei__fault_point(const char *point);
#endif
