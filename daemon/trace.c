// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/*
 * kmqd's BPF loader (daemon/trace.h): the skeleton of bpf/kmq.bpf.c,
 * attached to tracepoints and USDT probes, its maps pinned for bpftool.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "kmq_trace.h"
#include "kmq.skel.h"
#include "probes.h"
#include "trace.h"

/* The semaphores of kmqd's own probes (probes.h): kmqd links this file. */
KMQD_PROBE_DEFINE(queue_create);
KMQD_PROBE_DEFINE(queue_delete);
KMQD_PROBE_DEFINE(repair);
KMQD_PROBE_DEFINE(publish);
KMQD_PROBE_DEFINE(deliver);
KMQD_PROBE_DEFINE(retry);
KMQD_PROBE_DEFINE(send);
KMQD_PROBE_DEFINE(lease);
KMQD_PROBE_DEFINE(delete);
KMQD_PROBE_DEFINE(lease_expired);
KMQD_PROBE_DEFINE(drop);
KMQD_PROBE_DEFINE(dead_letter);
KMQD_PROBE_DEFINE(tick);

#define MAX_LINKS 64

struct linkset {
	struct bpf_link *l[MAX_LINKS];
	unsigned int n;
};

struct kmqd_trace {
	struct kmq_bpf *skel;
	struct linkset links;		/* for the loader's life */
	/* This program's per-message probes (kmqd's), attached while
	 * someone traces (see kmqd_trace_refresh), or always (@msgs_always). */
	struct linkset mlinks;
	bool msgs_always, msgs_on;
	char self[PATH_MAX];		/* this executable, "" unknown */
	__u64 ticks;
	bool tp_attached;
	bool quiet;
	__u32 base_users;	/* kmq_control.base_users */
	char pin_dir[PATH_MAX - 32];	/* room for the map names */
};

/* Where the loader's and libbpf's lines go: kmqd's log (opts.log), else
 * stderr. libbpf's print callback has no context argument: one loader per
 * process, so a static. */
static void (*log_fn)(int level, const char *msg);

static void vlog(int level, const char *fmt, va_list ap)
{
	char *buf = NULL;
	size_t n;

	/* libbpf's verifier logs run to kilobytes: allocated */
	if (vasprintf(&buf, fmt, ap) < 0)
		return;
	n = strlen(buf);
	while (n && buf[n - 1] == '\n')	/* libbpf ends its lines so */
		buf[--n] = '\0';
	if (log_fn)
		log_fn(level, buf);
	else
		fprintf(stderr, "kmqd: trace: %s\n", buf);
	free(buf);
}

/* @level: syslog's, 3 (error) .. 7 (debug). */
static void say_level(struct kmqd_trace *t, int level, const char *fmt, ...)
{
	va_list ap;

	if (t && t->quiet && level > 4)
		return;
	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}

#define say(t, ...) say_level(t, 6, __VA_ARGS__)
#define say_err(...) say_level(NULL, 3, __VA_ARGS__)

/* libbpf's own lines: its warnings with KMQ_TRACE_DEBUG set (a probe that
 * is not in a file is a warning to libbpf, a normal case here), else none. */
static int libbpf_log(enum libbpf_print_level level, const char *fmt,
		      va_list ap)
{
	if (getenv("KMQ_TRACE_DEBUG") == NULL)
		return 0;
	vlog(level == LIBBPF_WARN ? 4 : 7, fmt, ap);
	return 0;
}

/* Mount @type on @dir unless a filesystem of @magic is there already. */
static int ensure_fs(const char *dir, const char *type, long magic)
{
	struct statfs sfs;

	if (!statfs(dir, &sfs) && (long)sfs.f_type == magic)
		return 0;
	if (mount(type, dir, type, 0, NULL))
		return -errno;
	return 0;
}

static int mkdirs(const char *path, mode_t mode)
{
	char buf[PATH_MAX], *p;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) && errno != EEXIST)
		return -errno;
	return 0;
}

static void set_offset(struct kmqd_trace *t)
{
	struct timespec rt, mono;
	struct kmq_control c = { 0 };
	__u32 zero = 0;
	int fd = bpf_map__fd(t->skel->maps.control);

	bpf_map_lookup_elem(fd, &zero, &c);
	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	c.realtime_off_ns = ((__s64)rt.tv_sec - mono.tv_sec) * 1000000000LL +
			    (rt.tv_nsec - mono.tv_nsec);
	c.base_users = t->base_users;
	bpf_map_update_elem(fd, &zero, &c, BPF_ANY);
}

static void add_link(struct linkset *s, struct bpf_link *l)
{
	if (s->n < MAX_LINKS)
		s->l[s->n++] = l;
	else
		bpf_link__destroy(l);
}

static void drop_links(struct linkset *s)
{
	while (s->n)
		bpf_link__destroy(s->l[--s->n]);
}

