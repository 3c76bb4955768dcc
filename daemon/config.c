// SPDX-License-Identifier: GPL-2.0
/*
 * Configuration: an INI file parsed with Debian's libinih over the embedded
 * default below, so kmqd runs with no file at all. Every key is checked;
 * an unknown section or key, or a bad value, is an error naming file:line.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <ini.h>
#include "kmqd.h"

const char config_default_ini[] =
	"# kmqd built-in configuration; a file (-c, default " KMQD_CONFIG_PATH ")\n"
	"# overrides any of these keys.\n"
	"[daemon]\n"
	"socket = " KMQ_WIRE_SOCKET "\n"
	"state_dir = " KMQD_STATE_DIR "\n"
	"socket_mode = 0666\n"
	"backend = auto\n"
	"max_connections = 1024\n"
	"[log]\n"
	"target = stderr\n"
	"level = info\n"
	"[limits]\n"
	"max_queues = 1024\n"
	"max_bytes = 1G\n"
	"max_events = 256\n"
	"[trace]\n"
	"enabled = yes\n"
	"fastpath = no\n"
	"messages = no\n"
	"pin_dir = /sys/fs/bpf/kmq/v2\n"
	"pin_group =\n"
	"[topics]\n"
	"# URL prefixes http/https subscriptions may name (daemon/README.md):\n"
	"# loopback only by default; '*' allows any http(s) URL\n"
	"http_allow = " TOPICS_HTTP_ALLOW_DEFAULT "\n";

struct parse {
	struct config *c;
	const char *what;
	char *err;
	size_t errlen;
	int line;
	bool failed;
};

static int parse_uint(const char *v, uint64_t max, int base, uint64_t *out)
{
	unsigned long long x;
	char *end;

	if (!*v || *v == '-' || *v == ' ')
		return -EINVAL;
	errno = 0;
	x = strtoull(v, &end, base);
	if (errno)
		return -EINVAL;
	if (base == 10 && *end) {
		unsigned int shift = 0;

		switch (*end++) {
		case 'K': case 'k': shift = 10; break;
		case 'M': case 'm': shift = 20; break;
		case 'G': case 'g': shift = 30; break;
		default: return -EINVAL;
		}
		if (x > (ULLONG_MAX >> shift))
			return -EINVAL;
		x <<= shift;
	}
	if (*end || x > max)
		return -EINVAL;
	*out = x;
	return 0;
}

const char *backend_name(enum backend_choice b)
{
	return b == BACKEND_KERNEL ? "kernel" : b == BACKEND_SHM ? "shm" : "auto";
}

int config_set(struct config *c, const char *section, const char *key,
	       const char *value, char *err, size_t errlen)
{
	uint64_t x;
	int lvl;

#define IS(s, k)	(!strcmp(section, s) && !strcmp(key, k))
#define BAD(...)	do { snprintf(err, errlen, __VA_ARGS__); return -EINVAL; } while (0)
	if (IS("daemon", "socket")) {
		if (value[0] != '/' || strlen(value) >= sizeof(c->socket))
			BAD("socket: '%s' is not an absolute path shorter than %zu bytes",
			    value, sizeof(c->socket));
		strcpy(c->socket, value);
	} else if (IS("daemon", "state_dir")) {
		if (value[0] != '/' || strlen(value) >= sizeof(c->state_dir) - 16)
			BAD("state_dir: '%s' is not an absolute path shorter than %zu bytes",
			    value, sizeof(c->state_dir) - 16);
		strcpy(c->state_dir, value);
	} else if (IS("daemon", "socket_mode")) {
		if (parse_uint(value, 0777, 8, &x))
			BAD("socket_mode: '%s' is not an octal mode 0..0777", value);
		c->socket_mode = (unsigned int)x;
	} else if (IS("daemon", "backend")) {
		if (!strcmp(value, "auto"))
			c->backend = BACKEND_AUTO;
		else if (!strcmp(value, "kernel"))
			c->backend = BACKEND_KERNEL;
		else if (!strcmp(value, "shm"))
			c->backend = BACKEND_SHM;
		else
			BAD("backend: '%s' is not auto, kernel or shm", value);
	} else if (IS("daemon", "max_connections")) {
		if (parse_uint(value, 65536, 10, &x) || !x)
			BAD("max_connections: '%s' is not 1..65536", value);
		c->max_connections = (unsigned int)x;
	} else if (IS("log", "target")) {
		if (!strcmp(value, "stderr"))
			c->log_target = LOG_TO_STDERR;
		else if (!strcmp(value, "syslog"))
			c->log_target = LOG_TO_SYSLOG;
		else
			BAD("target: '%s' is not stderr or syslog", value);
	} else if (IS("log", "level")) {
		lvl = log_level_parse(value);
		if (lvl < 0)
			BAD("level: '%s' is not error, warning, info or debug", value);
		c->log_level = lvl;
	} else if (IS("limits", "max_queues")) {
		if (parse_uint(value, 1U << 20, 10, &x) || !x)
			BAD("max_queues: '%s' is not 1..1048576", value);
		c->max_queues = (unsigned int)x;
	} else if (IS("limits", "max_bytes")) {
		if (parse_uint(value, 1ULL << 46, 10, &x) || x < (1U << 20))
			BAD("max_bytes: '%s' is not a size from 1M to 64T (suffix K, M, G)", value);
		c->max_bytes = x;
	} else if (IS("limits", "max_events")) {
		if (parse_uint(value, 65536, 10, &x) || !x)
			BAD("max_events: '%s' is not 1..65536", value);
		c->max_events = (unsigned int)x;
	} else if (IS("trace", "enabled") || IS("trace", "fastpath") ||
		   IS("trace", "messages")) {
		bool on;

		if (!strcmp(value, "yes") || !strcmp(value, "true") ||
		    !strcmp(value, "1"))
			on = true;
		else if (!strcmp(value, "no") || !strcmp(value, "false") ||
			 !strcmp(value, "0"))
			on = false;
		else
			BAD("%s: '%s' is not yes or no", key, value);
		if (!strcmp(key, "enabled"))
			c->trace = on;
		else if (!strcmp(key, "fastpath"))
			c->trace_fastpath = on;
		else
			c->trace_messages = on;
	} else if (IS("trace", "pin_dir")) {
		if (value[0] != '/' || strlen(value) >= sizeof(c->trace_pin_dir))
			BAD("pin_dir: '%s' is not an absolute path shorter than %zu bytes",
			    value, sizeof(c->trace_pin_dir));
		strcpy(c->trace_pin_dir, value);
	} else if (IS("trace", "pin_group")) {
		if (strlen(value) >= sizeof(c->trace_pin_group) ||
		    strspn(value, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") != strlen(value))
			BAD("pin_group: '%s' is not a group name", value);
		strcpy(c->trace_pin_group, value);
	} else if (IS("topics", "http_allow")) {
		const char *p = value;

		/* the lexical rules; urlpolicy.c parses each rule fully */
		if (strlen(value) >= sizeof(c->http_allow))
			BAD("http_allow: longer than %zu bytes", sizeof(c->http_allow) - 1);
		while (*p) {
			size_t n;

			p += strspn(p, " \t,");
			n = strcspn(p, " \t,");
			if (n && !(n == 1 && *p == '*') &&
			    (strncasecmp(p, "http://", 7) && strncasecmp(p, "https://", 8)))
				BAD("http_allow: '%.*s' is not '*' or an http:// or https:// URL prefix",
				    (int)n, p);
			if (memchr(p, '@', n))
				BAD("http_allow: '%.*s' holds credentials ('@')", (int)n, p);
			p += n;
		}
		strcpy(c->http_allow, value);
	} else {
		BAD("unknown key '%s' in section [%s]", key, section);
	}
	return 0;
