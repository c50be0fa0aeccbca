/*
 * reference.c - bounded-buffer: instructor's solution.
 *
 * A ring buffer guarded by one mutex, with two condition variables: one
 * that producers wait on while the buffer is full, one that consumers
 * wait on while it is empty.  Each wait sits in a while loop because a
 * wakeup only means "the condition may have changed": another thread may
 * have taken the slot first, and spurious wakeups are allowed.  Signals
 * are sent after the state change they announce, under the mutex.
 */
#include <pthread.h>
#include <stdlib.h>

#include "exercise.h"

struct bbuf {
	pthread_mutex_t lock;
	pthread_cond_t not_full;	/* signalled when a slot frees up */
	pthread_cond_t not_empty;	/* signalled when an item arrives */
	uint64_t *items;
	size_t capacity;
	size_t head;			/* index of the oldest item */
	size_t count;			/* items currently stored */
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
	pthread_cond_init(&b->not_full, NULL);
	pthread_cond_init(&b->not_empty, NULL);
	return b;
}

void bbuf_put(struct bbuf *b, uint64_t item)
{
	pthread_mutex_lock(&b->lock);
	while (b->count == b->capacity)
		pthread_cond_wait(&b->not_full, &b->lock);
	b->items[(b->head + b->count) % b->capacity] = item;
	b->count++;
	pthread_cond_signal(&b->not_empty);
	pthread_mutex_unlock(&b->lock);
}

uint64_t bbuf_get(struct bbuf *b)
{
	pthread_mutex_lock(&b->lock);
	while (b->count == 0)
		pthread_cond_wait(&b->not_empty, &b->lock);
	uint64_t item = b->items[b->head];
	b->head = (b->head + 1) % b->capacity;
	b->count--;
	pthread_cond_signal(&b->not_full);
	pthread_mutex_unlock(&b->lock);
	return item;
}

void bbuf_free(struct bbuf *b)
{
	if (!b)
		return;
	pthread_cond_destroy(&b->not_empty);
	pthread_cond_destroy(&b->not_full);
	pthread_mutex_destroy(&b->lock);
	free(b->items);
	free(b);
}