static void attach_tracepoints(struct kmqd_trace *t)
{
	struct bpf_program *p;
	unsigned int n = 0;

	if (t->tp_attached ||
	    access("/sys/kernel/tracing/events/kmq/kmq_send/id", F_OK))
		return;
	bpf_object__for_each_program(p, t->skel->obj) {
		struct bpf_link *l;

		if (strncmp(bpf_program__section_name(p), "tracepoint/", 11))
			continue;
		l = bpf_program__attach(p);
		if (!l) {
			say_level(t, 4, "%s: %s", bpf_program__name(p),
				  strerror(errno));
			continue;
		}
		add_link(&t->links, l);
		n++;
	}
	t->tp_attached = true;
	say(t, "%u kmq.ko tracepoints attached", n);
}

/* attach_usdt - the probes in @path into @set: the rare ones with
 * @rare, libkmq's per-message ones with @fast, kmqd's with @msgs. */
static int attach_usdt(struct kmqd_trace *t, struct linkset *set,
		       const char *path, bool rare, bool fast, bool msgs,
		       bool quiet_if_none)
{
	static const struct {
		const char *prog, *provider, *probe;
		bool fastpath;	/* per message: only when asked for */
	} probes[] = {
		{ "kmq_usdt_send", "kmq", "send", true },
		{ "kmq_usdt_recv", "kmq", "recv", true },
		{ "kmq_usdt_release", "kmq", "release", true },
		{ "kmqd_usdt_qcreate", "kmqd", "queue_create", false },
		{ "kmqd_usdt_qdelete", "kmqd", "queue_delete", false },
		{ "kmqd_usdt_repair", "kmqd", "repair", false },
		{ "kmqd_usdt_publish", "kmqd", "publish", true },
		{ "kmqd_usdt_deliver", "kmqd", "deliver", true },
		{ "kmqd_usdt_retry", "kmqd", "retry", true },
		{ "kmqd_usdt_send", "kmqd", "send", true },
		{ "kmqd_usdt_lease", "kmqd", "lease", true },
		{ "kmqd_usdt_delete", "kmqd", "delete", true },
		{ "kmqd_usdt_expired", "kmqd", "lease_expired", true },
		{ "kmqd_usdt_drop", "kmqd", "drop", true },
		{ "kmqd_usdt_dlq", "kmqd", "dead_letter", true },
		{ "kmqd_usdt_tick", "kmqd", "tick", false },
	};
	unsigned int i, n = 0;

	for (i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		struct bpf_program *p;
		struct bpf_link *l;

		if (probes[i].fastpath ?
		    !(probes[i].provider[3] ? msgs : fast) :	/* "kmqd" : "kmq" */
		    !rare)
			continue;
		p = bpf_object__find_program_by_name(t->skel->obj,
						     probes[i].prog);
		if (!p)
			continue;
		l = bpf_program__attach_usdt(p, -1, path, probes[i].provider,
					     probes[i].probe, NULL);
		if (!l)
			continue;	/* this file has no such probe */
		add_link(set, l);
		n++;
	}
	if (n || !quiet_if_none)
		say(t, "%s: %u USDT probes attached", path, n);
	return n;
}

static const char *find_libkmq(char *buf, size_t len)
{
	static const char *const dirs[] = { "/usr/local/lib", "/usr/lib",
		"/usr/lib/x86_64-linux-gnu" };
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	unsigned int i;

	if (n > 0) {
		char *slash;

		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			strncat(self, "/../lib/libkmq.so.0",
				sizeof(self) - strlen(self) - 1);
			if (len >= PATH_MAX && realpath(self, buf) &&
			    !access(buf, R_OK))
				return buf;
		}
	}
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(buf, len, "%s/libkmq.so.0", dirs[i]);
		if (!access(buf, R_OK))
			return buf;
	}
	return NULL;
}

static int pin_all(struct kmqd_trace *t, mode_t mode, gid_t gid)
{
	struct bpf_map *m;
	char path[PATH_MAX];
	int err;

	err = mkdirs(t->pin_dir, 0755);
	if (err)
		return err;
	if (gid != (gid_t)-1 && chown(t->pin_dir, (uid_t)-1, gid))
		return -errno;
	bpf_object__for_each_map(m, t->skel->obj) {
		const char *name = bpf_map__name(m);

		/* Not scratch, .rodata, nor libbpf's own USDT maps. */
		if (bpf_map__type(m) == BPF_MAP_TYPE_PERCPU_ARRAY ||
		    strchr(name, '.') || !strncmp(name, "__", 2))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", t->pin_dir, name) >=
		    (int)sizeof(path))
			return -ENAMETOOLONG;
		unlink(path);	/* a stale pin of an earlier run */
		err = bpf_map__pin(m, path);
		if (err)
			return err;
		/* Who may read may trace: consuming a ring buffer maps its
		 * consumer position writable, so "events" takes write bits
		 * where the others have read bits. */
		if (chmod(path, bpf_map__type(m) == BPF_MAP_TYPE_RINGBUF ?
				mode | (mode & 0044) >> 1 : mode) ||
		    (gid != (gid_t)-1 && chown(path, (uid_t)-1, gid)))
			return -errno;
	}
	return 0;
}

