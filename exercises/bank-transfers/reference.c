/*
 * reference.c - bank-transfers: instructor's solution.
 *
 * One lock per account, and every thread that needs two of them takes
 * the lower-numbered one first.  With a single global order no cycle of
 * threads, each holding one lock and waiting for the next, can form, so
 * there is no deadlock; the auditor takes all locks in the same order.
 * Both locks are held across the risk check and the update, so nobody
 * (the auditor included) can see the money in flight.  Transfers between
 * unrelated accounts run in parallel, which a single global lock would
 * forbid.
 */
#include <pthread.h>

#include "exercise.h"

int transfer(struct account *accounts, size_t n, size_t from, size_t to, int64_t amount)
{
	if (from >= n || to >= n || from == to || amount <= 0)
		return 0;	/* from == to would lock the same mutex twice */

	struct account *first = &accounts[from < to ? from : to];
	struct account *second = &accounts[from < to ? to : from];
	pthread_mutex_lock(&first->lock);
	pthread_mutex_lock(&second->lock);

	int ok = risk_check(&accounts[from], &accounts[to], amount);
	if (ok) {
		accounts[from].balance -= amount;
		accounts[to].balance += amount;
	}

	pthread_mutex_unlock(&second->lock);
	pthread_mutex_unlock(&first->lock);
	return ok;
}
