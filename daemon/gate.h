/*
 * gate.h - the HTTP listener's front door (see gate.c): it accepts, reads
 * each connection's first request head and hands good ones to
 * libmicrohttpd; bad ones get a problem document from it.
 */
#ifndef COHORTD_GATE_H
#define COHORTD_GATE_H

#include <stddef.h>

struct MHD_Daemon;
struct sockaddr;

struct gate_conf {
	int		 timeout_s;	/* for the first head */
	size_t		 max_uri;	/* a longer target is 414 */
	size_t		 max_head;	/* a head over max_uri + this is 431 */
	int		 max_pending;	/* waiting for a head at once */
	/* Connections from one address, waiting here or libmicrohttpd's
	 * (gate_conn_started/closed), beyond which a new one gets 429; 0:
	 * no cap.  Addresses in exempt (netaddr.h list) have none. */
	int		 per_address;
	const char	*exempt;
};

/*
 * Accept on listen_fd (bound, listening, non-blocking; the gate owns it
 * from now on, also on failure) and give connections to mhd, a daemon
 * started with MHD_USE_NO_LISTEN_SOCKET.  0 or CD_ERR_*.
 */
int	 gate_start(int listen_fd, struct MHD_Daemon *mhd,
	    const struct gate_conf *conf);
/*
 * libmicrohttpd's connections, counted per address with the gate's: call
 * from its connection notification, with the connection's address and
 * descriptor (it takes over the count of one the gate handed it).  *ctx
 * is the connection's socket context, set by started, cleared by closed.
 */
void	 gate_conn_started(const struct sockaddr *sa, int fd, void **ctx);
void	 gate_conn_closed(void **ctx);
/* Close the listening socket and every waiting connection; join the
 * thread.  Connections already given to libmicrohttpd are its own. */
void	 gate_stop(void);

#endif
