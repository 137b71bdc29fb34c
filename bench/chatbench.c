/*
 * chatbench: options, the shared helpers of bench.h, and the report: one
 * machine-readable RESULT line on standard output, a human summary on
 * standard error.  Exit status 0 when every subscriber got every message
 * exactly once and in order and nothing else went wrong, 1 otherwise, 2
 * on bad usage.  See bench/README.md.
 */
#include "bench.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "coord.h"

#define CHATBENCH_PER_PROC 19000 /* connections per generator, at most */

static const char *const chatbench_modes[] = {
    [MODE_THROUGHPUT] = "throughput",
    [MODE_LATENCY] = "latency",
    [MODE_IDLE] = "idle",
    [MODE_CONNECT] = "connect",
    [MODE_SCALE] = "scale",
};

int
bench_ms_until(uint64_t deadline)
{
	uint64_t now = bench_now();

	if (deadline <= now)
		return 0;
	/* Round up: waking a little late beats spinning at the edge. */
	if ((deadline - now) / 1000000u >= INT32_MAX)
		return INT32_MAX;
	return (int)((deadline - now + 999999u) / 1000000u);
}

static uint64_t
bench_pow2(uint64_t v)
{
	uint64_t r = 64;

	while (r < v && r < BENCH_RING_MAX)
		r <<= 1;
	return r;
}

uint64_t
bench_latency_total(const struct bench_opts *o)
{
	double n = (double)o->rate * o->duration;

	return n < 1 ? 1 : (uint64_t)n;
}

uint64_t
bench_ring_size(const struct bench_opts *o)
{
	switch (o->mode) {
	case MODE_THROUGHPUT:
		return bench_pow2(o->window);
	case MODE_LATENCY:
		return bench_pow2(bench_latency_total(o));
	default:
		return 64;
	}
}

double
bench_cpu(int who)
{
	struct rusage ru;

	if (getrusage(who, &ru) < 0)
		return 0;
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
	    ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
}

/* ------------------------------------------------------------ options */

static void
chatbench_usage(FILE *f)
{
	(void)fputs(
	    "usage: chatbench --port PORT [--proto chat|redis] "
	    "[--host ADDR]\n"
	    "  [--mode throughput|latency|idle|connect|scale] [-n N] "
	    "[--payload P]\n"
	    "  [--window W] [--rate R] [--duration T] [--count C] "
	    "[--procs K]\n"
	    "  [--src-addrs M] [--connect-window C] [--connect-timeout S]\n"
	    "  [--drain-timeout S] [--channel NAME] [--server-pid PID]\n"
	    "  [--server-pids PID,PID,...] [--quiet]\n",
	    f);
}

static int
chatbench_uint(const char *s, unsigned min, unsigned max, unsigned *out)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*s == '\0' || *end != '\0' || *s == '-' || v < min || v > max)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static int
chatbench_seconds(const char *s, double *out)
{
	char *end;
	double v = strtod(s, &end);

	if (*s == '\0' || *end != '\0' || !(v > 0) || v > 86400)
		return -1;
	*out = v;
	return 0;
}

