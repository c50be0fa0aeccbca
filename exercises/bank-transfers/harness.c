/*
 * harness.c - trusted driver for bank-transfers.
 *
 * Usage: prog --accounts N --transfers M --seed S [--audits K]
 *             [--risk-work W] --threads T
 *
 * 1. Single-threaded checks of the refusal rules (same account, bad
 *    amount, unknown account, insufficient funds, exact balance).
 * 2. M transfers between random accounts, drawn from the seed, shared out
 *    among T worker threads (thread t takes the t-th contiguous block).
 *    Starting balances are large enough that no transfer can fail for
 *    lack of funds whatever the interleaving, so the final balances and
 *    counts do not depend on timing; about one transfer in 32 names the
 *    same account twice and must be refused.  Meanwhile an auditor thread
 *    locks every account in ascending order K times and checks that the
 *    money adds up while nothing can move (only with N <= 64: see below).
 * 3. Prints the counts, the total, the audit findings and a hash of the
 *    final balances.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exercise.h"

#define MAX_AUDITED_ACCOUNTS 64

static uint64_t risk_work = 300;	/* rounds of hashing per risk check */

/*
 * The input is built: what follows is the work being timed.  A timed run
 * has fd 3 open and the grader times from this byte to the exit; other
 * runs do not, and the write fails harmlessly.  Called before the first
 * call into the learner's code.
 */
static void work_starts(void)
{
	(void)!write(3, "w", 1);
}

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void usage(void)
{
	fprintf(stderr, "usage: prog --accounts N --transfers M --seed S [--audits K] "
		"[--risk-work W] --threads T\n");
	exit(2);
}

static uint64_t parse_u64(const char *s, uint64_t max)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v > max)
		usage();
	return v;
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);
	if (!p) {
		perror("calloc");
		exit(3);
	}
	return p;
}

int risk_check(const struct account *from, const struct account *to, int64_t amount)
{
	/* Stand-in for a rule engine: a fixed amount of computation. */
	uint64_t h = (uint64_t)amount;
	for (uint64_t i = 0; i < risk_work; i++)
		h = (h ^ (h >> 31)) * 0x9e3779b97f4a7c15ULL + i;
	__asm__ volatile("" : : "r"(h));	/* keep the work */

	return amount > 0 && from->balance >= amount && to->balance <= INT64_MAX - amount;
}

/* ---- concurrent phase ------------------------------------------------------ */

struct order {
	uint32_t from, to;
	int64_t amount;
};

struct worker {
	struct account *acc;
	size_t n;
	const struct order *orders;
	size_t count;
	uint64_t accepted, refused;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	uint64_t accepted = 0, refused = 0;	/* local: workers' structs share cache lines */
	for (size_t i = 0; i < w->count; i++) {
		const struct order *o = &w->orders[i];
		if (transfer(w->acc, w->n, o->from, o->to, o->amount))
			accepted++;
		else
			refused++;
	}
	w->accepted = accepted;
	w->refused = refused;
	return NULL;
}

struct auditor {
	struct account *acc;
	size_t n;
	uint64_t audits;
	int64_t expected;
	uint64_t inconsistent;
};

static void *audit(void *arg)
{
	struct auditor *a = arg;
	for (uint64_t k = 0; k < a->audits; k++) {
		int64_t sum = 0;
		for (size_t i = 0; i < a->n; i++)
			pthread_mutex_lock(&a->acc[i].lock);
		for (size_t i = 0; i < a->n; i++)
			sum += a->acc[i].balance;
		for (size_t i = a->n; i-- > 0;)
			pthread_mutex_unlock(&a->acc[i].lock);
		if (sum != a->expected)
			a->inconsistent++;
	}
	return NULL;
}

/* ---- main ------------------------------------------------------------------ */

static void check(const char *what, int got, int want)
{
	printf("check %s: %s%s\n", what, got ? "moved" : "refused",
	       (got != 0) == (want != 0) ? "" : " (wrong)");
}