#undef IS
#undef BAD
}

static int handler(void *user, const char *section, const char *name,
		   const char *value)
{
	struct parse *p = user;
	char why[200];

	if (p->failed)
		return 0;
	if (!name)	/* a section header alone (INI_CALL_HANDLER_ON_NEW_SECTION) */
		return 1;
	if (config_set(p->c, section, name, value, why, sizeof(why))) {
		snprintf(p->err, p->errlen, "%s", why);
		p->failed = true;
		return 0;
	}
	return 1;
}

static int finish(struct parse *p, int ret)
{
	char why[300];

	if (ret == -1)
		return -errno ? -errno : -ENOENT;
	if (ret == -2) {
		snprintf(p->err, p->errlen, "%s: out of memory", p->what);
		return -ENOMEM;
	}
	if (ret > 0) {
		if (p->failed) {
			snprintf(why, sizeof(why), "%s", p->err);
			snprintf(p->err, p->errlen, "%s:%d: %s", p->what, ret, why);
		} else {
			snprintf(p->err, p->errlen, "%s:%d: not 'key = value' or '[section]'",
				 p->what, ret);
		}
		return -EINVAL;
	}
	return 0;
}

int config_load(struct config *c, const char *path, char *err, size_t errlen)
{
	struct parse p = { c, path, err, errlen, 0, false };
	FILE *f = fopen(path, "re");
	int ret;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	ret = ini_parse_file(f, handler, &p);
	fclose(f);
	return finish(&p, ret);
}