static int
chatbench_pids(struct bench_opts *o, const char *s)
{
	char buf[1024], *tok, *save = NULL;
	unsigned v;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	for (tok = strtok_r(buf, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		if (o->nserver_pids == BENCH_PIDS_MAX ||
		    chatbench_uint(tok, 1, INT32_MAX, &v) < 0)
			return -1;
		o->server_pids[o->nserver_pids++] = (pid_t)v;
	}
	return o->nserver_pids > 0 ? 0 : -1;
}

static int
chatbench_enum(const char *s, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

static const struct option chatbench_longopts[] = {
    {"proto", required_argument, NULL, 'P'},
    {"host", required_argument, NULL, 'H'},
    {"port", required_argument, NULL, 'p'},
    {"mode", required_argument, NULL, 'm'},
    {"subscribers", required_argument, NULL, 'n'},
    {"payload", required_argument, NULL, 's'},
    {"window", required_argument, NULL, 'w'},
    {"rate", required_argument, NULL, 'r'},
    {"duration", required_argument, NULL, 't'},
    {"count", required_argument, NULL, 'c'},
    {"procs", required_argument, NULL, 'k'},
    {"src-addrs", required_argument, NULL, 'a'},
    {"connect-window", required_argument, NULL, 'C'},
    {"connect-timeout", required_argument, NULL, 'T'},
    {"drain-timeout", required_argument, NULL, 'D'},
    {"channel", required_argument, NULL, 'h'},
    {"server-pid", required_argument, NULL, 'S'},
    {"server-pids", required_argument, NULL, 'L'},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, '?'},
    {NULL, 0, NULL, 0},
};

/* One option; -1 when its value is bad. */
static int
chatbench_opt(struct bench_opts *o, int ch, const char *v)
{
	unsigned u = 0;
	int e;

	switch (ch) {
	case 'P':
		e = chatbench_enum(
		    v, (const char *const[]){"chat", "redis"}, 2);
		o->proto = (enum bench_proto)e;
		return e;
	case 'H':
		return inet_pton(AF_INET, v, &o->host) == 1 ? 0 : -1;
	case 'p':
		e = chatbench_uint(v, 1, 65535, &u);
		o->port = (uint16_t)u;
		return e;
	case 'm':
		e = chatbench_enum(v, chatbench_modes, 5);
		o->mode = (enum bench_mode)e;
		return e;
	case 'n':
		return chatbench_uint(v, 1, 1000000, &o->n);
	case 's':
		return chatbench_uint(
		    v, BENCH_PAYLOAD_MIN, BENCH_PAYLOAD_MAX, &o->payload);
	case 'w':
		return chatbench_uint(v, 1, BENCH_RING_MAX, &o->window);
	case 'r':
		return chatbench_uint(v, 1, 1000000, &o->rate);
	case 't':
		return chatbench_seconds(v, &o->duration);
	case 'c':
		return chatbench_uint(v, 1, 100000, &o->count);
	case 'k':
		return chatbench_uint(v, 1, BENCH_PROCS_MAX, &o->procs);
	case 'a':
		return chatbench_uint(v, 1, BENCH_SRC_MAX, &o->src_addrs);
	case 'C':
		return chatbench_uint(v, 1, 100000, &o->connect_window);
	case 'T':
		return chatbench_seconds(v, &o->connect_timeout);
	case 'D':
		return chatbench_seconds(v, &o->drain_timeout);
	case 'h':
		if (strlen(v) == 0 || strlen(v) >= sizeof(o->channel))
			return -1;
		strcpy(o->channel, v);
		return 0;
	case 'S':
		if (chatbench_uint(v, 1, INT32_MAX, &u) < 0)
			return -1;
		o->server_root = (pid_t)u;
		return 0;
	case 'L':
		return chatbench_pids(o, v);
	case 'q':
		o->quiet = 1;
		return 0;
	default:
		return -1;
	}
}

/* Fills what was left to "auto" and checks what cannot work. */
static int
chatbench_settle(struct bench_opts *o)
{
	struct rlimit rl;
	unsigned per = CHATBENCH_PER_PROC;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur < per + BENCH_FD_SLACK)
		per = rl.rlim_cur > (rlim_t)BENCH_FD_SLACK * 2
		    ? (unsigned)rl.rlim_cur - BENCH_FD_SLACK
		    : BENCH_FD_SLACK;
	if (o->procs == 0)
		o->procs = (o->n + per - 1) / per;
	if (o->src_addrs == 0)
		o->src_addrs = (o->n + 9999) / 10000; /* ports 1/3 used */
	if (o->port == 0) {
		(void)fputs("chatbench: --port is required\n", stderr);
		return -1;
	}
	if (o->procs > o->n || (o->n + o->procs - 1) / o->procs > per) {
		(void)fprintf(stderr,
		    "chatbench: %u subscribers over %u generators: each may "
		    "hold at most %u (and at least 1); use --procs %u\n",
		    o->n, o->procs, per, (o->n + per - 1) / per);
		return -1;
	}
	if (o->src_addrs > 1 && (ntohl(o->host.s_addr) >> 24) != 127) {
		(void)fputs(
		    "chatbench: --src-addrs > 1 needs a 127.x.x.x host\n",
		    stderr);
		return -1;
	}
	return 0;
}

