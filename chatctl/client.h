/*
 * One request on chatd's control socket: connect, send one command line,
 * read its reply ("+OK"/"-ERR" on one line, or "+OK", data lines and "."
 * with POP3 dot-stuffing), all within a deadline.
 */
#ifndef CHATCTL_CLIENT_H
#define CHATCTL_CLIENT_H

#include <stddef.h>

/* How long a whole request may take, connect to the last line. */
#define CLIENT_DEADLINE_MS 10000

/* The biggest reply accepted, so that a confused server cannot make
 * chatctl eat all memory. */
#define CLIENT_REPLY_MAX ((size_t)64 << 20)

enum client_kind {
	CLIENT_SINGLE, /* the reply is one line */
	CLIENT_MULTI,  /* "+OK" is followed by data lines and "." */
};

enum client_status {
	CLIENT_DONE,        /* a whole reply arrived */
	CLIENT_UNREACHABLE, /* no connection to the server */
	CLIENT_FAILED,      /* connected, but no whole reply */
};

struct client_reply {
	int ok;       /* 1 for "+OK", 0 for "-ERR" */
	char *text;   /* the first line after "+OK " or "-ERR " ("" if none) */
	char **lines; /* the data lines, dot-unstuffed, without newlines */
	size_t nlines;
};

/*
 * Sends line (without its newline) to the socket at path and reads the
 * reply into r.  Anything but CLIENT_DONE leaves r empty and says what
 * went wrong in err.  The caller frees r with client_reply_free().
 */
enum client_status client_call(const char *path, const char *line,
    enum client_kind kind, struct client_reply *r, char *err, size_t errlen);

void client_reply_free(struct client_reply *r);

#endif
