/*
 * mail.h - the emails cohortd writes about what happens to learners
 * (enrolled, promoted from a waitlist, graded): their templates, in one
 * place, rendered and queued in the outbox (outbox.h) in the transaction
 * of the change they tell of.
 */
#ifndef COHORTD_MAIL_H
#define COHORTD_MAIL_H

#include "db.h"

/*
 * Queue an "enrolled" or "promoted" email for each enrollment made
 * active in c's open transaction (tenant's) so far, whatever did it.
 * Call it after a statement that enrolls, withdraws or adds seats.
 * 0 or CD_ERR_DATABASE.
 */
int	mail_enrollments(struct db_conn *c, const char *tenant);

/*
 * Queue the "graded" email of a submission whose grade c's open
 * transaction has just written.  0 or CD_ERR_DATABASE.
 */
int	mail_graded(struct db_conn *c, const char *tenant,
	    const char *submission);

#endif
