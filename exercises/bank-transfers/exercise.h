/*
 * exercise.h - bank-transfers: the function learners implement, and the
 * risk check the harness provides.
 */
#ifndef EXERCISE_BANK_TRANSFERS_H
#define EXERCISE_BANK_TRANSFERS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct account {
	pthread_mutex_t lock;	/* guards balance */
	int64_t balance;
};

/*
 * Provided by the harness: nonzero if `amount` may move from `from` to
 * `to` (the sender has the funds and the receiver's balance cannot
 * overflow).  It reads both balances, so call it only while you hold both
 * accounts' locks.  It takes about a microsecond, like a real rule engine
 * would, and is thread-safe.
 */
int risk_check(const struct account *from, const struct account *to, int64_t amount);

/*
 * Move `amount` from accounts[from] to accounts[to] as one indivisible
 * step.  Returns 1 if the money moved, 0 if the transfer was refused; a
 * refused transfer changes nothing.  Refuse when from == to, when from or
 * to is not below n, when amount <= 0, or when risk_check() says no.
 *
 * Locking rules (the harness relies on them):
 * - hold both accounts' locks while calling risk_check() and while
 *   changing the balances;
 * - when you hold two locks, take the lower-numbered account's lock first.
 *   The harness's auditor locks every account in ascending order.
 *
 * Many threads call transfer() at the same time, on overlapping accounts.
 */
int transfer(struct account *accounts, size_t n, size_t from, size_t to, int64_t amount);

#endif
