// SPDX-License-Identifier: GPL-2.0
/*
 * kmqd: options, configuration, start-up in order (log, loop, backend,
 * store, socket), the main loop, reload on SIGHUP and a clean shutdown on
 * SIGTERM/SIGINT, unwinding in reverse.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include "kmqd.h"
#include "trace.h"
#include "genl.h"
#include "topic.h"

/* Options given on the command line override the file: kept as the file's
 * (section, key, value) and applied again on every reload. */
struct override {
	const char *section, *key, *value;
};
static struct override overrides[16];
static unsigned int noverrides;

static void usage(FILE *f)
{
	fprintf(f,
"Usage: kmqd [OPTION]...\n"
"The kmq daemon: serves kmq queues from shared memory where kmq.ko is not\n"
"loaded (the shm backend), and runs beside kmq.ko where it is (the kernel\n"
"backend: libkmq talks to /dev/kmq itself). Runs in the foreground.\n"
"\n"
"  -c, --config FILE     INI configuration (default " KMQD_CONFIG_PATH " if it\n"
"                        exists; else the built-in one, see --print-default)\n"
"  -s, --socket PATH     control socket, [daemon] socket\n"
"                        (default " KMQ_WIRE_SOCKET "; libkmq: $KMQ_SOCKET)\n"
"  -d, --state-dir DIR   state directory with the queues, [daemon] state_dir\n"
"                        (default " KMQD_STATE_DIR ")\n"
"  -b, --backend B       auto, kernel or shm, [daemon] backend (default auto:\n"
"                        $KMQ_BACKEND if set, else kernel when /dev/kmq exists)\n"
"  -l, --log TARGET      stderr or syslog, [log] target (default stderr)\n"
"  -L, --log-level LVL   error, warning, info or debug, [log] level\n"
"  -v, --verbose         --log-level debug\n"
"      --no-trace        do not load the BPF tracing, [trace] enabled = no\n"
"                        (default: loaded where BPF is, maps pinned under\n"
"                        [trace] pin_dir, /sys/fs/bpf/kmq/v2; see README)\n"
"  -t, --test-config     check the configuration, print it, and exit\n"
"      --print-default   print the built-in configuration and exit\n"
"  -h, --help            this help\n"
"  -V, --version         the version\n"
"\n"
"Signals: SIGHUP re-reads the configuration and logs what changed; SIGTERM\n"
"and SIGINT stop kmqd cleanly (queues stay in the state directory, and a\n"
"new kmqd adopts them, as it does after a crash).\n"
"Exit status: 0 after a clean stop, 1 on errors, 2 on bad usage.\n");
}

static int load(struct kmqd *d, struct config *c, char *err, size_t errlen)
{
	unsigned int i;
	int ret;

	config_defaults(c);
	if (d->config_path) {
		ret = config_load(c, d->config_path, err, errlen);
		if (ret == -ENOENT && !d->config_required)
			ret = 0;
		if (ret)
			return ret;
	}
	for (i = 0; i < noverrides; i++) {
		ret = config_set(c, overrides[i].section, overrides[i].key,
				 overrides[i].value, err, errlen);
		if (ret)
			return ret;
	}
	return 0;
}

/* kmqd_reload - SIGHUP: read the configuration again; apply what can be
 * applied live, and say what changed. A bad file changes nothing. */
void kmqd_reload(struct kmqd *d)
{
	struct config c;
	char err[512], diff[1024];

	if (load(d, &c, err, sizeof(err))) {
		log_err("reload: %s; keeping the running configuration", err);
		kmqd_event_publish(d, "reload", NULL, "failed: configuration kept");
		return;
	}
	config_diff(&d->cfg, &c, diff, sizeof(diff));
	if (!diff[0]) {
		log_info("reload: nothing changed");
		kmqd_event_publish(d, "reload", NULL, "nothing changed");
		return;
	}
	if (strcmp(c.socket, d->cfg.socket) || strcmp(c.state_dir, d->cfg.state_dir) ||
	    c.backend != d->cfg.backend)
		log_warn("reload: socket, state_dir and backend take effect at the next start");
	/* Those three stay as they run; everything else applies now. */
	strcpy(c.socket, d->cfg.socket);
	strcpy(c.state_dir, d->cfg.state_dir);
	c.backend = d->cfg.backend;
	c.socket_mode = d->cfg.socket_mode;
	d->cfg = c;
	log_setup(c.log_target, c.log_level);
	log_info("reload: %s", diff);
	topic_reload(d);
	kmqd_event_publish(d, "reload", NULL, diff);
}