static int
chatbench_parse(struct bench_opts *o, int argc, char **argv)
{
	int ch;

	memset(o, 0, sizeof(*o));
	o->host.s_addr = htonl(INADDR_LOOPBACK);
	o->n = 100;
	o->payload = 64;
	o->window = 64;
	o->rate = 1000;
	o->count = 10;
	o->connect_window = 256;
	o->duration = 10;
	o->drain_timeout = 10;
	o->connect_timeout = 120;
	strcpy(o->channel, "bench");
	while ((ch = getopt_long(
	            argc, argv, "n:q", chatbench_longopts, NULL)) != -1) {
		if (ch == '?' || chatbench_opt(o, ch, optarg) < 0) {
			if (ch != '?')
				(void)fprintf(stderr,
				    "chatbench: bad value \"%s\"\n", optarg);
			chatbench_usage(stderr);
			return -1;
		}
	}
	if (optind != argc) {
		chatbench_usage(stderr);
		return -1;
	}
	return chatbench_settle(o);
}

/* ------------------------------------------------------------ report */

static double
chatbench_us(uint64_t ns)
{
	return (double)ns / 1000.0;
}

static double
chatbench_s(uint64_t from, uint64_t to)
{
	return to > from ? (double)(to - from) / 1e9 : 0;
}

static int
chatbench_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The phase a mode measures: 0 = connecting, 1 = after MARK. */
static int
chatbench_phase(const struct bench_opts *o)
{
	return o->mode == MODE_CONNECT || o->mode == MODE_IDLE ? 0 : 1;
}

struct chatbench_figs {
	double elapsed, gen_cpu, srv_cpu, connect_s, machine;
	double deliveries_per_s, rss_per_conn;
	uint64_t deliveries;
};

static void
chatbench_figures(const struct coord *c, struct chatbench_figs *f)
{
	const struct bench_opts *o = c->o;
	int ph = chatbench_phase(o);

	memset(f, 0, sizeof(*f));
	f->connect_s = chatbench_s(c->t_go, c->t_registered);
	if (ph == 0) {
		f->elapsed = f->connect_s;
		f->gen_cpu = c->cpu[1] - c->cpu[0] + c->tot.cpu_connect;
		f->srv_cpu = c->srv[1].cpu_s - c->srv[0].cpu_s;
		f->machine =
		    c->srv[1].machine_busy_s - c->srv[0].machine_busy_s;
	} else {
		f->elapsed = chatbench_s(c->t_mark,
		    o->mode == MODE_THROUGHPUT ? c->t_completed : c->t_end);
		f->gen_cpu = c->cpu[2] - c->cpu[1] + c->tot.cpu_measure;
		f->srv_cpu = c->srv[2].cpu_s - c->srv[1].cpu_s;
		f->machine =
		    c->srv[2].machine_busy_s - c->srv[1].machine_busy_s;
	}
	f->deliveries = c->completed * o->n;
	if (f->elapsed > 0)
		f->deliveries_per_s = (double)f->deliveries / f->elapsed;
	/* idle: after the hold; scale: right after everybody registered. */
	f->rss_per_conn = ((double)c->srv[o->mode == MODE_IDLE ? 2 : 1].rss_kb -
	                      (double)c->srv[0].rss_kb) *
	    1024.0 / o->n;
}

