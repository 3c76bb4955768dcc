// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/*
 * kmqd-trace: kmqd's BPF loader (daemon/trace.c) on its own, for hosts that
 * run no kmqd and for the tests. Loads, attaches, pins; refreshes once a
 * second; unpins on SIGINT/SIGTERM (unless --keep-pins).
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "trace.h"

#define MAX_USDT 32

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: kmqd-trace [options]\n"
"  Load kmq's BPF programs, attach them to kmq.ko's tracepoints and to the\n"
"  USDT probes of libkmq and kmqd, pin their maps, run until SIGINT/SIGTERM.\n"
"  --pin-dir DIR     pin under DIR (default /sys/fs/bpf/kmq/v2)\n"
"  --usdt PATH       attach the USDT probes of PATH (repeatable; default:\n"
"                    the libkmq.so.0 in ../lib, /usr/local/lib or /usr/lib)\n"
"  --fastpath        also the per-message probes (libkmq's fast path, kmqd's\n"
"                    topics and shm SQS) of the files attached\n"
"                    (each message then costs a uprobe: microseconds)\n"
"  --group GROUP     the group that may read the pins (mode 0640)\n"
"  --mode OCTAL      mode of the pins (default 0640; 0600..0666)\n"
"  --keep-pins       leave the pins on exit\n"
"  --quiet           log errors only\n"
"  --help\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "pin-dir", required_argument, NULL, 'd' },
		{ "usdt", required_argument, NULL, 'u' },
		{ "fastpath", no_argument, NULL, 'F' },
		{ "group", required_argument, NULL, 'g' },
		{ "mode", required_argument, NULL, 'm' },
		{ "keep-pins", no_argument, NULL, 'k' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct kmqd_trace_opts o = { .pin_gid = (gid_t)-1 };
	const char *usdt[MAX_USDT + 1] = { NULL };
	unsigned int nusdt = 0;
	struct kmqd_trace *t;
	bool keep = false;
	int c, err;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (optarg[0] != '/') {
				fprintf(stderr, "kmqd-trace: --pin-dir needs an absolute path\n");
				return 2;
			}
			o.pin_dir = optarg;
			break;
		case 'u':
			if (nusdt == MAX_USDT || access(optarg, R_OK)) {
				fprintf(stderr, "kmqd-trace: --usdt %s: %s\n", optarg,
					nusdt == MAX_USDT ? "too many" : strerror(errno));
				return 2;
			}
			usdt[nusdt++] = optarg;
			o.usdt_paths = usdt;
			break;
		case 'F':
			o.fastpath = true;
			break;
		case 'g': {
			struct group *g = getgrnam(optarg);

			if (!g) {
				fprintf(stderr, "kmqd-trace: --group %s: no such group\n", optarg);
				return 2;
			}
			o.pin_gid = g->gr_gid;
			break;
		}
		case 'm': {
			char *end;
			long m = strtol(optarg, &end, 8);

			if (*end || end == optarg || m < 0600 || m > 0666 ||
			    (m & 0111)) {
				fprintf(stderr, "kmqd-trace: --mode %s: 0600..0666, no execute bits\n", optarg);
				return 2;
			}
			o.pin_mode = (mode_t)m;
			break;
		}
		case 'k':
			keep = true;
			break;
		case 'q':
			o.quiet = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	err = kmqd_trace_start(&t, &o);
	if (err)
		return err == -EOPNOTSUPP ? 77 : 1;
	printf("ready\n");
	fflush(stdout);
	while (!stop) {
		sleep(1);
		kmqd_trace_refresh(t);
	}
	kmqd_trace_stop(t, !keep);
	return 0;
}
