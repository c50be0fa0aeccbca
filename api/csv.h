/*
 * csv.h - CSV by RFC 4180, in and out: the reader behind bulk enrollment
 * and the field writer behind every report export.
 *
 * The reader takes what spreadsheets save: quoted fields with doubled
 * quotes and line breaks inside, CRLF or LF, a UTF-8 byte order mark,
 * ',' or ';' between fields (told apart on the header line).  The writer
 * quotes by RFC 4180 and neutralises text a spreadsheet would run as a
 * formula (OWASP "CSV injection").
 */
#ifndef COHORTD_API_CSV_H
#define COHORTD_API_CSV_H

#include <stddef.h>

/* Fields in one record, at most; a wider file is refused. */
#define CSV_MAX_FIELDS	256

struct csv_record {
	long	  line;		/* the line the record starts on, from 1 */
	size_t	  nfields;	/* at least 1 */
	char	**fields;	/* NUL-terminated UTF-8, as read (not trimmed) */
};

struct csv_doc {
	char		   delim;	/* ',' or ';' */
	size_t		   nrecords;	/* the header is records[0] */
	struct csv_record *records;
};

/* Why a text is not CSV, and where. */
struct csv_err {
	long	line;		/* from 1 */
	char	why[160];	/* lowercase, no line number */
};

/*
 * Read the len bytes of text as CSV.  Empty records (blank lines, or
 * only delimiters) are left out.  On success *out is the document, the
 * caller's to csv_doc_free.  Malformed input (a quote not closed, text
 * after a closing quote, a quote inside an unquoted field, bytes that are
 * not UTF-8 or NUL, more than CSV_MAX_FIELDS fields) gives CD_ERR_INVALID
 * with err set, and so do more than max_records records (0: no limit),
 * found before the rest is read; CD_ERR_NOMEM when memory runs out.  *out
 * is NULL on any failure.
 */
int	 csv_read(const char *text, size_t len, size_t max_records,
	    struct csv_doc **out, struct csv_err *err);
void	 csv_doc_free(struct csv_doc *doc);

/*
 * Append one field to the growing buffer (as api_buf_put), preceded by a
 * ',' unless first.  csv_put_text is for text: a value starting with '=',
 * '+', '-', '@', tab or CR gets a leading "'" so that a spreadsheet shows
 * it instead of evaluating it.  csv_put_number is for numbers the server
 * formatted, written as they are.  Both quote when the value holds ',',
 * '"', ';', CR or LF.  0 or CD_ERR_NOMEM.
 */
int	 csv_put_text(char **buf, size_t *len, size_t *cap, const char *s,
	    int first);
int	 csv_put_number(char **buf, size_t *len, size_t *cap, const char *s,
	    int first);
/* End the record: CRLF, as RFC 4180 says. */
int	 csv_put_eol(char **buf, size_t *len, size_t *cap);

#endif