/* CPU seconds over elapsed seconds: cores busy (jiffies: +-0.01 s). */
static double
chatbench_util(double cpu, double elapsed)
{
	return elapsed > 0 && cpu > 0 ? cpu / elapsed : 0.0;
}

static void
chatbench_print_lat(const struct hist *h)
{
	printf(" lat_p50_us=%.1f lat_p99_us=%.1f lat_p999_us=%.1f "
	       "lat_max_us=%.1f lat_mean_us=%.1f",
	    chatbench_us(hist_quantile(h, 0.5)),
	    chatbench_us(hist_quantile(h, 0.99)),
	    chatbench_us(hist_quantile(h, 0.999)), chatbench_us(h->max_ns),
	    h->count ? chatbench_us(h->sum_ns / h->count) : 0.0);
}

static void
chatbench_print_bcast(const struct coord *c)
{
	uint64_t *v = c->bcast_ns;
	unsigned n = c->nbcast, mid = c->nbcast / 2;

	if (n == 0)
		return;
	qsort(v, n, sizeof(*v), chatbench_cmp_u64);
	printf(" bcast_n=%u bcast_min_ms=%.3f bcast_p50_ms=%.3f "
	       "bcast_max_ms=%.3f",
	    n, (double)v[0] / 1e6, (double)v[mid] / 1e6,
	    (double)v[n - 1] / 1e6);
}

static void
chatbench_print(const struct coord *c, const struct chatbench_figs *f)
{
	const struct bench_opts *o = c->o;
	enum bench_mode m = o->mode;

	printf("RESULT proto=%s mode=%s n=%u p=%u w=%u r=%u t=%g procs=%u "
	       "src=%u elapsed_s=%.3f connect_s=%.3f connect_per_s=%.0f",
	    o->proto == PROTO_CHAT ? "chat" : "redis", chatbench_modes[m], o->n,
	    o->payload, o->window, o->rate, o->duration, o->procs, o->src_addrs,
	    f->elapsed, f->connect_s,
	    f->connect_s > 0 ? o->n / f->connect_s : 0.0);
	if (m == MODE_THROUGHPUT || m == MODE_LATENCY || m == MODE_SCALE) {
		printf(" msgs=%llu deliveries=%llu deliveries_per_s=%.0f "
		       "pub_echo=%llu late_ticks=%llu stalls=%llu",
		    (unsigned long long)c->completed,
		    (unsigned long long)f->deliveries, f->deliveries_per_s,
		    (unsigned long long)c->pub.echoed,
		    (unsigned long long)c->late_ticks,
		    (unsigned long long)c->stalls);
		if (m != MODE_THROUGHPUT)
			chatbench_print_lat(&c->tot.lat);
	}
	if (m == MODE_IDLE || m == MODE_SCALE)
		printf(" rss_before_kb=%llu rss_after_kb=%llu "
		       "rss_per_conn_b=%.0f",
		    (unsigned long long)c->srv[0].rss_kb,
		    (unsigned long long)c->srv[m == MODE_IDLE ? 2 : 1].rss_kb,
		    f->rss_per_conn);
	chatbench_print_bcast(c);
	printf(" lost=%llu dup=%llu bad=%llu unexpected=%llu closed=%llu "
	       "errors=%llu gen_cpu_s=%.3f gen_util=%.2f gen_cpu_total_s=%.3f "
	       "srv_cpu_s=%.3f srv_util=%.2f srv_rss_kb=%llu srv_procs=%u "
	       "machine_util=%.2f other_util=%.2f\n",
	    (unsigned long long)c->tot.lost, (unsigned long long)c->tot.dup,
	    (unsigned long long)c->tot.bad,
	    (unsigned long long)c->tot.unexpected,
	    (unsigned long long)c->tot.closed,
	    (unsigned long long)coord_errors(c), f->gen_cpu,
	    chatbench_util(f->gen_cpu, f->elapsed), c->gen_cpu_total,
	    f->srv_cpu, chatbench_util(f->srv_cpu, f->elapsed),
	    (unsigned long long)c->srv[2].rss_kb, c->srv[2].nprocs,
	    chatbench_util(f->machine, f->elapsed),
	    chatbench_util(f->machine - f->gen_cpu - f->srv_cpu, f->elapsed));
	(void)fflush(stdout);
}

