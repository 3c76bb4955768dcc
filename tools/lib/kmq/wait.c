// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/*
 * Waiting: deadlines on CLOCK_MONOTONIC, a short bounded spin on the rings
 * of a mapped queue (a busy peer then costs no system call), then sleeps in
 * the backend, which arms the need-wakeup flags and rechecks first.
 */
#include "internal.h"

#define NSEC	1000000000LL

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NSEC + ts.tv_nsec;
}

static int64_t ts_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * NSEC + ts->tv_nsec;
}

int64_t kmq_deadline_left(struct kmq_deadline *d)
{
	int64_t left;

	if (d->timeout_ns < 0)
		return -1;
	if (!d->started) {
		int64_t at = mono_ns() + d->timeout_ns;

		d->at.tv_sec = at / NSEC;
		d->at.tv_nsec = at % NSEC;
		d->started = true;
		return d->timeout_ns;
	}
	left = ts_ns(&d->at) - mono_ns();
	return left > 0 ? left : 0;
}

/* spin - re-check a mapped queue's rings for up to KMQ_WAIT_SPIN_NS. */
static int spin(struct kmq *q, int events, int64_t left)
{
	int64_t until, budget = KMQ_WAIT_SPIN_NS;
	unsigned int i;
	int ev;

	if (left >= 0 && left < budget)
		budget = left;
	until = mono_ns() + budget;
	for (;;) {
		for (i = 0; i < 32; i++) {
			ev = kmq_fast_events(&q->fast, events);
			if (ev)
				return ev;
			kmq_relax();
		}
		if (mono_ns() >= until)
			return 0;
	}
}

/*
 * nap_for - on a mapped queue, whether this sleep must be a bounded nap, and
 * which events to ask the backend for. Two things end without a wake-up: a
 * stalled popper's release of the ready ring's tail cell (a free slot is
 * there, so the backend would report WRITABLE at once: leave it out), and
 * the free ring taking the slots this handle deferred (pushed here first).
 */
static bool nap_for(struct kmq *q, int events, int *want)
{
	bool nap = false;

	*want = events;
	if (q->fast.ndefer) {
		unsigned int who = 0;

		if (kmq_fast_flush(&q->fast, &who))
			nap = true;
		if (who)
			q->be->wake(q, who);
	}
	if (kmq_fast_stalled(&q->fast, events)) {
		*want &= ~KMQ_WRITABLE;
		nap = true;
	}
	return nap;
}

int kmq_wait_deadline(struct kmq *q, int events, struct kmq_deadline *d)
{
	int64_t left, nap = KMQ_STALL_NAP_MIN_NS;
	bool spun = false;
	int ev;

	for (;;) {
		struct timespec ts;
		int want = events;

		left = kmq_deadline_left(d);
		if (!left)
			return d->timeout_ns ? -ETIMEDOUT : -EAGAIN;
		if (q->mapped && !spun) {
			spun = true;
			ev = spin(q, events, left);
			if (ev)
				return ev;
			continue;
		}
		if (q->mapped) {
			ev = kmq_fast_events(&q->fast, events);
			if (ev)
				return ev;
			if (nap_for(q, events, &want)) {
				if (left < 0 || left > nap)
					left = nap;
				nap = nap * 2 > KMQ_STALL_NAP_MAX_NS ?
				      KMQ_STALL_NAP_MAX_NS : nap * 2;
			}
		}
		ts.tv_sec = left / NSEC;
		ts.tv_nsec = left % NSEC;
		ev = q->be->wait(q, want, left < 0 ? NULL : &ts);
		if (ev)
			return ev;	/* events, or -EINTR and friends */
	}
}

KMQ_EXPORT int kmq_wait(struct kmq *q, int events, int64_t timeout_ns)
{
	struct kmq_deadline d;
	struct timespec zero = { 0, 0 };
	int ev;

	if (!q || !events || (events & ~(KMQ_READABLE | KMQ_WRITABLE)))
		return -EINVAL;
	ev = q->mapped ? kmq_fast_events(&q->fast, events)
		       : q->be->wait(q, events, &zero);
	if (ev || !timeout_ns)
		return ev;
	kmq_deadline_init(&d, timeout_ns);
	ev = kmq_wait_deadline(q, events, &d);
	return ev == -ETIMEDOUT ? 0 : ev;
}

KMQ_EXPORT int kmq_prepare_wait(struct kmq *q, int events)
{
	struct timespec zero = { 0, 0 };

	if (!q || !events || (events & ~(KMQ_READABLE | KMQ_WRITABLE)))
		return -EINVAL;
	if (q->be->prepare_wait)
		return q->be->prepare_wait(q, events);
	if (q->mapped)
		return kmq_fast_arm(&q->fast, events);
	return q->be->wait(q, events, &zero);
}
