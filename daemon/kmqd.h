/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kmqd: the daemon's shared state and the interfaces between its files.
 * One concept per file: main.c (options, start-up, shutdown), config.c,
 * log.c, loop.c (epoll, timers, signals), server.c (socket, connections,
 * framing), frame.c (request validation), store.c (the shm queue store),
 * repair.c, copy.c (the copying path and waits), sqs.c (SQS semantics),
 * events.c (SUBSCRIBE).
 * kmqd is single-threaded: nothing here is locked.
 */
#ifndef KMQD_H
#define KMQD_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>
#include <kmq.h>
#include <kmq/wire.h>

#define KMQD_VERSION		"0.1.0"
#define KMQD_CONFIG_PATH	"/etc/kmq/kmqd.conf"
#define KMQD_STATE_DIR		"/run/kmq"
/* [topics] http_allow's default: loopback only (daemon/README.md). */
#define TOPICS_HTTP_ALLOW_DEFAULT \
	"http://127.0.0.1, http://[::1], http://localhost, " \
	"https://127.0.0.1, https://[::1], https://localhost"

struct kmqd;
struct conn;
struct queue;

/* ---- config.c ---------------------------------------------------------- */

enum backend_choice { BACKEND_AUTO, BACKEND_KERNEL, BACKEND_SHM };
enum log_target { LOG_TO_STDERR, LOG_TO_SYSLOG };

struct config {
	char socket[108];		/* sun_path */
	char state_dir[256];
	unsigned int socket_mode;
	enum backend_choice backend;
	enum log_target log_target;
	int log_level;			/* LOG_ERR .. LOG_DEBUG */
	unsigned int max_connections;
	unsigned int max_queues;
	unsigned long long max_bytes;	/* all queues' memory */
	unsigned int max_events;	/* queued event frames per subscriber */
	bool trace;			/* [trace] enabled: load bpf/ (trace.h) */
	bool trace_fastpath;		/* [trace] fastpath: libkmq's probes too */
	bool trace_messages;		/* [trace] messages: kmqd's per-message probes */
	char trace_pin_dir[200];	/* [trace] pin_dir */
	char trace_pin_group[64];	/* [trace] pin_group: "" none */
	char http_allow[1024];		/* [topics] http_allow: URL prefixes
					 * http(s) subscriptions may name */
};

/* The embedded default configuration, as INI text (kmqd --help prints it). */
extern const char config_default_ini[];

/* config_defaults - @c as the embedded default configuration says. */
void config_defaults(struct config *c);
/* config_load - parse INI file @path over @c (which holds defaults). On
 * error returns -errno (-ENOENT: no file) or -EINVAL with a one-line reason
 * (file:line: what) in @err; @c is then unspecified: load into a copy. */
int config_load(struct config *c, const char *path, char *err, size_t errlen);
/* config_load_string - the same for INI text @ini (named @what in errors). */
int config_load_string(struct config *c, const char *ini, const char *what,
		       char *err, size_t errlen);
/* config_set - set one key as the file would ("section", "key", "value"). */
int config_set(struct config *c, const char *section, const char *key,
	       const char *value, char *err, size_t errlen);
/* config_diff - describe in @out what differs from @a to @b ("" if nothing):
 * "key: old -> new; ..." */
void config_diff(const struct config *a, const struct config *b, char *out,
		 size_t outlen);
/* config_print - the effective configuration as INI, to @f. */
void config_print(const struct config *c, void *f);
const char *backend_name(enum backend_choice b);

/* ---- log.c ------------------------------------------------------------- */