static void
chatbench_summary(const struct coord *c, const struct chatbench_figs *f)
{
	const struct bench_opts *o = c->o;
	const struct hist *h = &c->tot.lat;

	(void)fprintf(stderr, "chatbench: %s %s, %u subscribers: ",
	    o->proto == PROTO_CHAT ? "chat" : "redis", chatbench_modes[o->mode],
	    o->n);
	if (o->mode == MODE_THROUGHPUT)
		(void)fprintf(stderr,
		    "%.0f deliveries/s; %llu messages in %.2f s; ",
		    f->deliveries_per_s, (unsigned long long)c->completed,
		    f->elapsed);
	if (o->mode == MODE_LATENCY || o->mode == MODE_SCALE)
		(void)fprintf(stderr,
		    "%llu messages in %.2f s, p50 %.0f us, p99 "
		    "%.0f us, max %.0f us; ",
		    (unsigned long long)c->completed, f->elapsed,
		    chatbench_us(hist_quantile(h, 0.5)),
		    chatbench_us(hist_quantile(h, 0.99)),
		    chatbench_us(h->max_ns));
	if (o->mode == MODE_IDLE || o->mode == MODE_SCALE)
		(void)fprintf(stderr, "server RSS %.0f bytes per connection; ",
		    f->rss_per_conn);
	(void)fprintf(stderr, "registered in %.2f s (%.0f/s)\n", f->connect_s,
	    f->connect_s > 0 ? o->n / f->connect_s : 0.0);
	(void)fprintf(stderr,
	    "chatbench: CPU in the measured phase: generator "
	    "%.2f s (%.2f cores), server %.2f s (%.2f cores)%s, "
	    "whole machine %.2f cores\n",
	    f->gen_cpu, chatbench_util(f->gen_cpu, f->elapsed), f->srv_cpu,
	    chatbench_util(f->srv_cpu, f->elapsed),
	    procstat_enabled(o) ? "" : " (no --server-pid given)",
	    chatbench_util(f->machine, f->elapsed));
	if (coord_errors(c) > 0)
		(void)fprintf(stderr,
		    "chatbench: FAILED: %llu errors (lost %llu, "
		    "dup/reordered %llu, bad %llu, unexpected "
		    "%llu, closed %llu): %s\n",
		    (unsigned long long)coord_errors(c),
		    (unsigned long long)c->tot.lost,
		    (unsigned long long)c->tot.dup,
		    (unsigned long long)c->tot.bad,
		    (unsigned long long)c->tot.unexpected,
		    (unsigned long long)c->tot.closed,
		    c->error[0] ? c->error : c->pub.error);
}

int
main(int argc, char **argv)
{
	struct bench_opts o;
	struct chatbench_figs f;
	struct coord *c;
	int status;

	if (chatbench_parse(&o, argc, argv) < 0)
		return BENCH_EXIT_USAGE;
	(void)signal(SIGPIPE, SIG_IGN);
	c = malloc(sizeof(*c));
	if (c == NULL) {
		(void)fputs("chatbench: out of memory\n", stderr);
		return BENCH_EXIT_FAIL;
	}
	coord_run(c, &o);
	if (procstat_enabled(&o) && !c->srv_ok)
		(void)fputs("chatbench: warning: could not read every server "
		            "process in /proc\n",
		    stderr);
	chatbench_figures(c, &f);
	chatbench_print(c, &f);
	if (!o.quiet || coord_errors(c) > 0)
		chatbench_summary(c, &f);
	status = coord_errors(c) > 0 ? BENCH_EXIT_FAIL : 0;
	coord_free(c);
	free(c);
	return status;
}
