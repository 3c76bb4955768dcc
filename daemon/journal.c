// SPDX-License-Identifier: GPL-2.0
/*
 * Append-only journals of fixed-size records (journal.h): what kmqd keeps
 * across a crash without rewriting it whole on every change.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "journal.h"

int journal_open(struct journal *j, const char *path, size_t rec,
		 void (*each)(void *arg, const void *rec), void *arg)
{
	unsigned char *buf;
	ssize_t n;

	j->fd = -1;
	j->rec = rec;
	j->nrec = 0;
	j->path[0] = '\0';
	if (!rec)
		return -EINVAL;
	if (snprintf(j->path, sizeof(j->path), "%s", path) >= (int)sizeof(j->path)) {
		j->path[0] = '\0';
		return -ENAMETOOLONG;
	}
	buf = malloc(rec);
	if (!buf)
		return -ENOMEM;
	j->fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (j->fd < 0) {
		int err = -errno;

		free(buf);
		return err;
	}
	while ((n = read(j->fd, buf, rec)) == (ssize_t)rec) {
		if (each)
			each(arg, buf);
		j->nrec++;
	}
	free(buf);
	if (n > 0 && ftruncate(j->fd, (off_t)(j->nrec * rec)) < 0) {
		int err = -errno;	/* a torn tail that will not go away */

		journal_close(j);
		return err;
	}
	return 0;
}

int journal_append(struct journal *j, const void *rec)
{
	ssize_t n;

	if (j->fd < 0)
		return -EBADF;
	n = write(j->fd, rec, j->rec);
	if (n == (ssize_t)j->rec) {
		j->nrec++;
		return 0;
	}
	if (n >= 0) {	/* short: cut it off, or later records shift */
		if (ftruncate(j->fd, (off_t)(j->nrec * j->rec)) < 0) {
			journal_close(j);
			return -EIO;
		}
		return -ENOSPC;
	}
	return -errno;
}

int journal_rewrite(struct journal *j, unsigned long n,
		    void (*fill)(void *arg, unsigned long i, void *buf), void *arg)
{
	char tmp[sizeof(j->path) + 8];
	unsigned char *buf;
	unsigned long i;
	int fd, err = 0;

	if (j->fd < 0)
		return -EBADF;
	snprintf(tmp, sizeof(tmp), "%s.tmp", j->path);
	buf = malloc(j->rec);
	if (!buf)
		return -ENOMEM;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		free(buf);
		return -errno;
	}
	for (i = 0; i < n && !err; i++) {
		memset(buf, 0, j->rec);
		fill(arg, i, buf);
		if (write(fd, buf, j->rec) != (ssize_t)j->rec)
			err = -EIO;
	}
	free(buf);
	if (!err && rename(tmp, j->path) < 0)
		err = -errno;
	if (err) {
		close(fd);
		unlink(tmp);
		return err;
	}
	/* The new file, opened for appending. */
	close(fd);
	close(j->fd);
	j->fd = open(j->path, O_RDWR | O_APPEND | O_CLOEXEC);
	j->nrec = n;
	return j->fd < 0 ? -errno : 0;
}

void journal_close(struct journal *j)
{
	if (j->fd >= 0)
		close(j->fd);
	j->fd = -1;
}

void journal_remove(struct journal *j)
{
	journal_close(j);
	if (j->path[0])
		unlink(j->path);
	j->path[0] = '\0';
}
