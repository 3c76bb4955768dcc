// SPDX-License-Identifier: GPL-2.0
/*
 * Logging: one line per message, to stderr (with a level prefix) or to
 * syslog (facility daemon), filtered by level. Reconfigured on reload.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include "kmqd.h"

static enum log_target target = LOG_TO_STDERR;
static int max_level = LOG_INFO;

static const char *const names[] = {
	[LOG_ERR] = "error", [LOG_WARNING] = "warning",
	[LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

void log_setup(enum log_target t, int level)
{
	if (t == LOG_TO_SYSLOG && target != LOG_TO_SYSLOG)
		openlog("kmqd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	else if (t != LOG_TO_SYSLOG && target == LOG_TO_SYSLOG)
		closelog();
	target = t;
	max_level = level;
}

int log_level_parse(const char *s)
{
	int i;

	for (i = 0; i < (int)(sizeof(names) / sizeof(names[0])); i++)
		if (names[i] && !strcmp(s, names[i]))
			return i;
	return -1;
}

const char *log_level_name(int level)
{
	if (level >= 0 && level < (int)(sizeof(names) / sizeof(names[0])) &&
	    names[level])
		return names[level];
	return "?";
}

void log_msg(int level, const char *fmt, ...)
{
	va_list ap;

	if (level > max_level)
		return;
	va_start(ap, fmt);
	if (target == LOG_TO_SYSLOG) {
		vsyslog(level, fmt, ap);
	} else {
		fprintf(stderr, "kmqd: %s: ", log_level_name(level));
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	va_end(ap);
}
