/* Reaping: the one waitpid(2) step both the supervisor (its workers) and
 * a worker (its pipe programs) loop on after SIGCHLD. */
#ifndef CHATD_REAP_H
#define CHATD_REAP_H

#include <sys/types.h>

/* The next child that has ended (its status in *status), or 0 when none
 * has: SIGCHLDs coalesce, so callers loop until 0. */
pid_t reap_one(int *status);

#endif
