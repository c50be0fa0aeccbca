/*
 * err.h - the one error convention shared by every cohortd module.
 *
 * Recoverable functions return 0 on success or one of the negative codes
 * below, and release what they acquired at a single "out:" label.  Codes
 * carry the class of failure only; the detail goes to the log (or to the
 * caller's problem document) at the place that knows it.  CD_ERR_SYSTEM
 * means "a system call failed and errno still says why".
 */
#ifndef COHORTD_ERR_H
#define COHORTD_ERR_H

enum cd_err {
	CD_OK			=   0,
	CD_ERR_NOMEM		=  -1,	/* allocation failed */
	CD_ERR_SYSTEM		=  -2,	/* system call failed; see errno */
	CD_ERR_INVALID		=  -3,	/* input rejected by validation */
	CD_ERR_NOT_FOUND	=  -4,	/* no such object (or not visible) */
	CD_ERR_CONFLICT		=  -5,	/* state forbids the operation */
	CD_ERR_DATABASE		=  -6,	/* the database reported an error */
	CD_ERR_UNAVAILABLE	=  -7,	/* temporarily unable: retry later */
	CD_ERR_TIMEOUT		=  -8,	/* a bounded wait ran out */
	CD_ERR_LIMIT		=  -9,	/* a configured limit was exceeded */
	CD_ERR_DENIED		= -10,	/* not allowed for this caller */
	CD_ERR_CONFIG		= -11,	/* bad configuration */
	CD_ERR_INTERNAL		= -12,	/* broken invariant; a bug */
};

/* Short lowercase text for a code; never NULL. */
const char *cd_strerror(int err);

#endif
