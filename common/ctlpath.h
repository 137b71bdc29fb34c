/*
 * Where the control socket lives when nobody says: the one rule that chatd
 * and chatctl share, so both find the same socket with no options.
 *
 *   $RUNTIME_DIRECTORY/chatd.sock   (systemd's RuntimeDirectory=; first entry)
 *   /run/chatd/chatd.sock           (root)
 *   $XDG_RUNTIME_DIR/chatd.sock     (an ordinary user with a session)
 *   /tmp/chatd-UID/chatd.sock       (anybody else)
 */
#ifndef CHATD_CTLPATH_H
#define CHATD_CTLPATH_H

#include <stddef.h>

/* Writes the default path into buf.  0 on success, -1 if it does not fit. */
int ctlpath_default(char *buf, size_t len);

/* Creates the socket's directory if it is missing (mode 0700 for the
 * per-uid /tmp directory, 0755 otherwise) and checks that a per-uid /tmp
 * directory belongs to us.  0 on success, -1 with errno set. */
int ctlpath_prepare_dir(const char *path);

#endif
