/*
 * gate.h - the HTTP listener's front door (see gate.c): it accepts, reads
 * each connection's first request head and hands good ones to
 * libmicrohttpd; bad ones get a problem document from it.
 */
#ifndef COHORTD_GATE_H
#define COHORTD_GATE_H

#include <stddef.h>

struct MHD_Daemon;

/*
 * Accept on listen_fd (bound, listening, non-blocking; the gate owns it
 * from now on, also on failure) and give connections to mhd, a daemon
 * started with MHD_USE_NO_LISTEN_SOCKET.  A connection has timeout_s to
 * send its first head; a target over max_uri bytes is 414, a head over
 * max_uri + max_head is 431; at most max_pending wait at once.
 * 0 or CD_ERR_*.
 */
int	 gate_start(int listen_fd, struct MHD_Daemon *mhd, int timeout_s,
	    size_t max_uri, size_t max_head, int max_pending);
/* Close the listening socket and every waiting connection; join the
 * thread.  Connections already given to libmicrohttpd are its own. */
void	 gate_stop(void);

#endif
