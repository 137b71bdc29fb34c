/*
 * Reload (SIGHUP, /reload): re-read the configuration file and apply what
 * can change while clients stay connected - programs, [pipe], the limits,
 * rate, burst, shutdown_timeout, log_level - by pushing MSG_CONFIG to
 * every worker.  listen, control and workers need a restart: a change to
 * them is reported and otherwise ignored.  A bad file changes nothing.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "clock.h"
#include "log.h"
#include "sup.h"

/* Names the restart-only settings that differ, into buf. */
static void
reload_restart_only(
    const struct sup *s, const struct conf *nc, char *buf, size_t len)
{
	int listen = nc->nlisten != s->conf.nlisten;
	const char *a = s->conf.control, *b = nc->control;

	for (size_t i = 0; !listen && i < nc->nlisten; i++)
		listen =
		    strcmp(nc->listen[i].text, s->conf.listen[i].text) != 0;
	buf[0] = '\0';
	if (listen)
		snprintf(buf + strlen(buf), len - strlen(buf), " listen");
	if ((a == NULL) != (b == NULL) || (a != NULL && strcmp(a, b) != 0))
		snprintf(buf + strlen(buf), len - strlen(buf), " control");
	if (nc->workers != s->conf.workers)
		snprintf(buf + strlen(buf), len - strlen(buf), " workers");
}

/* Keeps the running values of what only a restart changes. */
static int
reload_keep(struct sup *s, struct conf *nc)
{
	memcpy(nc->listen, s->conf.listen, sizeof(nc->listen));
	nc->nlisten = s->conf.nlisten;
	nc->workers = s->conf.workers;
	free(nc->control);
	nc->control = NULL;
	if (s->conf.control != NULL &&
	    (nc->control = strdup(s->conf.control)) == NULL)
		return -1;
	return 0;
}

static int
reload_load(struct sup *s, struct conf *nc, char *err, size_t len)
{
	conf_defaults(nc);
	if (s->conf.path == NULL) {
		snprintf(err, len,
		    "no configuration file to reload (chatd "
		    "runs on its built-in defaults)");
		return -1;
	}
	if (conf_load(nc, s->conf.path, err, len) != 0)
		return -1;
	if (sup_overrides(s, nc, err, len) != 0) {
		conf_free(nc);
		return -1;
	}
	return 0;
}

/* Refuses a reload: the running configuration stays. */
static int
reload_refuse(struct sup *s, const char *why, char *reply, size_t len)
{
	log_warnx("reload refused: %s", why);
	if (reply != NULL)
		snprintf(reply, len, "-ERR %s\n", why);
	notify_send(s, "READY=1");
	return -1;
}

int
reload_run(struct sup *s, char *reply, size_t len)
{
	char err[CONF_ERRLEN], restart[64], note[64];
	struct conf nc;
	struct child *w;

	snprintf(note, sizeof(note), "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)clock_ms() * 1000ull);
	notify_send(s, note);
	if (s->state != SUP_RUNNING)
		return reload_refuse(
		    s, "the server is not running", reply, len);
	if (reload_load(s, &nc, err, sizeof(err)) != 0)
		return reload_refuse(s, err, reply, len);
	reload_restart_only(s, &nc, restart, sizeof(restart));
	if (reload_keep(s, &nc) != 0) {
		conf_free(&nc);
		return reload_refuse(s, "out of memory", reply, len);
	}
	conf_free(&s->conf);
	s->conf = nc;
	log_set_level((enum log_level)s->conf.log_level);
	s->config_gen++;
	s->reloading = 1;
	TAILQ_FOREACH (w, &s->children, link)
		if (w->role == ROLE_WORKER && w->ch != NULL && !w->finished)
			registry_send_config(s, w);
	log_info("configuration read from %s%s%s", s->conf.path,
	    restart[0] != '\0' ? "; needs a restart to change:" : "", restart);
	if (reply != NULL)
		snprintf(reply, len, "+OK reloaded%s%s\n",
		    restart[0] != '\0' ? "; needs a restart to change:" : "",
		    restart);
	reload_check(s);
	return 1;
}

void
reload_configured(struct sup *s, struct child *w, uint32_t generation)
{
	w->config_acked = generation;
	reload_check(s);
}

/* Complete once every worker that can still answer has the generation
 * in force: only then READY=1 and the +OK of /reload. */
void
reload_check(struct sup *s)
{
	struct child *w;

	if (!s->reloading)
		return;
	TAILQ_FOREACH (w, &s->children, link)
		if (w->role == ROLE_WORKER && w->ch != NULL && !w->finished &&
		    !w->killed && !channel_closed(w->ch) &&
		    w->config_acked != s->config_gen)
			return;
	s->reloading = 0;
	log_info("configuration in force in every worker");
	notify_send(s, "READY=1");
	control_reloaded(s);
}