/* choose_backend - shm unless kmq.ko serves queues here. */
static int choose_backend(struct kmqd *d)
{
	const char *env = getenv("KMQ_BACKEND");
	bool dev = access(KMQ_DEVICE, F_OK) == 0;
	enum backend_choice b = d->cfg.backend;

	if (b == BACKEND_AUTO && env && *env) {
		if (!strcmp(env, "shm"))
			b = BACKEND_SHM;
		else if (!strcmp(env, "kernel"))
			b = BACKEND_KERNEL;
		else {
			log_err("KMQ_BACKEND='%s' is neither kernel nor shm", env);
			return -EINVAL;
		}
	}
	if (b == BACKEND_AUTO)
		b = dev ? BACKEND_KERNEL : BACKEND_SHM;
	if (b == BACKEND_KERNEL && !dev) {
		log_err("backend kernel: no %s (is kmq.ko loaded?)", KMQ_DEVICE);
		return -ENODEV;
	}
	d->shm = b == BACKEND_SHM;
	d->backend_why = d->shm ? (dev ? "shm (chosen)" : "shm (no " KMQ_DEVICE ")")
				: "kernel (" KMQ_DEVICE ")";
	return 0;
}

static int add_override(const char *section, const char *key, const char *value)
{
	if (noverrides >= sizeof(overrides) / sizeof(overrides[0]))
		return -E2BIG;
	overrides[noverrides++] = (struct override){ section, key, value };
	return 0;
}

/* A notification of kmq.ko's netlink family: log it, pass it on. */
static void on_genl_event(void *arg, const char *type, const char *queue,
			  const char *detail)
{
	kmqd_event_publish(arg, type, queue, detail);
}

static void on_genl_readable(struct kmqd *d, void *arg, uint32_t revents)
{
	kmqd_genl_process(arg);
}

/* Subscribe to the module's events; on failure log why and run on. */
/* BPF tracing (daemon/trace.c): loaded at start when [trace] enabled says
 * so; a kernel without BPF only logs one line. Refreshed once a second. */
static struct kmqd_trace *trace;
static struct timer trace_timer;

static void trace_tick(struct kmqd *d, void *arg)
{
	kmqd_trace_refresh(trace);
	timer_arm(d, &trace_timer, mono_ns() + 1000000000ULL);
}

/* The loader's and libbpf's lines: to kmqd's log (syslog or stderr). */
static void trace_log(int level, const char *msg)
{
	log_msg(level, "trace: %s", msg);
}

static void trace_start(struct kmqd *d)
{
	struct kmqd_trace_opts o = {
		.pin_dir = d->cfg.trace_pin_dir,
		.fastpath = d->cfg.trace_fastpath,
		.messages = d->cfg.trace_messages,
		.pin_gid = (gid_t)-1,
		.log = trace_log,
	};
	int err;

	if (!d->cfg.trace)
		return;
	if (d->cfg.trace_pin_group[0]) {
		struct group *g = getgrnam(d->cfg.trace_pin_group);

		if (!g) {
			log_warn("tracing: [trace] pin_group %s: no such group; pins stay root's",
				 d->cfg.trace_pin_group);
		} else {
			o.pin_gid = g->gr_gid;
		}
	}
	err = kmqd_trace_start(&trace, &o);
	if (err) {
		if (err != -EOPNOTSUPP)
			log_warn("tracing: %s; running without it", strerror(-err));
		return;
	}
	trace_timer.cb = trace_tick;
	timer_arm(d, &trace_timer, mono_ns() + 1000000000ULL);
}

static void trace_stop(struct kmqd *d)
{
	if (!trace)
		return;
	timer_cancel(d, &trace_timer);
	kmqd_trace_stop(trace, true);
	trace = NULL;
}

