/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Journals: append-only files of fixed-size records in kmqd's state
 * directory, for state that must outlive a kmqd crash (kill -9: the page
 * cache keeps every write(); no fsync, the state directory is /run's) but
 * is too hot to rewrite whole on each change: deduplication windows. A
 * reader skips a torn last record; the owner compacts (journal_rewrite)
 * when most records are dead.
 */
#ifndef KMQD_JOURNAL_H
#define KMQD_JOURNAL_H

#include <stddef.h>

struct journal {
	int fd;			/* -1: not open (appends are dropped) */
	size_t rec;		/* record size */
	unsigned long nrec;	/* records in the file */
	char path[320];
};

/*
 * journal_open - open (creating, mode 0600) the journal at @path with
 * records of @rec bytes, calling @each for every whole record already in
 * it, in order. 0 or -errno (then @j is closed: appends are dropped).
 */
int journal_open(struct journal *j, const char *path, size_t rec,
		 void (*each)(void *arg, const void *rec), void *arg);

/* journal_append - add one record; -errno on failure (logged once by the
 * caller: the window then only lives in memory). */
int journal_append(struct journal *j, const void *rec);

/*
 * journal_rewrite - replace the file by @n records from @fill (called with
 * i = 0..n-1 to write record i into @buf), through a temporary file and
 * rename, so a crash keeps the old or the new file whole.
 */
int journal_rewrite(struct journal *j, unsigned long n,
		    void (*fill)(void *arg, unsigned long i, void *buf), void *arg);

/* journal_close - close; journal_remove - close and delete the file. */
void journal_close(struct journal *j);
void journal_remove(struct journal *j);

#endif /* KMQD_JOURNAL_H */
