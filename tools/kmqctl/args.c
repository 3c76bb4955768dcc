// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/*
 * Arguments and errors: every bad argument (unknown flag, missing value,
 * non-numeric or out-of-range number, bad queue name) is reported as one
 * line "kmqctl: <what>: <error>" on stderr before anything is done.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kmqctl.h"

int fail(int status, int err, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("kmqctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s\n", kmq_strerror(err < 0 ? err : -err));
	return status;
}

int next_opt(int argc, char **argv, const struct option *opts)
{
	int c;

	opterr = 0;
	c = getopt_long(argc, argv, ":h", opts, NULL);
	switch (c) {
	case '?':
		if (optopt)
			fail(EXIT_USAGE, EINVAL, "%s: unknown option '-%c'",
			     argv[0], optopt);
		else
			fail(EXIT_USAGE, EINVAL, "%s: unknown option '%s'",
			     argv[0], argv[optind - 1]);
		return 0;
	case ':':
		fail(EXIT_USAGE, EINVAL, "%s: option '%s' needs a value",
		     argv[0], argv[optind - 1]);
		return 0;
	case 'h':
		usage(argv[0]);
		return 'h';
	}
	return c;
}

/* SHOWN - at most 64 characters of a value quoted in an error. */
#define SHOWN(s)	(strlen(s) > 64 ? 64 : (int)strlen(s)), (s)

int parse_uint(const char *cmd, const char *opt, const char *s, int base,
	       uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (*s < '0' || *s > '9') {
		fail(EXIT_USAGE, EINVAL, "%s: %s '%.*s' is not a number", cmd,
		     opt, SHOWN(s));
		return -1;
	}
	errno = 0;
	v = strtoull(s, &end, base);
	if (*end) {
		fail(EXIT_USAGE, EINVAL, "%s: %s '%.*s' is not a%s number", cmd,
		     opt, SHOWN(s), base == 8 ? "n octal" : "");
		return -1;
	}
	if (errno == ERANGE || v < min || v > max) {
		if (base == 8)
			fail(EXIT_USAGE, ERANGE, "%s: %s '%.*s' is not in %#llo-%#llo",
			     cmd, opt, SHOWN(s), (unsigned long long)min,
			     (unsigned long long)max);
		else
			fail(EXIT_USAGE, ERANGE, "%s: %s '%.*s' is not in %llu-%llu",
			     cmd, opt, SHOWN(s), (unsigned long long)min,
			     (unsigned long long)max);
		return -1;
	}
	*out = v;
	return 0;
}

const char *parse_queue(const char *cmd, const char *s)
{
	const char *name = s;

	if (!s) {
		fail(EXIT_USAGE, EINVAL, "%s: missing --queue NAME", cmd);
		return NULL;
	}
	if (!strncmp(s, QUEUE_URL_PREFIX, strlen(QUEUE_URL_PREFIX)))
		name += strlen(QUEUE_URL_PREFIX);
	if (!kmq_name_valid(name)) {
		fail(EXIT_USAGE, EINVAL,
		     "%s: bad queue name '%s' (1-%d characters of A-Z a-z 0-9 _ . -)",
		     cmd, s, KMQ_NAME_MAX);
		return NULL;
	}
	return name;
}

const char *positional(const char *cmd, int argc, char **argv,
		       const char *have, const char *what)
{
	if (optind < argc && (have || optind + 1 < argc)) {
		fail(EXIT_USAGE, EINVAL, "%s: unexpected argument '%s'", cmd,
		     argv[have ? optind : optind + 1]);
		return NULL;
	}
	if (optind < argc)
		return argv[optind];
	if (!have)
		fail(EXIT_USAGE, EINVAL, "%s: missing %s", cmd, what);
	return have;
}

const char *queue_url(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s%s", QUEUE_URL_PREFIX, name);
	return buf;
}

int queue_only(int argc, char **argv, const char *what, const char **name)
{
	static const struct option opts[] = {
		{ "queue", required_argument, NULL, 'q' },
		{ "queue-url", required_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *cmd = argv[0], *arg = NULL;
	int c;

	while ((c = next_opt(argc, argv, opts)) != -1) {
		switch (c) {
		case 'q':
			arg = optarg;
			break;
		case 'h':
			return 1;
		default:
			return -1;
		}
	}
	arg = positional(cmd, argc, argv, arg, what);
	if (!arg)
		return -1;
	*name = parse_queue(cmd, arg);
	return *name ? 0 : -1;
}

int queue_and(int argc, char **argv, const char *opt, const char **name,
	      const char **val)
{
	const struct option opts[] = {
		{ "queue", required_argument, NULL, 'q' },
		{ "queue-url", required_argument, NULL, 'q' },
		{ opt, required_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *cmd = argv[0], *arg = NULL;
	int c;

	*val = NULL;
	while ((c = next_opt(argc, argv, opts)) != -1) {
		switch (c) {
		case 'q':
			arg = optarg;
			break;
		case 'v':
			*val = optarg;
			break;
		case 'h':
			return 1;
		default:
			return -1;
		}
	}
	if (!positional(cmd, argc, argv, "", NULL))
		return -1;
	*name = parse_queue(cmd, arg);
	if (!*name)
		return -1;
	if (!*val) {
		fail(EXIT_USAGE, EINVAL, "%s: missing --%s", cmd, opt);
		return -1;
	}
	return 0;
}