static void genl_start(struct kmqd *d, struct kmqd_genl **g)
{
	int err = kmqd_genl_open(g, on_genl_event, d);

	if (err) {
		*g = NULL;
		log_warn("netlink family '%s': %s; no kernel notifications",
			 KMQ_GENL_NAME, err == -ENOENT ? "absent" : strerror(-err));
		return;
	}
	err = kmqd_loop_add(d, kmqd_genl_fd(*g), EPOLLIN, on_genl_readable, *g);
	if (err) {
		log_warn("netlink notifications: %s", strerror(-err));
		kmqd_genl_close(*g);
		*g = NULL;
		return;
	}
	log_info("netlink family '%s': subscribed to its events", KMQ_GENL_NAME);
}

static void genl_stop(struct kmqd *d, struct kmqd_genl *g)
{
	if (!g)
		return;
	kmqd_loop_del(d, kmqd_genl_fd(g));
	kmqd_genl_close(g);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "state-dir", required_argument, NULL, 'd' },
		{ "backend", required_argument, NULL, 'b' },
		{ "log", required_argument, NULL, 'l' },
		{ "log-level", required_argument, NULL, 'L' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "no-trace", no_argument, NULL, 'T' },
		{ "test-config", no_argument, NULL, 't' },
		{ "print-default", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct kmqd d = { .epfd = -1, .sigfd = -1, .listen_fd = -1,
			  .queues_dir = -1, .meta_dir = -1,
			  .wake_dir = -1, .notify_dir = -1, .params_dir = -1,
			  .groups_dir = -1,
			  .config_path = KMQD_CONFIG_PATH };
	bool test = false;
	struct kmqd_genl *genl = NULL;
	char err[512];
	int opt, ret = 1;

	while ((opt = getopt_long(argc, argv, "c:s:d:b:l:L:vthV", opts, NULL)) != -1) {
		int e = 0;

		switch (opt) {
		case 'c':
			d.config_path = optarg;
			d.config_required = true;
			break;
		case 's': e = add_override("daemon", "socket", optarg); break;
		case 'd': e = add_override("daemon", "state_dir", optarg); break;
		case 'b': e = add_override("daemon", "backend", optarg); break;
		case 'l': e = add_override("log", "target", optarg); break;
		case 'L': e = add_override("log", "level", optarg); break;
		case 'v': e = add_override("log", "level", "debug"); break;
		case 'T': e = add_override("trace", "enabled", "no"); break;
		case 't': test = true; break;
		case 'P':
			fputs(config_default_ini, stdout);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("kmqd %s (wire protocol %d)\n", KMQD_VERSION, KMQ_WIRE_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
		if (e) {
			fprintf(stderr, "kmqd: too many options\n");
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "kmqd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (load(&d, &d.cfg, err, sizeof(err))) {
		fprintf(stderr, "kmqd: %s\n", err);
		return test ? 1 : 2;
	}
	if (test) {
		config_print(&d.cfg, stdout);
		return 0;
	}
	log_setup(d.cfg.log_target, d.cfg.log_level);

	ret = loop_init(&d);
	if (ret) {
		log_err("event loop: %s", strerror(-ret));
		goto err_loop;
	}
	ret = choose_backend(&d);
	if (ret)
		goto err_loop;
	if (d.shm) {
		ret = store_init(&d);
		if (ret) {
			log_err("state directory %s: %s", d.cfg.state_dir, strerror(-ret));
			goto err_store;
		}
	}
	/* Kernel backend: the module's notifications, logged and passed on
	 * to subscribers. Without the family (an older module) kmqd runs on. */
	if (!d.shm)
		genl_start(&d, &genl);
	topic_init(&d);
	trace_start(&d);
	ret = server_open(&d);
	if (ret) {
		log_err("socket %s: %s", d.cfg.socket,
			ret == -EADDRINUSE ? "another kmqd is serving it" : strerror(-ret));
		goto err_server;
	}
	log_info("kmqd %s: backend %s, socket %s%s%s, %u queues adopted",
		 KMQD_VERSION, d.backend_why, d.cfg.socket,
		 d.shm ? ", state " : "", d.shm ? d.cfg.state_dir : "", d.nqueues);
	ret = loop_run(&d);
	log_info("stopped");
	topic_fini(&d);
	trace_stop(&d);
	genl_stop(&d, genl);
	server_close(&d);
	store_fini(&d);
	loop_fini(&d);
	return ret ? 1 : 0;

err_server:
	topic_fini(&d);
	trace_stop(&d);
	genl_stop(&d, genl);
	store_fini(&d);
err_store:
err_loop:
	loop_fini(&d);
	return 1;
}