static void unpin_all(struct kmqd_trace *t)
{
	struct bpf_map *m;

	bpf_object__for_each_map(m, t->skel->obj)
		if (bpf_map__is_pinned(m))
			bpf_map__unpin(m, NULL);
	rmdir(t->pin_dir);
	rmdir(KMQ_TRACE_PIN_ROOT);	/* if no other version is there */
}

int kmqd_trace_start(struct kmqd_trace **tp, const struct kmqd_trace_opts *o)
{
	static const struct kmqd_trace_opts defaults = { .pin_gid = (gid_t)-1 };
	struct kmqd_trace *t;
	char lib[PATH_MAX];
	int err;

	*tp = NULL;
	if (!o)
		o = &defaults;
	log_fn = o->log;
	libbpf_set_print(libbpf_log);
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->quiet = o->quiet;
	snprintf(t->pin_dir, sizeof(t->pin_dir), "%s",
		 o->pin_dir ? o->pin_dir : KMQ_TRACE_PIN_DIR);

	if (access("/sys/kernel/btf/vmlinux", R_OK) ||
	    (ensure_fs("/sys/fs/bpf", "bpf", BPF_FS_MAGIC) &&
	     !o->pin_dir)) {
		say_level(NULL, 4, "this kernel has no BPF (or no BTF, or no bpffs): "
			  "tracing is off");
		free(t);
		return -EOPNOTSUPP;
	}
	ensure_fs("/sys/kernel/tracing", "tracefs", TRACEFS_MAGIC);

	t->skel = kmq_bpf__open_and_load();
	if (!t->skel) {
		err = -errno;
		say_err("cannot load the BPF programs: %s (tracing is off)",
			strerror(-err));
		free(t);
		return err ? err : -EOPNOTSUPP;
	}
	err = pin_all(t, o->pin_mode ? o->pin_mode : 0640, o->pin_gid);
	if (err) {
		say_err("cannot pin the maps under %s: %s", t->pin_dir,
			strerror(-err));
		goto err_destroy;
	}
	/* The user references of "events" that are not a tracer's: the
	 * skeleton's fd and the pin (see struct kmq_control). */
	t->base_users = 2;
	set_offset(t);
	attach_tracepoints(t);
	if (o->usdt_paths) {
		const char *const *p;

		for (p = o->usdt_paths; *p; p++)
			attach_usdt(t, &t->links, *p, true, o->fastpath,
				    o->fastpath || o->messages, false);
	} else if (find_libkmq(lib, sizeof(lib))) {
		attach_usdt(t, &t->links, lib, true, o->fastpath, false, false);
	} else {
		say(t, "no libkmq.so.0 found: no USDT probes attached");
	}
	/* This program's own (kmqd's probes, when this is kmqd): the rare
	 * ones; the per-message ones always with o->messages, else while
	 * someone traces (kmqd_trace_refresh). */
	{
		ssize_t n = readlink("/proc/self/exe", t->self, sizeof(t->self) - 1);

		t->self[n > 0 ? n : 0] = '\0';
		t->msgs_always = o->messages;
		if (t->self[0])
			attach_usdt(t, &t->links, t->self, true, false, o->messages, true);
	}
	say(t, "maps pinned under %s", t->pin_dir);
	*tp = t;
	return 0;

err_destroy:
	unpin_all(t);
	kmq_bpf__destroy(t->skel);
	free(t);
	return err;
}

/*
 * on_demand - kmqd's per-message probes cost a uprobe trap per publish and
 * delivery (topic fan-out ~20x slower), so unless asked for always they
 * are attached only while someone traces: kmqd:tick runs a program that
 * reads the events map's reference count (as every program does) into
 * control.tracing_seen, and we follow it. A tracer's first second may go
 * unseen.
 */
static void on_demand(struct kmqd_trace *t)
{
	struct kmq_control c = { 0 };
	__u32 zero = 0;

	if (t->msgs_always || !t->self[0])
		return;
	KMQD_PROBE1(tick, t->ticks++);
	if (bpf_map_lookup_elem(bpf_map__fd(t->skel->maps.control), &zero, &c))
		return;
	if (c.tracing_seen && !t->msgs_on) {
		attach_usdt(t, &t->mlinks, t->self, false, false, true, true);
		t->msgs_on = true;
		if (t->mlinks.n)
			say(t, "someone traces: %u per-message probes of kmqd attached",
			    t->mlinks.n);
	} else if (!c.tracing_seen && t->msgs_on) {
		if (t->mlinks.n)
			say(t, "nobody traces: kmqd's per-message probes detached");
		drop_links(&t->mlinks);
		t->msgs_on = false;
	}
}

void kmqd_trace_refresh(struct kmqd_trace *t)
{
	if (!t)
		return;
	set_offset(t);
	attach_tracepoints(t);
	on_demand(t);
}

void kmqd_trace_stop(struct kmqd_trace *t, bool unpin)
{
	if (!t)
		return;
	drop_links(&t->mlinks);
	drop_links(&t->links);
	if (unpin)
		unpin_all(t);
	kmq_bpf__destroy(t->skel);
	free(t);
}
