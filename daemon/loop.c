// SPDX-License-Identifier: GPL-2.0
/*
 * The event loop: one epoll set, a list of timers whose earliest sets the
 * epoll timeout, and a signalfd for SIGTERM/SIGINT (stop) and SIGHUP
 * (reload). Watches are kept by fd, so a callback that deletes another
 * watch in the same turn is safe: the event finds no watch and is dropped.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include "kmqd.h"

struct watch {
	kmqd_fd_cb cb;
	void *arg;
};

/* main.c */
void kmqd_reload(struct kmqd *d);

uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint64_t real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int kmqd_loop_add(struct kmqd *d, int fd, uint32_t events,
		  void (*cb)(struct kmqd *d, void *arg, uint32_t revents),
		  void *arg)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };
	struct watch *w;

	if (fd < 0 || !cb)
		return -EINVAL;
	if (fd >= d->nwatches) {
		int n = fd + 64;
		struct watch **nw = realloc(d->watches, n * sizeof(*nw));

		if (!nw)
			return -ENOMEM;
		memset(nw + d->nwatches, 0, (n - d->nwatches) * sizeof(*nw));
		d->watches = nw;
		d->nwatches = n;
	}
	if (d->watches[fd])
		return -EEXIST;
	w = malloc(sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->cb = cb;
	w->arg = arg;
	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int err = -errno;

		free(w);
		return err;
	}
	d->watches[fd] = w;
	return 0;
}

int kmqd_loop_mod(struct kmqd *d, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };

	if (epoll_ctl(d->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
		return -errno;
	return 0;
}

void kmqd_loop_del(struct kmqd *d, int fd)
{
	if (fd < 0 || fd >= d->nwatches || !d->watches[fd])
		return;
	epoll_ctl(d->epfd, EPOLL_CTL_DEL, fd, NULL);
	free(d->watches[fd]);
	d->watches[fd] = NULL;
}

void timer_cancel(struct kmqd *d, struct timer *t)
{
	struct timer **p;

	for (p = &d->timers; *p; p = &(*p)->next) {
		if (*p == t) {
			*p = t->next;
			break;
		}
	}
	t->at = 0;
	t->next = NULL;
}

void timer_arm(struct kmqd *d, struct timer *t, uint64_t at)
{
	if (t->at)
		timer_cancel(d, t);
	t->at = at ? at : 1;
	t->next = d->timers;
	d->timers = t;
}

/* run_timers - fire those due; returns ms until the next (-1: none). */
static int run_timers(struct kmqd *d)
{
	uint64_t now = mono_ns(), next = 0;
	struct timer *t;

again:
	for (t = d->timers; t; t = t->next) {
		if (t->at <= now) {
			timer_cancel(d, t);
			t->cb(d, t->arg);	/* may rearm or cancel any timer */
			goto again;
		}
	}
	for (t = d->timers; t; t = t->next)
		if (!next || t->at < next)
			next = t->at;
	if (!next)
		return -1;
	return (int)((next - now + 999999) / 1000000);
}

static void on_signal(struct kmqd *d, void *arg, uint32_t revents)
{
	struct signalfd_siginfo si;

	while (read(d->sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			log_info("SIGHUP: reloading the configuration");
			kmqd_reload(d);
		} else {
			log_info("%s: shutting down", strsignal((int)si.ssi_signo));
			kmqd_stop(d);
		}
	}
}

int loop_init(struct kmqd *d)
{
	sigset_t set;
	int err;

	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d->epfd < 0)
		return -errno;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	d->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (d->sigfd < 0)
		return -errno;
	err = kmqd_loop_add(d, d->sigfd, EPOLLIN, on_signal, NULL);
	return err;
}

void kmqd_stop(struct kmqd *d)
{
	d->stopping = true;
}

int loop_run(struct kmqd *d)
{
	struct epoll_event evs[64];

	while (!d->stopping) {
		int timeout = run_timers(d), n, i;

		if (store_run_kicked(d))
			timeout = 0;
		if (d->stopping)
			break;
		n = epoll_wait(d->epfd, evs, 64, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_err("epoll_wait: %s", strerror(errno));
			return -errno;
		}
		for (i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			struct watch *w;

			if (fd < 0 || fd >= d->nwatches || !(w = d->watches[fd]))
				continue;
			w->cb(d, w->arg, evs[i].events);
		}
	}
	return 0;
}

void loop_fini(struct kmqd *d)
{
	int fd;

	for (fd = 0; fd < d->nwatches; fd++)
		free(d->watches[fd]);
	free(d->watches);
	d->watches = NULL;
	d->nwatches = 0;
	if (d->sigfd >= 0)
		close(d->sigfd);
	if (d->epfd >= 0)
		close(d->epfd);
}
