/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * kmqctl: the command-line tool for kmq queues, shaped like `aws sqs`. One
 * file per subcommand; this header is what they share: argument parsing
 * that fails with one line on stderr, and JSON output through json-c.
 */
#ifndef KMQCTL_H
#define KMQCTL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <getopt.h>
#include <json-c/json.h>
#include <kmq.h>

/* Exit statuses: 0 success, 1 the operation failed, 2 bad usage. */
#define EXIT_FAIL	1
#define EXIT_USAGE	2

/* Queue URLs: kmq:///NAME (no host: the local one). */
#define QUEUE_URL_PREFIX	"kmq:///"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *usage;	/* arguments, one line */
	const char *help;	/* what it does, one line */
};

extern const struct command commands[];

int create_queue_main(int argc, char **argv);
int delete_queue_main(int argc, char **argv);
int list_queues_main(int argc, char **argv);
int send_message_main(int argc, char **argv);
int receive_message_main(int argc, char **argv);
int get_queue_attributes_main(int argc, char **argv);
int set_queue_attributes_main(int argc, char **argv);
int delete_message_main(int argc, char **argv);
int change_message_visibility_main(int argc, char **argv);
int send_message_batch_main(int argc, char **argv);
int delete_message_batch_main(int argc, char **argv);
int purge_queue_main(int argc, char **argv);
int start_message_move_task_main(int argc, char **argv);
int help_main(int argc, char **argv);
int top_main(int argc, char **argv);
int trace_main(int argc, char **argv);

/* top.c: the pin directory of kmq's BPF maps (@opt, else $KMQ_TRACE_PIN_DIR,
 * else /sys/fs/bpf/kmq/v2), and an fd on its map @map, read-only unless
 * @write (-1, with the reason printed: no pin, the pin's permissions, or
 * kernel.unprivileged_bpf_disabled). */
const char *trace_pin_dir(const char *opt);
int trace_pin_fd(const char *cmd, const char *dir, const char *map,
		 bool write);