/* log_setup - log to stderr or syslog, messages up to @level. */
void log_setup(enum log_target t, int level);
void log_msg(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
#define log_err(...)	log_msg(3, __VA_ARGS__)
#define log_warn(...)	log_msg(4, __VA_ARGS__)
#define log_info(...)	log_msg(6, __VA_ARGS__)
#define log_debug(...)	log_msg(7, __VA_ARGS__)
/* log_level_parse - "error|warning|info|debug" to a LOG_* level; -1. */
int log_level_parse(const char *s);
const char *log_level_name(int level);

/* ---- loop.c ------------------------------------------------------------ */

typedef void (*kmqd_fd_cb)(struct kmqd *d, void *arg, uint32_t revents);

/* kmqd_loop_add - watch @fd for epoll @events; @cb runs with @arg and the
 * events that fired. One watch per fd. Returns 0 or -errno. A callback may
 * add and delete watches (its own too); it may be called once spuriously
 * after an fd number is reused within one loop turn, so it must not block. */
int kmqd_loop_add(struct kmqd *d, int fd, uint32_t events,
		  void (*cb)(struct kmqd *d, void *arg, uint32_t revents),
		  void *arg);
/* kmqd_loop_mod - change the events watched on @fd. */
int kmqd_loop_mod(struct kmqd *d, int fd, uint32_t events);
/* kmqd_loop_del - stop watching @fd (before closing it). No-op if unwatched. */
void kmqd_loop_del(struct kmqd *d, int fd);

struct timer {
	uint64_t at;			/* CLOCK_MONOTONIC ns; 0: not armed */
	void (*cb)(struct kmqd *d, void *arg);
	void *arg;
	struct timer *next;
};
/* timer_arm - run @t->cb at @at (monotonic ns); rearming moves it. */
void timer_arm(struct kmqd *d, struct timer *t, uint64_t at);
void timer_cancel(struct kmqd *d, struct timer *t);
uint64_t mono_ns(void);
uint64_t real_ns(void);

/* loop_init - epoll and a signalfd for SIGTERM, SIGINT, SIGHUP. */
int loop_init(struct kmqd *d);
/* loop_run - dispatch until kmqd_stop(); returns 0. */
int loop_run(struct kmqd *d);
void loop_fini(struct kmqd *d);
void kmqd_stop(struct kmqd *d);

/* ---- server.c ---------------------------------------------------------- */

/* server_open - bind and listen on @d->cfg.socket (replacing a stale
 * socket file, refusing a live one: -EADDRINUSE). */
int server_open(struct kmqd *d);
void server_close(struct kmqd *d);
/* conn_reply - queue a reply to @c's current request: @status, @body of
 * @len bytes, and @nfds fds to pass (not closed). Returns 0 or -errno. */
int conn_reply(struct conn *c, int status, const void *body, size_t len,
	       const int *fds, int nfds);
/* conn_replyv - a reply whose body is @n pieces. */
struct piece {
	const void *p;
	size_t len;
};
int conn_replyv(struct conn *c, int status, const struct piece *pc, int n);
/* conn_reply_err - a failed reply with a message for humans. */
int conn_reply_err(struct conn *c, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* conn_send_event - queue an event frame to subscriber @c (dropped and
 * counted when its queue is full). */
void conn_send_event(struct conn *c, const struct kmq_wire_event *ev);
/* conn_resume - a parked request of @c was answered: read the next. */
void conn_resume(struct conn *c);
/* Peer credentials of @c. */
pid_t conn_pid(const struct conn *c);
uid_t conn_uid(const struct conn *c);
gid_t conn_gid(const struct conn *c);
bool conn_in_group(const struct conn *c, gid_t g);
/* The queue @c opened (NULL) and its client id there. */
struct queue *conn_queue(const struct conn *c);
uint32_t conn_client_id(const struct conn *c);
void conn_set_queue(struct conn *c, struct queue *q, uint32_t id,
		    uint32_t flags);
uint32_t conn_open_flags(const struct conn *c);
bool conn_subscribed(const struct conn *c);
/* copy.c's state of a connection: slots whose reply is in flight, and a
 * parked WAIT. */
struct conn_copy {
	uint32_t held[KMQ_BATCH_MAX];
	unsigned int nheld;
	bool waiting;
	struct kmq_wire_wait wait;
	struct timer timer;		/* the WAIT's timeout */
	struct timer stall;		/* a look again: see copy.c */
	uint64_t stall_ns;
	struct conn *conn;
	struct conn_copy *wnext;	/* the queue's waiters */
};
struct conn_copy *conn_copy(struct conn *c);
/* sqs.c's state of a connection: a parked SQS_RECV (long polling). */
struct conn_sqs {
	bool waiting;
	unsigned char req[sizeof(struct kmq_sqsio) +
			  KMQ_SQS_BATCH_MAX * sizeof(struct kmq_sqsmsg)];
	uint64_t deadline;		/* monotonic ns; 0: no limit */
	struct timer timer;		/* the deadline, or a look again */
	struct conn *conn;
	struct conn_sqs *next;		/* the queue's parked receivers */
	/* a plain RECV of a FIFO queue: leased until the reply left */
	uint64_t held[KMQ_BATCH_MAX];
	unsigned int nheld;
};
struct conn_sqs *conn_sqs(struct conn *c);
void conn_subscribe(struct conn *c);
/* Call @fn on every connection. */
void conn_for_each(struct kmqd *d, void (*fn)(struct conn *c, void *arg),
		   void *arg);

/* ---- frame.c ----------------------------------------------------------- */

/* frame_check_hdr - is @h a request header kmqd accepts? 0, or -EPROTO /
 * -EINVAL with the reason in @why. Checked before the body is read. */
int frame_check_hdr(const struct kmq_wire_hdr *h, const char **why);
/* frame_check_body - does @body (@len bytes) fit request @cmd exactly? */
int frame_check_body(unsigned int cmd, const void *body, size_t len,
		     const char **why);
/* frame_name_ok - a name field: valid characters, zero padding. */
bool frame_name_ok(const char name[KMQ_NAME_LEN]);
bool frame_zero(const void *p, size_t len);
const char *frame_cmd_name(unsigned int cmd);

/* ---- store.c ----------------------------------------------------------- */

/* What kmqd knows of one client id of a queue. */
enum qclient_state {
	QC_FREE = 0,
	QC_LIVE,	/* bound to a connection */
	QC_DETACHED,	/* from before a restart: watched through a pidfd */
	QC_ORPHAN,	/* gone; repair waits for a ring cell */
};

struct qclient {
	enum qclient_state state;
	uint32_t id;
	pid_t pid;
	uint64_t start;		/* the process's start time (/proc stat 22) */
	uint32_t flags;		/* KMQ_OPEN_* granted */
	int pidfd;		/* QC_DETACHED */
	struct conn *conn;	/* QC_LIVE */
	struct queue *q;
};

int store_init(struct kmqd *d);
void store_fini(struct kmqd *d);
/* store_find - the queue named @name (NULL-padded field), or NULL. */
struct queue *store_find(struct kmqd *d, const char *name);
/* CREATE and DELETE requests: checked, done, answered. */
void store_create(struct kmqd *d, struct conn *c, const struct kmq_create *k);
void store_delete(struct kmqd *d, struct conn *c, const char *name);
/* store_open - open for @c: checks permissions, allocates a client id,
 * replies with the info and fds. */
void store_open(struct kmqd *d, struct conn *c, const struct kmq_open *o);
void store_reattach(struct kmqd *d, struct conn *c,
		    const struct kmq_wire_reattach *r);
/* store_hangup - @c closed: repair its client id on its queue. */
void store_hangup(struct kmqd *d, struct conn *c);
void store_info(struct queue *q, struct kmq_info *info);
/* INFO and LIST requests (an all-zero name: @c's open queue). */
void store_info_cmd(struct kmqd *d, struct conn *c, const char *name);
void store_list_cmd(struct kmqd *d, struct conn *c,
		    const struct kmq_wire_list *l);
/* store_nth - the @i-th queue by name order, or NULL. */
struct queue *store_nth(struct kmqd *d, unsigned int i, unsigned int *total);
/* store_wake - after a push that found @who asked for: wake sleepers
 * (futex, the kmq_fd() FIFO) and kick kmqd's own handlers of @q. */
void store_wake(struct queue *q, unsigned int who);
/* store_run_kicked - run the handlers of queues kicked by store_wake in
 * this process; true if some are left for the next turn. */
bool store_run_kicked(struct kmqd *d);
/* Accessors for copy.c / repair.c. */
struct kmq_fast *queue_fast(struct queue *q);
struct kmq_view *queue_view(struct queue *q);
uint32_t queue_capacity(const struct queue *q);
const char *queue_name(const struct queue *q);
void queue_count(struct queue *q, uint64_t repaired, uint64_t corrupt);
struct qclient *queue_clients(struct queue *q, unsigned int *n);
/* The WAITs parked on @q (copy.c's list). */
struct conn_copy **queue_waiters(struct queue *q);
/* Slots kmqd could not give back yet (a ring cell held by a stalled
 * popper): retried by the repair timer. */
void queue_requeue(struct kmqd *d, struct queue *q, uint32_t idx);
/* queue_client_done - repair of client @qc is complete: free its id. A
 * deleted queue whose last id went is freed by queue_maybe_free(). */
void queue_client_done(struct queue *q, struct qclient *qc);
/* queue_maybe_free - free @q if deleted and unused; true if it was. */
bool queue_maybe_free(struct kmqd *d, struct queue *q);
/* The SQS state of @q (sqs.c's), its owner, and the permission check of
 * OPEN for @flags (KMQ_OPEN_*): 0 or -EACCES. */
struct sqs *queue_sqs(struct queue *q);
uid_t queue_uid(const struct queue *q);
/* The queue after @q in name order (store_nth(d, 0) is the first), NULL. */
struct queue *queue_next(struct queue *q);
int store_permission(const struct queue *q, struct conn *c, uint32_t flags);
/* queue_persist - write @q's trusted metadata (geometry, owner, clients,
 * the SQS policy). */
int queue_persist(struct queue *q);

/* ---- repair.c ---------------------------------------------------------- */

/* repair_client - give back what client @id left on @v (the uapi header's
 * "Crash repair"). @force: no client is left, so a cell that blocks a push
 * is damage and is released. Returns how many slots still wait for a ring
 * cell (0: done); counts into *@repaired and *@corrupt. Slots kmqd holds
 * (sqs_held() of @st, whatever their header says) are left alone. */
unsigned int repair_client(struct kmq_view *v, struct sqs *st, uint32_t id,
			   bool force, __u64 *repaired, __u64 *corrupt);
/* repair_orphan - one repair pass for orphan @qc of @q; when it is done,
 * frees the id (queue_client_done). Returns true while slots still wait:
 * the caller retries on @q's repair timer (repair_kick). */
bool repair_orphan(struct kmqd *d, struct queue *q, struct qclient *qc);
/* repair_kick - (store.c) look at @q's orphans again soon, backing off
 * from 1 ms to ~1 s while nothing moves. */
void repair_kick(struct kmqd *d, struct queue *q);

/* ---- copy.c ------------------------------------------------------------ */

void copy_send(struct kmqd *d, struct conn *c, const void *body, size_t len);
void copy_recv(struct kmqd *d, struct conn *c, const void *body, size_t len);
void copy_wait(struct kmqd *d, struct conn *c, const struct kmq_wire_wait *w);
/* copy_flushed - @c's reply left kmqd: release the slots it carried. */
void copy_flushed(struct conn *c);
/* copy_abandon - @c went before its reply left: requeue those messages. */
void copy_abandon(struct kmqd *d, struct conn *c);
/* copy_cancel - @c goes: drop its parked WAIT. */
void copy_cancel(struct kmqd *d, struct conn *c);
/* copy_queue_event - @q's wake eventfd fired: retry its parked WAITs. */
void copy_queue_event(struct kmqd *d, struct queue *q);

/* ---- sqs.c ------------------------------------------------------------- */

/* sqs_init - the params directory (test knobs) and the retention sweep. */
int sqs_init(struct kmqd *d);
void sqs_fini(struct kmqd *d);
/* sqs_queue_new - SQS state for @q (a FIFO queue with @fifo), with the
 * default policy; NULL without memory. sqs_queue_free undoes it. */
struct sqs *sqs_queue_new(struct kmqd *d, struct queue *q, bool fifo);
void sqs_queue_free(struct kmqd *d, struct sqs *st);
/* The policy to persist, and one read back from the metadata. */
const struct kmq_policy *sqs_policy(struct sqs *st);
void sqs_policy_restore(struct sqs *st, const struct kmq_policy *p);
bool sqs_fifo(struct sqs *st);
/* sqs_held - does kmqd hold slot @idx (leased, delayed, queued, a push
 * pending)? Crash repair leaves such a slot alone whatever its header
 * says: a client id there is a scribble. @st may be NULL. */
bool sqs_held(struct sqs *st, uint32_t idx);
/* sqs_adopt - after a restart: take back the kernel-held slots (owner 0,
 * states LEASED, DELAYED, QUEUED) that the previous kmqd left. */
void sqs_adopt(struct kmqd *d, struct queue *q);
/* sqs_info - the SQS counters of @q into @info (and held corrected). */
void sqs_info(struct queue *q, struct kmq_info *info);
/* Requests (checked by frame.c). */
void sqs_get_policy(struct kmqd *d, struct conn *c, const struct kmq_name *n);
void sqs_set_policy(struct kmqd *d, struct conn *c, const struct kmq_policy *p);
void sqs_purge(struct kmqd *d, struct conn *c, const struct kmq_name *n);
void sqs_move(struct kmqd *d, struct conn *c, const struct kmq_move *m);
void sqs_send(struct kmqd *d, struct conn *c, const void *body, size_t len);
void sqs_recv(struct kmqd *d, struct conn *c, const void *body, size_t len);
void sqs_settle(struct kmqd *d, struct conn *c, const void *body, size_t len,
		bool chvis);
/* sqs_cancel - @c goes: drop its parked SQS_RECV, and make what a plain
 * FIFO receive held for it visible again. */
void sqs_cancel(struct kmqd *d, struct conn *c);
/* sqs_flushed - @c's reply left kmqd: delete what it carried (FIFO). */
void sqs_flushed(struct conn *c);
/* A FIFO queue's plain SEND (refused) and RECV (receive and delete under
 * the group rules), for copy.c; sqs_readable: a FIFO group is ready. */
bool sqs_fifo_queue(struct queue *q);
void sqs_fifo_plain_recv(struct kmqd *d, struct conn *c, const void *body,
			 size_t len);
bool sqs_readable(struct queue *q);
/* sqs_queue_event - @q's notify FIFO fired: retry its parked receivers. */
void sqs_queue_event(struct kmqd *d, struct queue *q);

/* ---- events.c ---------------------------------------------------------- */

/* kmqd_event_publish - log an event and send it to every subscriber.
 * @queue may be NULL or "", @detail a human-readable line. */
void kmqd_event_publish(struct kmqd *d, const char *type, const char *queue,
			const char *detail);
void events_subscribe(struct kmqd *d, struct conn *c,
		      const struct kmq_wire_sub *s);

/* ---- the daemon -------------------------------------------------------- */

struct watch;

struct kmqd {
	struct config cfg;
	const char *config_path;	/* NULL: built-in default only */
	bool config_required;		/* -c given: the file must exist */
	struct config cli;		/* options given on the command line */
	unsigned int cli_set;		/* which (CLI_* bits in main.c) */
	bool shm;			/* serving queues (shm backend) */
	const char *backend_why;	/* why this backend, for the log */

	int epfd, sigfd;
	bool stopping;
	struct watch **watches;		/* by fd */
	int nwatches;
	struct timer *timers;

	int listen_fd;
	struct conn *conns;
	unsigned int nconns;

	struct queue *queues;		/* by name */
	struct queue *kicked;		/* store_wake()s to handle this turn */
	unsigned int nqueues;
	uint64_t bytes;			/* memory of all queues */
	int queues_dir, meta_dir;	/* directories of the state dir */
	int wake_dir, notify_dir;
	int params_dir;			/* <state_dir>/params: test knobs */
	int groups_dir;			/* <state_dir>/groups: FIFO records */
	struct timer sweep;		/* retention, once a second */
};

#endif /* KMQD_H */
