/*
 * chatd: main() and the supervisor's life: read the configuration, bind,
 * start the workers, run the loop, and leave nothing behind.
 *
 * The same binary is the worker: the supervisor starts each worker by
 * executing itself with the hidden first argument "--worker" (see
 * registry.c), so a worker begins with a fresh image and nothing of the
 * supervisor's memory or event loop.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <event2/event.h>

#include "clock.h"
#include "log.h"
#include "sup.h"
#include "worker.h"

#define EX_USAGE_STATUS  2
#define EX_CONFIG_STATUS 78

static void
main_usage(FILE *f)
{
	fprintf(f,
	    "usage: chatd [-c FILE] [-l ADDR:PORT]... [-w WORKERS] "
	    "[-s SOCKET] [-t] [-V] [-h]\n");
}

static void
main_help(void)
{
	main_usage(stdout);
	printf("\n"
	       "  -c, --config FILE     configuration file (default %s if "
	       "it exists)\n"
	       "  -l, --listen ADDR:PORT  listen here instead (may repeat; "
	       "port 0 = any)\n"
	       "  -w, --workers N       worker processes (auto = CPUs)\n"
	       "  -s, --socket PATH     control socket\n"
	       "  -t, --test            check the configuration and exit\n"
	       "  -V, --version         print the version and exit\n"
	       "  -h, --help            print this help and exit\n",
	    SYSCONFDIR "/chatd.conf");
}

/* -w: "auto" (0) or 1 to CONF_WORKERS_MAX; exits 2 otherwise. */
static long
main_workers_arg(const char *arg)
{
	char *end;
	long n;

	if (strcmp(arg, "auto") == 0)
		return 0;
	errno = 0;
	n = strtol(arg, &end, 10);
	if (errno != 0 || *end != '\0' || end == arg || n < 1 ||
	    n > CONF_WORKERS_MAX) {
		fprintf(stderr, "chatd: -w: want auto or 1 to %d\n",
		    CONF_WORKERS_MAX);
		exit(EX_USAGE_STATUS);
	}
	return n;
}

/* Parses the command line into s->opts; exits on -h, -V and errors. */
static void
main_options(struct sup *s, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"listen", required_argument, NULL, 'l'},
	    {"workers", required_argument, NULL, 'w'},
	    {"socket", required_argument, NULL, 's'},
	    {"test", no_argument, NULL, 't'},
	    {"version", no_argument, NULL, 'V'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	s->opts.workers = -1;
	while ((c = getopt_long(argc, argv, "c:l:w:s:tVh", longopts, NULL)) !=
	    -1) {
		switch (c) {
		case 'c':
			s->opts.conf_path = optarg;
			break;
		case 'l':
			if (s->opts.nlisten == CONF_MAX_LISTEN) {
				fprintf(stderr, "chatd: at most %d -l\n",
				    CONF_MAX_LISTEN);
				exit(EX_USAGE_STATUS);
			}
			s->opts.listen[s->opts.nlisten++] = optarg;
			break;
		case 'w':
			s->opts.workers = main_workers_arg(optarg);
			break;
		case 's':
			s->opts.socket = optarg;
			break;
		case 't':
			s->opts.test_only = 1;
			break;
		case 'V':
			printf("chatd %s\n", PACKAGE_VERSION);
			exit(0);
		case 'h':
			main_help();
			exit(0);
		default:
			main_usage(stderr);
			exit(EX_USAGE_STATUS);
		}
	}
	if (optind != argc) {
		fprintf(
		    stderr, "chatd: unexpected argument: %s\n", argv[optind]);
		main_usage(stderr);
		exit(EX_USAGE_STATUS);
	}
}

int
sup_overrides(const struct sup *s, struct conf *c, char *err, size_t len)
{
	char why[CONF_ERRLEN];

	for (size_t i = 0; i < s->opts.nlisten; i++) {
		if (conf_parse_listen(&c->listen[i], s->opts.listen[i], why,
		        sizeof(why)) != 0) {
			snprintf(err, len, "-l %s: %s", s->opts.listen[i], why);
			return -1;
		}
	}
	if (s->opts.nlisten > 0)
		c->nlisten = s->opts.nlisten;
	if (s->opts.workers >= 0)
		c->workers = (unsigned)s->opts.workers;
	if (s->opts.socket != NULL) {
		free(c->control);
		c->control = strdup(s->opts.socket);
		if (c->control == NULL) {
			snprintf(err, len, "out of memory");
			return -1;
		}
	}
	return 0;
}

/* Loads the file and applies the command line over it; exits 78. */
static void
main_config(struct sup *s)
{
	char err[CONF_ERRLEN];
	const char *path = s->opts.conf_path;

	conf_defaults(&s->conf);
	if (path == NULL && access(SYSCONFDIR "/chatd.conf", F_OK) == 0)
		path = SYSCONFDIR "/chatd.conf";
	if ((path != NULL &&
	        conf_load(&s->conf, path, err, sizeof(err)) != 0) ||
	    sup_overrides(s, &s->conf, err, sizeof(err)) != 0) {
		log_bare(LOG_ERROR, "%s", err);
		exit(EX_CONFIG_STATUS);
	}
}