int main(int argc, char **argv)
{
	uint64_t n = 0, m = 0, seed = 1, audits = 0, threads = 0;

	for (int i = 1; i < argc; i += 2) {
		if (i + 1 >= argc)
			usage();
		if (!strcmp(argv[i], "--accounts"))
			n = parse_u64(argv[i + 1], 1000000);
		else if (!strcmp(argv[i], "--transfers"))
			m = parse_u64(argv[i + 1], 100000000);
		else if (!strcmp(argv[i], "--seed"))
			seed = parse_u64(argv[i + 1], UINT64_MAX);
		else if (!strcmp(argv[i], "--audits"))
			audits = parse_u64(argv[i + 1], 1000000);
		else if (!strcmp(argv[i], "--risk-work"))
			risk_work = parse_u64(argv[i + 1], 1000000);
		else if (!strcmp(argv[i], "--threads"))
			threads = parse_u64(argv[i + 1], 64);
		else
			usage();
	}
	if (threads < 1 || n < 2)
		usage();
	/*
	 * An audit holds every account's lock at once; ThreadSanitizer's
	 * deadlock detector aborts when one thread holds more than 64 locks.
	 */
	if (audits > 0 && n > MAX_AUDITED_ACCOUNTS) {
		fprintf(stderr, "--audits needs --accounts %d or fewer\n", MAX_AUDITED_ACCOUNTS);
		exit(2);
	}

	/*
	 * Amounts are at most 100, so a balance of 100 * M can pay for every
	 * transfer in the run: none is refused for lack of funds, whatever
	 * the order the threads run them in.
	 */
	struct account *acc = xcalloc(n, sizeof *acc);
	int64_t base = 100 * (int64_t)m + 1000, total = 0;
	for (size_t i = 0; i < n; i++) {
		pthread_mutex_init(&acc[i].lock, NULL);
		acc[i].balance = base + (int64_t)(i * 7919 % 1009);
		total += acc[i].balance;
	}

	work_starts();
	/* 1. The rules, one thread, accounts 0 and 1. */
	int64_t b0 = acc[0].balance;
	printf("accounts %" PRIu64 "\n", n);
	check("same account", transfer(acc, n, 0, 0, 5), 0);
	check("zero amount", transfer(acc, n, 0, 1, 0), 0);
	check("negative amount", transfer(acc, n, 0, 1, -5), 0);
	check("unknown receiver", transfer(acc, n, 0, n, 5), 0);
	check("unknown sender", transfer(acc, n, n, 0, 5), 0);
	check("insufficient funds", transfer(acc, n, 0, 1, b0 + 1), 0);
	check("exact balance", transfer(acc, n, 0, 1, b0), 1);
	printf("sender left with %" PRId64 "\n", acc[0].balance);
	check("money back", transfer(acc, n, 1, 0, b0), 1);
	printf("balances restored: %s\n", acc[0].balance == b0 ? "yes" : "no");

	/* 2. The concurrent run. */
	struct order *orders = xcalloc(m, sizeof *orders);
	uint64_t s = seed, same = 0;
	for (size_t i = 0; i < m; i++) {
		uint64_t r = splitmix64(&s);
		orders[i].from = (uint32_t)(r % n);
		orders[i].to = (r >> 32) % 32 == 0 ? orders[i].from : (uint32_t)((r >> 37) % n);
		orders[i].amount = 1 + (int64_t)((r >> 20) % 100);
		same += orders[i].from == orders[i].to;
	}
	struct worker *w = xcalloc(threads, sizeof *w);
	pthread_t *tid = xcalloc(threads, sizeof *tid);
	struct auditor au = { acc, n, audits, total, 0 };
	pthread_t atid;
	if (audits && pthread_create(&atid, NULL, audit, &au) != 0) {
		perror("pthread_create");
		return 3;
	}
	for (uint64_t t = 0; t < threads; t++) {
		size_t lo = m * t / threads, hi = m * (t + 1) / threads;
		w[t] = (struct worker){ acc, n, orders + lo, hi - lo, 0, 0 };
		if (pthread_create(&tid[t], NULL, work, &w[t]) != 0) {
			perror("pthread_create");
			return 3;
		}
	}
	uint64_t accepted = 0, refused = 0;
	for (uint64_t t = 0; t < threads; t++) {
		pthread_join(tid[t], NULL);
		accepted += w[t].accepted;
		refused += w[t].refused;
	}
	if (audits)
		pthread_join(atid, NULL);

	/* 3. Findings. */
	int64_t final = 0;
	uint64_t hash = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < n; i++) {
		final += acc[i].balance;
		hash = (hash ^ (uint64_t)acc[i].balance) * 0x100000001b3ULL;
	}
	printf("transfers %" PRIu64 "\n", m);
	printf("accepted %" PRIu64 "\n", accepted);
	printf("refused %" PRIu64 " (same account: %" PRIu64 ")\n", refused, same);
	printf("total before %" PRId64 "\n", total);
	printf("total after %" PRId64 "\n", final);
	printf("inconsistent audits %" PRIu64 "\n", au.inconsistent);
	printf("balances hash %016" PRIx64 "\n", hash);
	for (size_t i = 0; i < n && i < 8; i++)
		printf("account %zu: %" PRId64 "\n", i, acc[i].balance - base);

	for (size_t i = 0; i < n; i++)
		pthread_mutex_destroy(&acc[i].lock);
	free(acc);
	free(orders);
	free(w);
	free(tid);
	return 0;
}
