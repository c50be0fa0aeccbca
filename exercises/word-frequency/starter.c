/*
 * starter.c - word-frequency: your starting point.
 *
 * A correct serial version: it scans the text once and counts words in a
 * sorted array with binary search, so it is slow for big vocabularies and
 * uses one thread.  Make it use `threads` threads (see statement.md);
 * replacing the sorted array with a hash table also helps.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "exercise.h"

struct counts {
	struct word_count *wc;
	size_t n, cap;
};

/* Compare a stored word with text[0..len). */
static int compare(const char *stored, const char *text, size_t len)
{
	int c = strncmp(stored, text, len);
	if (c != 0)
		return c;
	return stored[len] == '\0' ? 0 : 1;
}

static void add_word(struct counts *c, const char *text, size_t len)
{
	size_t lo = 0, hi = c->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int cmp = compare(c->wc[mid].word, text, len);
		if (cmp == 0) {
			c->wc[mid].count++;
			return;
		}
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (c->n == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 64;
		c->wc = realloc(c->wc, c->cap * sizeof *c->wc);
		if (!c->wc)
			abort();
	}
	char *w = malloc(len + 1);
	if (!w)
		abort();
	memcpy(w, text, len);
	w[len] = '\0';
	memmove(&c->wc[lo + 1], &c->wc[lo], (c->n - lo) * sizeof *c->wc);
	c->wc[lo].word = w;
	c->wc[lo].count = 1;
	c->n++;
}

size_t word_frequency(const char *text, size_t len, int threads, struct word_count **out)
{
	(void)threads;	/* TODO: count chunks of the text in parallel, then merge */

	struct counts c = { NULL, 0, 0 };
	size_t i = 0;
	while (i < len) {
		while (i < len && !(text[i] >= 'a' && text[i] <= 'z'))
			i++;
		size_t start = i;
		while (i < len && text[i] >= 'a' && text[i] <= 'z')
			i++;
		if (i > start)
			add_word(&c, text + start, i - start);
	}
	*out = c.wc;
	return c.n;
}
