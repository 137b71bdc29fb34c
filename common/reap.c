/* See reap.h. */
#include "config.h"

#include <errno.h>
#include <sys/wait.h>

#include "log.h"
#include "reap.h"

pid_t
reap_one(int *status)
{
	pid_t pid;

	do
		pid = waitpid(-1, status, WNOHANG);
	while (pid < 0 && errno == EINTR);
	if (pid < 0 && errno != ECHILD)
		log_warn("waitpid");
	return pid < 0 ? 0 : pid;
}
