/*
 * exercise.h - bounded-buffer: the functions learners implement.
 */
#ifndef EXERCISE_BOUNDED_BUFFER_H
#define EXERCISE_BOUNDED_BUFFER_H

#include <stddef.h>
#include <stdint.h>

/* A first-in, first-out queue holding at most `capacity` items.  You
 * define struct bbuf in your file. */
struct bbuf;

/*
 * Create an empty buffer that holds at most `capacity` items (capacity is
 * at least 1).  Returns NULL only if memory runs out.
 */
struct bbuf *bbuf_new(size_t capacity);

/*
 * Append `item` at the tail.  If the buffer is full, wait (without burning
 * CPU) until a bbuf_get() makes room.  Any number of threads may call
 * bbuf_put() and bbuf_get() at the same time.
 */
void bbuf_put(struct bbuf *b, uint64_t item);

/*
 * Remove and return the item at the head.  If the buffer is empty, wait
 * (without burning CPU) until a bbuf_put() supplies one.
 */
uint64_t bbuf_get(struct bbuf *b);

/* Release the buffer.  No thread is using it any more.  b may be NULL. */
void bbuf_free(struct bbuf *b);

#endif