int config_load_string(struct config *c, const char *ini, const char *what,
		       char *err, size_t errlen)
{
	struct parse p = { c, what, err, errlen, 0, false };

	return finish(&p, ini_parse_string(ini, handler, &p));
}

void config_defaults(struct config *c)
{
	char err[256];

	memset(c, 0, sizeof(*c));
	if (config_load_string(c, config_default_ini, "built-in", err,
			       sizeof(err))) {
		fprintf(stderr, "kmqd: bug: %s\n", err);
		abort();
	}
}

#define DIFF_U(field, fmt) do {						\
	if (a->field != b->field)					\
		n += snprintf(out + n, n < outlen ? outlen - n : 0,	\
			      "%s" #field ": " fmt " -> " fmt, n ? "; " : "", \
			      a->field, b->field);			\
} while (0)
#define DIFF_S(field, fn) do {						\
	if (strcmp(fn(a->field), fn(b->field)))			\
		n += snprintf(out + n, n < outlen ? outlen - n : 0,	\
			      "%s" #field ": %s -> %s", n ? "; " : "",	\
			      fn(a->field), fn(b->field));		\
} while (0)
#define ID(x)	(x)
static const char *target_name(enum log_target t)
{
	return t == LOG_TO_SYSLOG ? "syslog" : "stderr";
}

void config_diff(const struct config *a, const struct config *b, char *out,
		 size_t outlen)
{
	size_t n = 0;

	out[0] = 0;
	DIFF_S(socket, ID);
	DIFF_S(state_dir, ID);
	DIFF_U(socket_mode, "%#o");
	DIFF_S(backend, backend_name);
	DIFF_U(max_connections, "%u");
	DIFF_S(log_target, target_name);
	DIFF_S(log_level, log_level_name);
	DIFF_U(max_queues, "%u");
	DIFF_U(max_bytes, "%llu");
	DIFF_U(max_events, "%u");
	DIFF_U(trace, "%d");
	DIFF_U(trace_fastpath, "%d");
	DIFF_U(trace_messages, "%d");
	DIFF_S(trace_pin_dir, ID);
	DIFF_S(trace_pin_group, ID);
	DIFF_S(http_allow, ID);
}

void config_print(const struct config *c, void *fp)
{
	FILE *f = fp;

	fprintf(f, "[daemon]\nsocket = %s\nstate_dir = %s\nsocket_mode = %#o\n"
		"backend = %s\nmax_connections = %u\n",
		c->socket, c->state_dir, c->socket_mode,
		backend_name(c->backend), c->max_connections);
	fprintf(f, "[log]\ntarget = %s\nlevel = %s\n", target_name(c->log_target),
		log_level_name(c->log_level));
	fprintf(f, "[limits]\nmax_queues = %u\nmax_bytes = %llu\nmax_events = %u\n",
		c->max_queues, (unsigned long long)c->max_bytes, c->max_events);
	fprintf(f, "[trace]\nenabled = %s\nfastpath = %s\nmessages = %s\npin_dir = %s\npin_group = %s\n",
		c->trace ? "yes" : "no", c->trace_fastpath ? "yes" : "no",
		c->trace_messages ? "yes" : "no", c->trace_pin_dir, c->trace_pin_group);
	fprintf(f, "[topics]\nhttp_allow = %s\n", c->http_allow);
}
