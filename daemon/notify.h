/*
 * notify.h - telling a service manager how we are: systemd's notify
 * protocol (a datagram of KEY=value lines to $NOTIFY_SOCKET), so that a
 * Type=notify unit is "started" only once requests are served.  Nothing
 * happens without a manager.
 */
#ifndef COHORTD_NOTIFY_H
#define COHORTD_NOTIFY_H

/* Take $NOTIFY_SOCKET and remove it from the environment, before any
   child starts: the embedded PostgreSQL would speak for us otherwise. */
void	notify_init(void);
/* Started: requests are served.  status: a line for the manager. */
void	notify_ready(const char *status);
/* Shutting down. */
void	notify_stopping(void);

#endif
