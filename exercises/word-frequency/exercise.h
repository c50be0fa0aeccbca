/*
 * exercise.h - word-frequency: the function learners implement.
 */
#ifndef EXERCISE_WORD_FREQUENCY_H
#define EXERCISE_WORD_FREQUENCY_H

#include <stddef.h>
#include <stdint.h>

struct word_count {
	char *word;		/* NUL-terminated copy of the word, from malloc() */
	uint64_t count;		/* how many times it occurs in the text */
};

/*
 * Count how often each word occurs in text[0..len-1], using up to
 * `threads` threads.
 *
 * - A word is a maximal run of the letters 'a'..'z'.  Every other byte
 *   (space, newline, punctuation, digit, ...) separates words.
 * - text is not NUL-terminated; read only text[0..len-1].  len may be 0.
 * - On return *out points to an array with one entry per distinct word
 *   (in any order) and the function returns the number of entries.  The
 *   array and every word in it come from malloc(); the caller frees them
 *   with free().  With no words, return 0 (*out may then be NULL).
 * - threads is between 1 and 64; it may be larger than the number of words.
 * - Every thread you create must be joined before the function returns.
 */
size_t word_frequency(const char *text, size_t len, int threads, struct word_count **out);

#endif
