/*
 * reference.c - word-frequency: instructor's solution.
 *
 * Map-reduce.  Map: the text is cut into one chunk per thread, each cut
 * moved forward to the end of the word it falls in so no word is split,
 * and each thread counts its chunk in a private hash table whose keys
 * point into the text (no copying, no locks).  Reduce: after joining, the
 * calling thread folds the private tables into the first one and copies
 * the words out.  The vocabulary is small next to the text, so the serial
 * reduce is cheap; the text scan, which is most of the work, is parallel.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "exercise.h"

struct entry {
	const char *word;	/* points into the text; NULL for an empty slot */
	size_t len;
	uint64_t hash;
	uint64_t count;
};

struct table {
	struct entry *slots;
	size_t cap;		/* a power of two */
	size_t used;
	int failed;		/* out of memory */
};

static int is_letter(char c)
{
	return c >= 'a' && c <= 'z';
}

static uint64_t hash_word(const char *p, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)p[i]) * 0x100000001b3ULL;
	return h ^ (h >> 32);
}

static int table_init(struct table *t, size_t cap)
{
	t->cap = cap;
	t->used = 0;
	t->failed = 0;
	t->slots = calloc(cap, sizeof *t->slots);
	return t->slots ? 0 : -1;
}

static void table_put(struct table *t, const char *word, size_t len, uint64_t hash, uint64_t count);

static int table_grow(struct table *t)
{
	struct table bigger;
	if (table_init(&bigger, t->cap * 2) != 0)
		return -1;
	for (size_t i = 0; i < t->cap; i++) {
		struct entry *e = &t->slots[i];
		if (e->word)
			table_put(&bigger, e->word, e->len, e->hash, e->count);
	}
	free(t->slots);
	*t = bigger;
	return 0;
}

static void table_put(struct table *t, const char *word, size_t len, uint64_t hash, uint64_t count)
{
	if (t->failed)
		return;
	if (2 * (t->used + 1) > t->cap && table_grow(t) != 0) {
		t->failed = 1;
		return;
	}
	size_t mask = t->cap - 1;
	for (size_t i = hash & mask;; i = (i + 1) & mask) {
		struct entry *e = &t->slots[i];
		if (!e->word) {
			*e = (struct entry){ word, len, hash, count };
			t->used++;
			return;
		}
		if (e->hash == hash && e->len == len && memcmp(e->word, word, len) == 0) {
			e->count += count;
			return;
		}
	}
}

struct chunk {
	const char *text;
	size_t lo, hi;
	struct table table;
};

static void *count_chunk(void *arg)
{
	struct chunk *c = arg;
	const char *text = c->text;
	size_t i = c->lo;

	if (table_init(&c->table, 1024) != 0) {
		c->table.failed = 1;
		return NULL;
	}
	while (i < c->hi) {
		while (i < c->hi && !is_letter(text[i]))
			i++;
		size_t start = i;
		while (i < c->hi && is_letter(text[i]))
			i++;
		if (i > start)
			table_put(&c->table, text + start, i - start, hash_word(text + start, i - start), 1);
	}
	return NULL;
}

size_t word_frequency(const char *text, size_t len, int threads, struct word_count **out)
{
	*out = NULL;
	if (threads < 1)
		threads = 1;
	if ((size_t)threads > len / 4096 + 1)
		threads = (int)(len / 4096 + 1);	/* tiny texts: threads cost more than they save */

	struct chunk *ch = calloc((size_t)threads, sizeof *ch);
	pthread_t *tid = calloc((size_t)threads, sizeof *tid);
	if (!ch || !tid)
		goto fail;

	/* Cut points, each moved past the end of the word it lands in. */
	size_t prev = 0;
	for (int t = 0; t < threads; t++) {
		size_t cut = len * (size_t)(t + 1) / (size_t)threads;
		if (cut < prev)
			cut = prev;
		while (cut > 0 && cut < len && is_letter(text[cut - 1]) && is_letter(text[cut]))
			cut++;
		ch[t].text = text;
		ch[t].lo = prev;
		ch[t].hi = cut;
		prev = cut;
	}

	int started = 1;
	for (int t = 1; t < threads; t++) {
		if (pthread_create(&tid[t], NULL, count_chunk, &ch[t]) != 0)
			break;
		started++;
	}
	count_chunk(&ch[0]);
	for (int t = started; t < threads; t++)
		count_chunk(&ch[t]);	/* could not start a thread: do it here */
	for (int t = 1; t < started; t++)
		pthread_join(tid[t], NULL);

	/* Reduce into the first table. */
	struct table *all = &ch[0].table;
	for (int t = 1; t < threads; t++) {
		struct table *p = &ch[t].table;
		for (size_t i = 0; !p->failed && i < p->cap; i++) {
			struct entry *e = &p->slots[i];
			if (e->word)
				table_put(all, e->word, e->len, e->hash, e->count);
		}
		all->failed |= p->failed;
	}
	if (all->failed)
		goto fail;

	struct word_count *wc = all->used ? calloc(all->used, sizeof *wc) : NULL;
	size_t n = 0;
	if (all->used && !wc)
		goto fail;
	for (size_t i = 0; i < all->cap; i++) {
		struct entry *e = &all->slots[i];
		if (!e->word)
			continue;
		char *w = malloc(e->len + 1);
		if (!w) {
			for (size_t j = 0; j < n; j++)
				free(wc[j].word);
			free(wc);
			goto fail;
		}
		memcpy(w, e->word, e->len);
		w[e->len] = '\0';
		wc[n].word = w;
		wc[n].count = e->count;
		n++;
	}
	for (int t = 0; t < threads; t++)
		free(ch[t].table.slots);
	free(ch);
	free(tid);
	*out = wc;
	return n;

fail:
	if (ch)
		for (int t = 0; t < threads; t++)
			free(ch[t].table.slots);
	free(ch);
	free(tid);
	abort();	/* out of memory: no partial answer */
}