/* How many workers "auto" means here. */
static unsigned
main_workers(const struct conf *c)
{
	long n;

	if (c->workers > 0)
		return c->workers;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		n = 1;
	return n > CONF_WORKERS_MAX ? CONF_WORKERS_MAX : (unsigned)n;
}

static void
main_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct sup *s = arg;

	(void)what;
	switch (sig) {
	case SIGINT:
	case SIGTERM:
		shutdown_begin(s, sig == SIGINT ? "SIGINT" : "SIGTERM");
		break;
	case SIGHUP:
		reload_run(s, NULL, 0);
		break;
	case SIGCHLD:
		registry_reap(s);
		break;
	default:
		break;
	}
}

static struct event *
main_signal(struct sup *s, int sig)
{
	struct event *ev = evsignal_new(s->base, sig, main_signal_cb, s);

	if (ev == NULL || event_add(ev, NULL) != 0)
		fatalx("cannot watch signal %d", sig);
	return ev;
}

/* Everything that needs the event base, after the workers exist. */
static void
main_events(struct sup *s)
{
	s->base = event_base_new();
	if (s->base == NULL)
		fatalx("event_base_new failed");
	peer_set_init(&s->peers, s->base);
	s->sig_int = main_signal(s, SIGINT);
	s->sig_term = main_signal(s, SIGTERM);
	s->sig_hup = main_signal(s, SIGHUP);
	s->sig_chld = main_signal(s, SIGCHLD);
	notify_init(s);
}

/* Writes what every channel and peer has queued: once per iteration. */
void
sup_flush(struct sup *s)
{
	struct child *c;

	TAILQ_FOREACH (c, &s->children, link)
		if (c->ch != NULL)
			channel_flush(c->ch);
	peer_set_flush(&s->peers);
}

static void
main_free(struct sup *s)
{
	struct event **evs[] = {&s->sig_int, &s->sig_term, &s->sig_hup,
	    &s->sig_chld, &s->deadline, &s->watchdog, &s->accept_retry,
	    &s->stall};

	control_close(s);
	listen_close(s);
	accept_free(s);
	registry_free(s);
	request_free(s);
	clients_free(s);
	peer_set_close_all(&s->peers);
	peer_set_flush(&s->peers);
	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++) {
		if (*evs[i] != NULL)
			event_free(*evs[i]);
		*evs[i] = NULL;
	}
	notify_close(s);
	if (s->base != NULL)
		event_base_free(s->base);
	libevent_global_shutdown();
	conf_free(&s->conf);
}

/* Raises the descriptor limit to its hard maximum (workers inherit it)
 * and says so if max_clients cannot fit under it anyway. */
static void
main_rlimit(const struct sup *s)
{
	struct rlimit rl;
	uint64_t room;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			log_warn("setrlimit(RLIMIT_NOFILE)");
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return;
	room =
	    (uint64_t)s->nworkers * (rl.rlim_cur > 64 ? rl.rlim_cur - 64 : 0);
	if (room < s->conf.max_clients)
		log_warnx("max_clients is %u, but %u workers with %llu "
		          "descriptors each hold about %llu clients",
		    s->conf.max_clients, s->nworkers,
		    (unsigned long long)rl.rlim_cur, (unsigned long long)room);
}

static void
main_exe(struct sup *s)
{
	ssize_t n = readlink("/proc/self/exe", s->exe, sizeof(s->exe) - 1);

	if (n <= 0)
		fatal("readlink /proc/self/exe");
	s->exe[n] = '\0';
}

int
main(int argc, char **argv)
{
	static struct sup sup;
	struct sup *s = &sup;

	if (argc >= 2 && strcmp(argv[1], "--worker") == 0)
		return worker_main(argc, argv);
	log_init("supervisor", LOG_INFO);
	main_options(s, argc, argv);
	main_config(s);
	if (s->opts.test_only) {
		printf("chatd: configuration %s is valid\n",
		    s->conf.path != NULL ? s->conf.path : "(built-in)");
		conf_free(&s->conf);
		return 0;
	}
	log_set_level((enum log_level)s->conf.log_level);
	log_hook_libevent();
	main_exe(s);
	(void)signal(SIGPIPE, SIG_IGN);
	/* Orphaned pipe programs of a dead worker come to us to be reaped. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0)
		log_warn("prctl(PR_SET_CHILD_SUBREAPER)");
	s->started_ms = clock_ms();
	s->nworkers = main_workers(&s->conf);
	main_rlimit(s);
	TAILQ_INIT(&s->children);
	TAILQ_INIT(&s->pendings);
	TAILQ_INIT(&s->parked);
	idmap_init(&s->clients);
	idmap_init(&s->ctls);
	s->ctl_fd = -1;
	s->notify_fd = -1;
	if (listen_open(s) != 0 || control_open(s) != 0) {
		conf_free(&s->conf); /* the only memory held so far */
		exit(1);
	}
	if (registry_start(s) != 0)
		exit(1);
	main_events(s);
	if (registry_attach(s) != 0 || control_attach(s) != 0)
		exit(1);
	log_info("starting %u workers", s->nworkers);
	/* One iteration of the loop, then everything it queued goes out. */
	for (sup_flush(s); s->state != SUP_DONE; sup_flush(s))
		if (event_base_loop(s->base, EVLOOP_ONCE) < 0)
			fatalx("event loop failed");
	log_info("stopped");
	main_free(s);
	return s->exit_status;
}
