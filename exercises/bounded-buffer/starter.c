/*
 * starter.c - bounded-buffer: your starting point.
 *
 * This buffer is correct and race-free, but a thread that has to wait
 * polls: it drops the lock, sleeps a little and checks again.  Sleeping
 * too long leaves the other side idle (a consumer naps while items are
 * waiting for it), and sleeping too short burns CPU, so this version gets
 * no speedup credit.  Replace the polling with condition variables, so a
 * waiting thread is woken exactly when the buffer changes (see
 * statement.md).
 */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "exercise.h"

struct bbuf {
	pthread_mutex_t lock;
	/* TODO: condition variables for "not full" and "not empty" */
	uint64_t *items;
	size_t capacity;
	size_t head;		/* index of the oldest item */
	size_t count;		/* items currently stored */
};

struct bbuf *bbuf_new(size_t capacity)
{
	struct bbuf *b = calloc(1, sizeof *b);
	if (!b)
		return NULL;
	b->items = calloc(capacity, sizeof *b->items);
	if (!b->items) {
		free(b);
		return NULL;
	}
	b->capacity = capacity;
	pthread_mutex_init(&b->lock, NULL);
	return b;
}

void bbuf_put(struct bbuf *b, uint64_t item)
{
	pthread_mutex_lock(&b->lock);
	while (b->count == b->capacity) {
		/* TODO: wait on a condition variable instead of polling */
		pthread_mutex_unlock(&b->lock);
		usleep(200);	/* check again in 0.2 ms */
		pthread_mutex_lock(&b->lock);
	}
	b->items[(b->head + b->count) % b->capacity] = item;
	b->count++;
	pthread_mutex_unlock(&b->lock);
}

uint64_t bbuf_get(struct bbuf *b)
{
	pthread_mutex_lock(&b->lock);
	while (b->count == 0) {
		/* TODO: wait on a condition variable instead of polling */
		pthread_mutex_unlock(&b->lock);
		usleep(200);	/* check again in 0.2 ms */
		pthread_mutex_lock(&b->lock);
	}
	uint64_t item = b->items[b->head];
	b->head = (b->head + 1) % b->capacity;
	b->count--;
	pthread_mutex_unlock(&b->lock);
	return item;
}

void bbuf_free(struct bbuf *b)
{
	if (!b)
		return;
	pthread_mutex_destroy(&b->lock);
	free(b->items);
	free(b);
}
