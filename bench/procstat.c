/* Server RSS and CPU from /proc (procstat.h). */
#include "bench.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procstat.h"

#define PROCSTAT_MAX 4096 /* processes in one server tree */

struct procstat_set {
	pid_t pid[PROCSTAT_MAX];
	unsigned n;
};

int
procstat_enabled(const struct bench_opts *o)
{
	return o->server_root > 0 || o->nserver_pids > 0;
}

/* The whole (small) file PATH into BUF as a string; -1 if unreadable. */
static int
procstat_slurp(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL)
		return -1;
	n = fread(buf, 1, cap - 1, f);
	(void)fclose(f);
	buf[n] = '\0';
	return 0;
}

/* Up to N unsigned decimals from S, blank-separated; how many were read. */
static int
procstat_numbers(const char *s, unsigned long long *out, int n)
{
	char *end;
	int k = 0;

	while (k < n) {
		while (*s == ' ' || *s == '\t' || *s == '\n')
			s++;
		if (*s < '0' || *s > '9')
			break;
		out[k++] = strtoull(s, &end, 10);
		s = end;
	}
	return k;
}

static int
procstat_rss(pid_t pid, uint64_t *kb)
{
	char path[64], buf[4096];
	unsigned long long v;
	const char *line;

	(void)snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (procstat_slurp(path, buf, sizeof(buf)) < 0)
		return -1;
	line = strstr(buf, "\nVmRSS:");
	/* A zombie has no VmRSS line: it holds no memory. */
	if (line != NULL && procstat_numbers(line + 7, &v, 1) == 1)
		*kb += v;
	return 0;
}

static int
procstat_cpu(pid_t pid, double *s)
{
	char path[64], buf[1024], *p;
	unsigned long long t[2];

	(void)snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (procstat_slurp(path, buf, sizeof(buf)) < 0)
		return -1;
	/* The command name may hold anything; fields follow its last ')':
	 * state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt
	 * cmajflt utime stime: twelve blanks before utime. */
	p = strrchr(buf, ')');
	for (int i = 0; p != NULL && i < 12; i++)
		p = strchr(p + 1, ' ');
	if (p == NULL || procstat_numbers(p, t, 2) != 2)
		return -1;
	*s += (double)(t[0] + t[1]) / (double)sysconf(_SC_CLK_TCK);
	return 0;
}

/* Adds the children of every thread of PID to SET. */
static void
procstat_children(pid_t pid, struct procstat_set *set)
{
	char path[96], buf[8192];
	unsigned long long c;
	struct dirent *de;
	const char *p;
	char *end;
	DIR *d;

	(void)snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (d == NULL)
		return;
	/* one thread: readdir is fine, and readdir_r is deprecated */
	/* cppcheck-suppress readdirCalled */
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		(void)snprintf(path, sizeof(path),
		    "/proc/%d/task/%.16s/children", (int)pid, de->d_name);
		if (procstat_slurp(path, buf, sizeof(buf)) < 0)
			continue;
		for (p = buf; set->n < PROCSTAT_MAX; p = end) {
			c = strtoull(p, &end, 10);
			if (end == p)
				break;
			set->pid[set->n++] = (pid_t)c;
		}
	}
	(void)closedir(d);
}

static void
procstat_collect(const struct bench_opts *o, struct procstat_set *set)
{
	set->n = 0;
	for (unsigned i = 0; i < o->nserver_pids; i++)
		set->pid[set->n++] = o->server_pids[i];
	if (o->server_root <= 0)
		return;
	set->pid[set->n++] = o->server_root;
	/* Breadth first: the set grows while we walk it. */
	for (unsigned i = set->n - 1; i < set->n; i++)
		procstat_children(set->pid[i], set);
}

double
procstat_machine_busy(void)
{
	unsigned long long v[8] = {0};
	char buf[512];

	if (procstat_slurp("/proc/stat", buf, sizeof(buf)) < 0 ||
	    strncmp(buf, "cpu ", 4) != 0 || procstat_numbers(buf + 4, v, 8) < 4)
		return 0;
	/* user nice system [idle] [iowait] irq softirq steal */
	return (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) /
	    (double)sysconf(_SC_CLK_TCK);
}

int
procstat_sample(const struct bench_opts *o, struct procstat *ps)
{
	struct procstat_set *set = malloc(sizeof(*set));
	unsigned named = o->nserver_pids + (o->server_root > 0);
	int rc = 0;

	memset(ps, 0, sizeof(*ps));
	ps->machine_busy_s = procstat_machine_busy();
	if (set == NULL)
		return -1;
	procstat_collect(o, set);
	for (unsigned i = 0; i < set->n; i++) {
		/* A descendant may end between the walk and the read. */
		if (procstat_rss(set->pid[i], &ps->rss_kb) < 0 ||
		    procstat_cpu(set->pid[i], &ps->cpu_s) < 0)
			rc = i < named ? -1 : rc;
		else
			ps->nprocs++;
	}
	free(set);
	return rc;
}
