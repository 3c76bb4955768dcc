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
int help_main(int argc, char **argv);

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

#endif /* KMQCTL_H */
