/*
 * starter.c - bank-transfers: your starting point.
 *
 * Correct, but every transfer takes one bank-wide lock, so only one
 * transfer (and its slow risk check) runs at a time however many threads
 * there are: no speedup credit.  Use the per-account locks in struct
 * account instead, without deadlocking (see statement.md).
 */
#include <pthread.h>

#include "exercise.h"

static pthread_mutex_t bank_lock = PTHREAD_MUTEX_INITIALIZER;

int transfer(struct account *accounts, size_t n, size_t from, size_t to, int64_t amount)
{
	if (from >= n || to >= n || from == to || amount <= 0)
		return 0;

	/*
	 * TODO: lock only the two accounts involved.  The auditor takes
	 * accounts' own locks (in ascending order), so until then this
	 * version must take them too, inside the bank-wide lock.
	 */
	pthread_mutex_lock(&bank_lock);
	size_t lo = from < to ? from : to, hi = from < to ? to : from;
	pthread_mutex_lock(&accounts[lo].lock);
	pthread_mutex_lock(&accounts[hi].lock);

	int ok = risk_check(&accounts[from], &accounts[to], amount);
	if (ok) {
		accounts[from].balance -= amount;
		accounts[to].balance += amount;
	}

	pthread_mutex_unlock(&accounts[hi].lock);
	pthread_mutex_unlock(&accounts[lo].lock);
	pthread_mutex_unlock(&bank_lock);
	return ok;
}
