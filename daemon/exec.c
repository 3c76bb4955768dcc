// SPDX-License-Identifier: GPL-2.0
/*
 * exec subscriptions, the local analogue of a Lambda function: each attempt
 * runs the endpoint as a /bin/sh -c command in its own process group, the
 * message (envelope, or the body when raw) on standard input (a memfd), its
 * attributes in the environment (KMQ_ATTR_<name>, non-alphanumerics as
 * '_'), with KMQ_MESSAGE_ID, KMQ_TOPIC_ARN, KMQ_SUBSCRIPTION_ARN,
 * KMQ_SUBJECT and KMQ_ATTEMPT (1, 2, ...). Exit status 0 is a delivery;
 * another status, a signal, or running past execPolicy.timeoutSeconds
 * (the group is killed) is a failed attempt. The child's end is seen
 * through a pidfd in kmqd's loop; kmqd never blocks on it.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "endpoint.h"

struct xproc {
	pid_t pid;
	int pidfd;
	bool timed_out;
	struct timer timeout;
	struct job *j;
};

static void reap(struct kmqd *d, struct xproc *x, int *status)
{
	kmqd_loop_del(d, x->pidfd);
	close(x->pidfd);
	timer_cancel(d, &x->timeout);
	if (waitpid(x->pid, status, 0) < 0)
		*status = -1;
}

static void on_exit_fd(struct kmqd *d, void *arg, uint32_t revents)
{
	struct xproc *x = arg;
	struct job *j = x->j;
	char why[96];
	int status;
	bool ok;

	reap(d, x, &status);
	if (x->timed_out)
		snprintf(why, sizeof(why), "timed out after %u s", j->ep->pol.timeout_s);
	else if (status >= 0 && WIFEXITED(status))
		snprintf(why, sizeof(why), "exit status %d", WEXITSTATUS(status));
	else if (status >= 0 && WIFSIGNALED(status))
		snprintf(why, sizeof(why), "killed by signal %d", WTERMSIG(status));
	else
		snprintf(why, sizeof(why), "lost");
	ok = !x->timed_out && status >= 0 && WIFEXITED(status) && !WEXITSTATUS(status);
	free(x);
	j->proto = NULL;
	endpoint_done(j, ok, why);
}

static void on_timeout(struct kmqd *d, void *arg)
{
	struct xproc *x = arg;

	x->timed_out = true;
	kill(-x->pid, SIGKILL);
}

int exec_start(struct job *j)
{
	struct endpoint *ep = j->ep;
	struct kmqd *d = ep->d;
	struct xproc *x;
	int mfd, err;
	char **e;

	mfd = memfd_create("kmqd-exec", MFD_CLOEXEC);
	if (mfd < 0)
		return -errno;
	if (write(mfd, j->payload, j->len) != (ssize_t)j->len ||
	    lseek(mfd, 0, SEEK_SET) < 0) {
		err = errno ? -errno : -EIO;
		close(mfd);
		return err;
	}
	x = calloc(1, sizeof(*x));
	if (!x) {
		close(mfd);
		return -ENOMEM;
	}
	x->j = j;
	x->pid = fork();
	if (x->pid < 0) {
		err = -errno;
		close(mfd);
		free(x);
		return err;
	}
	if (!x->pid) {
		char n[16];
		int devnull = open("/dev/null", O_WRONLY);

		setpgid(0, 0);
		/* The handler runs as the subscriber, never as root for
		 * someone else. */
		if (getuid() == 0 && ep->s->owner != 0) {
			struct passwd *pw = getpwuid(ep->s->owner);

			if (setgroups(0, NULL) ||
			    setgid(pw ? pw->pw_gid : ep->s->owner) ||
			    setuid(ep->s->owner))
				_exit(126);
		}
		dup2(mfd, 0);
		if (devnull >= 0)
			dup2(devnull, 1);
		sigset_t all;
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		for (e = j->env; e && *e; e++)
			putenv(*e);
		snprintf(n, sizeof(n), "%u", j->attempt);
		setenv("KMQ_ATTEMPT", n, 1);
		execl("/bin/sh", "sh", "-c", ep->s->endpoint, (char *)NULL);
		_exit(127);
	}
	close(mfd);
	setpgid(x->pid, x->pid);	/* as the child does: no race on kill */
	x->pidfd = (int)syscall(SYS_pidfd_open, x->pid, 0);
	if (x->pidfd < 0 || kmqd_loop_add(d, x->pidfd, EPOLLIN, on_exit_fd, x)) {
		kill(-x->pid, SIGKILL);
		waitpid(x->pid, NULL, 0);
		if (x->pidfd >= 0)
			close(x->pidfd);
		free(x);
		return -EIO;
	}
	x->timeout.cb = on_timeout;
	x->timeout.arg = x;
	timer_arm(d, &x->timeout, mono_ns() + (uint64_t)ep->pol.timeout_s * 1000000000ULL);
	j->proto = x;
	return 0;
}

void exec_cancel(struct job *j)
{
	struct xproc *x = j->proto;
	int status;

	if (!x)
		return;
	kill(-x->pid, SIGKILL);
	reap(j->ep->d, x, &status);
	free(x);
	j->proto = NULL;
}