/* fail - print "kmqctl: <what>: <error text for -@err>" and return @status. */
int fail(int status, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Option parsing for a subcommand: getopt_long over argv (argv[0] is the
 * subcommand). next_opt() returns the option's val, -1 at the end, or 0
 * after printing a one-line error for an unknown option or a missing value
 * (the caller exits with EXIT_USAGE). -h/--help print usage and return 'h'.
 */
int next_opt(int argc, char **argv, const struct option *opts);
/* usage - print @cmd's usage to stdout. */
void usage(const char *cmd);

/* parse_uint - @s as a decimal (base 10) or octal (base 8) number in
 * [@min, @max] into *@out. Prints the error and returns -1 when it is not. */
int parse_uint(const char *cmd, const char *opt, const char *s, int base,
	       uint64_t min, uint64_t max, uint64_t *out);
/* parse_queue - a queue NAME or kmq:///NAME (NULL: --queue was not given)
 * into its name; prints the error and returns NULL when it is not valid. */
const char *parse_queue(const char *cmd, const char *s);
/* positional - the one positional argument left after options (or
 * @have, from an option). Prints the error and returns NULL otherwise. */
const char *positional(const char *cmd, int argc, char **argv,
		       const char *have, const char *what);

struct kmqnl;

/*
 * ctl_netlink - a request socket of the generic netlink family "kmq" in
 * *@nl when kmqctl should use it (queues are the kernel's and the family is
 * there; KMQ_NETLINK=0/1 forces the choice), else NULL: use libkmq. Returns
 * 0, or an exit status after printing the error.
 */
int ctl_netlink(const char *cmd, struct kmqnl **nl);
/* ctl_netlink_fail - print "kmqctl: CMD: WHAT: <error> (<kernel's reason>)",
 * close @nl and return EXIT_FAIL. */
int ctl_netlink_fail(const char *cmd, struct kmqnl *nl, int err,
		     const char *what);
/* queue_only - the argument of a verb that takes just a queue, as --queue
 * NAME, --queue-url URL or positionally (@what names it in the usage
 * error): 0 with *@name set, 1 after --help, -1 after printing a usage
 * error. */
int queue_only(int argc, char **argv, const char *what, const char **name);
/* queue_and - the arguments of a verb that takes --queue NAME and one
 * more required --@opt VALUE: 0 with both set, 1 after --help, -1 after
 * printing a usage error. */
int queue_and(int argc, char **argv, const char *opt, const char **name,
	      const char **val);

/* queue_url - "kmq:///NAME" into @buf. */
const char *queue_url(char *buf, size_t len, const char *name);

/* read_all - the whole of @fd into a malloc'd buffer, at most @max bytes
 * (-EMSGSIZE beyond). Returns the length or -errno. */
ssize_t read_all(int fd, size_t max, unsigned char **out);

/* md5_hex - the MD5 of @data as 32 hex digits (aws's MD5OfMessageBody). */
void md5_hex(const void *data, size_t len, char out[33]);

/* json_body - @data as a JSON string when it is valid UTF-8, else base64;
 * *@base64 tells which. */
struct json_object *json_body(const void *data, size_t len, bool *base64);

/* json_u64 - a number as a JSON string, as aws prints attribute values. */
struct json_object *json_u64(uint64_t v);

/* print_json - print @obj to stdout the way aws does, and free it.
 * Returns 0 or EXIT_FAIL after printing a write error. */
int print_json(const char *cmd, struct json_object *obj);
/* batch_failed - one "Failed" entry of a batch verb, as aws prints it. */
struct json_object *batch_failed(const char *id, bool sender, const char *code,
				 const char *msg);
/* print_batch - {"Successful": @ok, "Failed": @bad}, printed and freed;
 * the exit status. */
int print_batch(const char *cmd, struct json_object *ok, struct json_object *bad);

/* ---- SQS semantics (sqsargs.c): the arguments and output of the verbs
 * that aws sqs shapes. Parsers print one error line naming the field and
 * its valid range, and return -1; they touch no queue. */

/* Queue attributes given with --attributes; has_* say which. */
struct qattrs {
	bool has_vis, has_ret, has_delay, has_wait, has_size, has_redrive,
	     has_fifo, has_cbd;
	uint32_t vis, ret, delay, wait, size, max_receive;
	bool fifo, cbd;
	char dlq[KMQ_NAME_LEN];		/* "" with has_redrive: remove it */
};

/* parse_qattrs - a JSON object of string values, or Key=Value,... */
int parse_qattrs(const char *cmd, const char *arg, struct qattrs *a);
/* qattrs_apply - @a onto policy @p; -1 (printed) for what cannot change
 * (FifoQueue) or does not apply (ContentBasedDeduplication off FIFO). */
int qattrs_apply(const char *cmd, const struct qattrs *a,
		 struct kmq_policy *p);

/* parse_name_or_arn - a queue NAME, kmq:///NAME or
 * arn:aws:sqs:REGION:ACCOUNT:NAME into its name (NULL, printed: bad). */
const char *parse_name_or_arn(const char *cmd, const char *opt,
			      const char *s);
/* queue_arn - "arn:aws:sqs:local:000000000000:NAME" into @buf. */
const char *queue_arn(char *buf, size_t len, const char *name);

/* Message attributes of one message (--message-attributes, or an entry's
 * MessageAttributes): the attributes point into @json and @bin. */
struct mattrs {
	struct kmq_attr a[KMQ_ATTR_MAX];
	unsigned int n;
	struct json_object *json;		/* owned */
	unsigned char *bin[KMQ_ATTR_MAX];	/* decoded BinaryValues */
};

int parse_mattrs(const char *cmd, const char *what, const char *arg,
		 struct mattrs *m);
int mattrs_from_json(const char *cmd, const char *what,
		     struct json_object *obj, struct mattrs *m);
void mattrs_free(struct mattrs *m);

/* md5_attrs_hex - MD5OfMessageAttributes as SQS computes it. */
void md5_attrs_hex(const struct kmq_attr *a, unsigned int n, char out[33]);
/* json_mattrs - {"name": {"StringValue"|"BinaryValue": ..., "DataType":
 * ...}} as aws prints MessageAttributes. */
struct json_object *json_mattrs(const struct kmq_attr *a, unsigned int n);

/* One entry of send-message-batch --entries. */
struct send_entry {
	const char *id, *body, *group, *dedup;
	size_t len;
	int delay_s;			/* -1: none given */
	struct mattrs attrs;
};
/* One entry of delete-message-batch --entries: the handle string is
 * checked later, so that a bad one fails only its entry, as in aws. */
struct receipt_entry {
	const char *id, *handle;
};

/* One entry of publish-batch --entries (aws sns publish-batch). */
struct pub_entry {
	const char *id, *body, *subject, *group, *dedup;
	size_t len;
	struct mattrs attrs;
};
/* parse_publish_entries - as parse_send_entries, for publish-batch. */
int parse_publish_entries(const char *cmd, const char *arg,
			  struct pub_entry *e, struct json_object **root);

/* parse_send_entries / parse_receipt_entries - a JSON array of 1..10
 * entries with distinct Ids; *@root keeps the strings (json_object_put
 * it, and mattrs_free each send entry's attrs). Return the count or -1. */
int parse_send_entries(const char *cmd, const char *arg,
		       struct send_entry *e, struct json_object **root);
int parse_receipt_entries(const char *cmd, const char *arg,
			  struct receipt_entry *e, struct json_object **root);

/* Receipt handles: the kernel's 64-bit receipt as 20 characters of
 * base64 with a version byte and a 32-bit check, so a mistyped or
 * made-up handle is told apart from a stale one. */
#define RECEIPT_STR_LEN	20
void receipt_encode(uint64_t receipt, char out[RECEIPT_STR_LEN + 1]);
int receipt_decode(const char *s, uint64_t *receipt);	/* 0 or -EINVAL */

/* parse_names_list - a comma list of names into @want (indexes of @names,
 * "All" for every one); -1 (printed) for a name not in @names. */
int parse_names_list(const char *cmd, const char *opt, const char *list,
		     const char *const *names, size_t n, bool *want);

/* sqs_error_code - the aws error code for a -errno of one message. */
const char *sqs_error_code(int err);

/* settle_one (delete-message.c) - delete (@vis < 0) or change the
 * visibility of the message behind receipt handle string @handle on queue
 * @name, printing any error. Returns the exit status. */
int settle_one(const char *cmd, const char *name, const char *handle, int vis);
/* policy_error (set-queue-attributes.c) - print the error of setting @p. */
int policy_error(const char *cmd, const char *name, const struct kmq_policy *p,
		 int err);

/* ---- Topics (topicargs.c) ---- */
int create_topic_main(int argc, char **argv);
int delete_topic_main(int argc, char **argv);
int list_topics_main(int argc, char **argv);
int get_topic_attributes_main(int argc, char **argv);
int subscribe_main(int argc, char **argv);
int unsubscribe_main(int argc, char **argv);
int list_subscriptions_main(int argc, char **argv);
int get_subscription_attributes_main(int argc, char **argv);
int set_subscription_attributes_main(int argc, char **argv);
int publish_main(int argc, char **argv);
int publish_batch_main(int argc, char **argv);

/* The arguments of a topic verb: each --@opt (or --@alias) VALUE into
 * *@val (which holds its default on entry); @required ones must be given;
 * the one @positional may be given as the verb's argument instead; a
 * @flag takes no value (*@val becomes "" when given). */
struct targ {
	const char *opt, *alias;
	const char **val;
	bool required, positional, flag;
};
/* topic_args - parse @argv by @a (@n of them, at most 8): 0, 1 after
 * --help, -1 after printing a usage error. */
int topic_args(int argc, char **argv, const struct targ *a, unsigned int n);
/* sub_verb - a verb that takes just --subscription-arn ARN (or ARN):
 * sends request @op for it and prints the reply when @print. Returns the
 * exit status. */
int sub_verb(int argc, char **argv, const char *op, bool print);
/* topic_verb - the same for verbs that take just --topic NAME|ARN. */
int topic_verb(int argc, char **argv, const char *op, bool print);
/* pub_error_code - the aws sns error code for a -errno of one publish. */
const char *pub_error_code(int err);

/* topic_req - {"op": @op}; req_str - add a string field (NULL: none). */
struct json_object *topic_req(const char *op);
void req_str(struct json_object *req, const char *key, const char *val);
/* topic_request - send @req (consumed) to kmqd; print the reply when
 * @print and it is not empty. Returns the exit status (errors printed
 * with kmqd's reason). */
int topic_request(const char *cmd, struct json_object *req, bool print);
/* parse_string_map - --attributes as a JSON object of strings or
 * Key=Value,... (values may be JSON); NULL after printing the error. */
struct json_object *parse_string_map(const char *cmd, const char *opt,
				     const char *arg);

#endif /* KMQCTL_H */
