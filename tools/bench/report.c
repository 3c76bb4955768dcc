/* SPDX-License-Identifier: MIT */
/*
 * Output: the machine facts, Markdown tables (one row per system and
 * size), the targets of issue 5 checked against the peers of the same run,
 * JSON with every figure, and gnuplot PNGs.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

/* ---- the machine ------------------------------------------------------ */

static void read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");

	buf[0] = 0;
	if (!f)
		return;
	if (fgets(buf, (int)len, f))
		buf[strcspn(buf, "\n")] = 0;
	fclose(f);
}

void machine_probe(struct machine *m)
{
	struct utsname u;
	char line[512];
	bool hyper = false;
	FILE *f;
	time_t now = time(NULL);

	memset(m, 0, sizeof(*m));
	snprintf(m->cpu, sizeof(m->cpu), "unknown CPU");
	f = fopen("/proc/cpuinfo", "r");
	if (f) {
		bool got = false;

		while (fgets(line, sizeof(line), f)) {
			if (!got && !strncmp(line, "model name", 10)) {
				char *p = strchr(line, ':');

				if (p) {
					p++;
					while (*p == ' ')
						p++;
					p[strcspn(p, "\n")] = 0;
					snprintf(m->cpu, sizeof(m->cpu), "%s", p);
					got = true;
				}
			}
			if (!strncmp(line, "flags", 5) && strstr(line, " hypervisor"))
				hyper = true;
		}
		fclose(f);
	}
	m->cores = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (!uname(&u))
		snprintf(m->kernel, sizeof(m->kernel), "Linux %.64s %.16s", u.release, u.machine);
	read_line("/sys/devices/system/clocksource/clocksource0/current_clocksource",
		  m->clocksource, sizeof(m->clocksource));
	if (hyper) {
		char vendor[64];

		read_line("/sys/class/dmi/id/sys_vendor", vendor, sizeof(vendor));
		snprintf(m->virt, sizeof(m->virt), "VM%s%s", vendor[0] ? ": " : "", vendor);
	} else {
		snprintf(m->virt, sizeof(m->virt), "bare metal");
	}
	if (getenv("KMQ_VM"))
		snprintf(m->virt, sizeof(m->virt), "qemu TCG guest (tests/vm/run)%s",
			 hyper ? " in a VM" : "");
	read_line("/proc/loadavg", line, sizeof(line));
	snprintf(m->load, sizeof(m->load), "%.*s", 14, line);
	strftime(m->date, sizeof(m->date), "%Y-%m-%d %H:%M UTC", gmtime(&now));
	f = popen("git describe --always --dirty 2>/dev/null", "r");
	if (f) {
		if (fgets(m->commit, sizeof(m->commit), f))
			m->commit[strcspn(m->commit, "\n")] = 0;
		pclose(f);
	}
}

void machine_load_end(struct machine *m)
{
	char line[128];

	read_line("/proc/loadavg", line, sizeof(line));
	snprintf(m->load_end, sizeof(m->load_end), "%.*s", 14, line);
}

/* ---- formatting ------------------------------------------------------- */

static const char *fmt_ns(char *b, size_t n, double ns)
{
	if (ns < 10000)
		snprintf(b, n, "%.0f ns", ns);
	else if (ns < 1e6)
		snprintf(b, n, "%.1f µs", ns / 1e3);
	else
		snprintf(b, n, "%.2f ms", ns / 1e6);
	return b;
}

static const char *fmt_rate(char *b, size_t n, double v)
{
	if (v >= 1e9)
		snprintf(b, n, "%.2f G", v / 1e9);
	else if (v >= 1e6)
		snprintf(b, n, "%.2f M", v / 1e6);
	else if (v >= 1e3)
		snprintf(b, n, "%.1f k", v / 1e3);
	else
		snprintf(b, n, "%.0f", v);
	return b;
}

static const char *fmt_size(char *b, size_t n, size_t s)
{
	if (s >= (1u << 20) && !(s % (1u << 20)))
		snprintf(b, n, "%zu MiB", s >> 20);
	else if (s >= 1024 && !(s % 1024))
		snprintf(b, n, "%zu KiB", s >> 10);
	else
		snprintf(b, n, "%zu B", s);
	return b;
}

/* ---- lookups ---------------------------------------------------------- */

static const struct result *find(const struct result *r, size_t n, const char *sys,
				 enum test_kind k, enum wait_mode m, enum topo t, size_t size)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(r[i].sys->name, sys) && r[i].kind == k && r[i].mode == m &&
		    r[i].topo == t && r[i].size == size)
			return &r[i];
	return NULL;
}

/* Ran, and has figures to compare (a smoke cell may have none). */
static bool ok(const struct result *r)
{
	if (!r || r->skip || r->fail)
		return false;
	return r->kind == TEST_THROUGHPUT ? r->msgs_per_s > 0 : r->n > 0 && r->p50 > 0;
}

static bool have_sys(const struct result *r, size_t n, const char *sys)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(r[i].sys->name, sys) && !r[i].skip)
			return true;
	return false;
}

/* ---- the targets of issue 5 ------------------------------------------- */

struct target {
	char kmq[32];
	char what[160];
	char measured[200];
	int verdict;		/* 1 met, 0 missed, -1 not measured */
};

#define MAX_TARGETS	48

static void tgt(struct target *t, size_t *nt, const char *kmq, int verdict,
		const char *what, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void tgt(struct target *t, size_t *nt, const char *kmq, int verdict,
		const char *what, const char *fmt, ...)
{
	va_list ap;

	if (*nt >= MAX_TARGETS)
		return;
	snprintf(t[*nt].kmq, sizeof(t[*nt].kmq), "%s", kmq);
	snprintf(t[*nt].what, sizeof(t[*nt].what), "%s", what);
	va_start(ap, fmt);
	vsnprintf(t[*nt].measured, sizeof(t[*nt].measured), fmt, ap);
	va_end(ap);
	t[*nt].verdict = verdict;
	(*nt)++;
}

static size_t targets(const struct result *r, size_t n, struct target *t)
{
	static const char *const kmqs[] = { "kmq", "kmq-dev" };
	static const char *const slow[] = { "pipe", "uds", "posixmq", "zmq", "nng" };
	static const size_t lat_sizes[] = { 64, 1024, 16384, 65536 };
	static const size_t tp_sizes[] = { 64, 1024, 16384, 65536, 1 << 20 };
	static const enum test_kind lk[] = { TEST_PINGPONG, TEST_OPENLOOP };
	static const char *const ln[] = { "ping-pong RTT/2", "one-way (open loop)" };
	size_t nt = 0, k, i, kk;
	char a[32], b[32];

	for (k = 0; k < sizeof(kmqs) / sizeof(kmqs[0]); k++) {
		const char *q = kmqs[k];
		const struct result *x, *y;

		if (!have_sys(r, n, q))
			continue;
		/* 1. spinning 64 B vs the bare ring, on both latency measures:
		 * ping-pong RTT/2 (robust to a noisy host) and the open-loop
		 * one-way (no coordinated omission, so it also shows the host) */
		for (kk = 0; kk < 2; kk++) {
			char what[96];

			x = find(r, n, q, lk[kk], WAIT_SPIN, TOPO_1_1, 64);
			y = find(r, n, "ring", lk[kk], WAIT_SPIN, TOPO_1_1, 64);
			if (ok(x) && ok(y)) {
				double p50 = (double)x->p50 / (double)y->p50;
				double p999 = (double)x->p999 / (double)y->p999;

				snprintf(what, sizeof(what), "spin 64 B %s p50 <= 1.5x bare ring",
					 ln[kk]);
				tgt(t, &nt, q, p50 <= 1.5, what, "%s vs %s: %.3gx",
				    fmt_ns(a, sizeof(a), (double)x->p50),
				    fmt_ns(b, sizeof(b), (double)y->p50), p50);
				snprintf(what, sizeof(what), "spin 64 B %s p99.9 <= 3x bare ring",
					 ln[kk]);
				tgt(t, &nt, q, p999 <= 3, what, "%s vs %s: %.3gx",
				    fmt_ns(a, sizeof(a), (double)x->p999),
				    fmt_ns(b, sizeof(b), (double)y->p999), p999);
			} else {
				snprintf(what, sizeof(what), "spin 64 B %s vs bare ring", ln[kk]);
				tgt(t, &nt, q, -1, what, "not measured");
			}
		}
		/* 2. throughput 1 -> 1 at 64 B */
		x = find(r, n, q, TEST_THROUGHPUT, WAIT_SPIN, TOPO_1_1, 64);
		y = find(r, n, "ring", TEST_THROUGHPUT, WAIT_SPIN, TOPO_1_1, 64);
		if (ok(x)) {
			tgt(t, &nt, q, x->msgs_per_s >= 30e6, "1->1 64 B throughput >= 30 M msg/s",
			    "%s msg/s", fmt_rate(a, sizeof(a), x->msgs_per_s));
			if (ok(y))
				tgt(t, &nt, q, x->msgs_per_s >= 0.5 * y->msgs_per_s,
				    "1->1 64 B throughput >= 0.5x bare ring",
				    "%s vs %s msg/s: %.3gx", fmt_rate(a, sizeof(a), x->msgs_per_s),
				    fmt_rate(b, sizeof(b), y->msgs_per_s),
				    x->msgs_per_s / y->msgs_per_s);
		} else {
			tgt(t, &nt, q, -1, "1->1 64 B throughput", "not measured");
		}
		/* 3. 50x lower p50 than the kernel-crossing peers, 64 B: kmq
		 * spinning against each peer as it is normally used (blocking:
		 * every message a wake-up); then, for information, against the
		 * peers also spinning (non-blocking calls in a loop) */
		for (kk = 0; kk < 2; kk++) {
			double worst = 1e18;
			const char *worst_peer = NULL;

			x = find(r, n, q, lk[kk], WAIT_SPIN, TOPO_1_1, 64);
			for (i = 0; i < sizeof(slow) / sizeof(slow[0]); i++) {
				char what[128];

				y = find(r, n, slow[i], lk[kk], WAIT_BLOCK, TOPO_1_1, 64);
				snprintf(what, sizeof(what), "64 B %s p50 >= 50x lower than %s (blocking)",
					 ln[kk], y ? y->sys->label : slow[i]);
				if (ok(x) && ok(y))
					tgt(t, &nt, q, (double)y->p50 >= 50.0 * (double)x->p50, what,
					    "%s vs %s: %.3gx", fmt_ns(a, sizeof(a), (double)y->p50),
					    fmt_ns(b, sizeof(b), (double)x->p50),
					    (double)y->p50 / (double)x->p50);
				else
					tgt(t, &nt, q, -1, what, "not measured");
				y = find(r, n, slow[i], lk[kk], WAIT_SPIN, TOPO_1_1, 64);
				if (ok(x) && ok(y) && (double)y->p50 / (double)x->p50 < worst) {
					worst = (double)y->p50 / (double)x->p50;
					worst_peer = y->sys->label;
				}
			}
			if (worst_peer) {
				char what[128];

				snprintf(what, sizeof(what), "(info) 64 B %s p50 vs the same peers "
					 "spinning too", ln[kk]);
				tgt(t, &nt, q, -1, what, "smallest gap: %.3gx lower than %s", worst,
				    worst_peer);
			}
		}
		/* 4. iceoryx: lower p50 (one-way and ping-pong) and higher
		 * throughput at every size, spinning */
		{
			char lat_miss[128] = "", tp_miss[128] = "";
			int lat_n = 0, tp_n = 0, lat_bad = 0, tp_bad = 0;
			double worst_lat = 0, worst_tp = 1e9;

			for (i = 0; i < sizeof(lat_sizes) / sizeof(lat_sizes[0]); i++) {
				enum test_kind kinds[] = { TEST_OPENLOOP, TEST_PINGPONG };
				size_t j;

				for (j = 0; j < 2; j++) {
					x = find(r, n, q, kinds[j], WAIT_SPIN, TOPO_1_1, lat_sizes[i]);
					y = find(r, n, "iceoryx", kinds[j], WAIT_SPIN, TOPO_1_1,
						 lat_sizes[i]);
					if (!ok(x) || !ok(y))
						continue;
					lat_n++;
					if ((double)x->p50 / (double)y->p50 > worst_lat)
						worst_lat = (double)x->p50 / (double)y->p50;
					if (x->p50 >= y->p50) {
						lat_bad++;
						snprintf(lat_miss + strlen(lat_miss),
							 sizeof(lat_miss) - strlen(lat_miss), " %s %s",
							 kind_name(kinds[j]),
							 fmt_size(a, sizeof(a), lat_sizes[i]));
					}
				}
			}
			for (i = 0; i < sizeof(tp_sizes) / sizeof(tp_sizes[0]); i++) {
				x = find(r, n, q, TEST_THROUGHPUT, WAIT_SPIN, TOPO_1_1, tp_sizes[i]);
				y = find(r, n, "iceoryx", TEST_THROUGHPUT, WAIT_SPIN, TOPO_1_1,
					 tp_sizes[i]);
				if (!ok(x) || !ok(y))
					continue;
				tp_n++;
				if (x->msgs_per_s / y->msgs_per_s < worst_tp)
					worst_tp = x->msgs_per_s / y->msgs_per_s;
				if (x->msgs_per_s <= y->msgs_per_s) {
					tp_bad++;
					snprintf(tp_miss + strlen(tp_miss),
						 sizeof(tp_miss) - strlen(tp_miss), " %s",
						 fmt_size(a, sizeof(a), tp_sizes[i]));
				}
			}
			if (lat_n)
				tgt(t, &nt, q, !lat_bad, "lower p50 than iceoryx at every size (spin)",
				    "%d/%d cells lower; worst kmq/iceoryx p50 %.3gx%s%s", lat_n - lat_bad,
				    lat_n, worst_lat, lat_bad ? "; missed:" : "", lat_miss);
			else
				tgt(t, &nt, q, -1, "lower p50 than iceoryx at every size", "not measured");
			if (tp_n)
				tgt(t, &nt, q, !tp_bad,
				    "higher 1->1 throughput than iceoryx at every size (spin)",
				    "%d/%d sizes higher; worst kmq/iceoryx %.3gx%s%s", tp_n - tp_bad, tp_n,
				    worst_tp, tp_bad ? "; missed:" : "", tp_miss);
			else
				tgt(t, &nt, q, -1, "higher throughput than iceoryx at every size",
				    "not measured");
		}
		/* 5. blocking wake-up vs a pipe */
		for (kk = 0; kk < 2; kk++) {
			char what[96];

			x = find(r, n, q, lk[kk], WAIT_BLOCK, TOPO_1_1, 64);
			y = find(r, n, "pipe", lk[kk], WAIT_BLOCK, TOPO_1_1, 64);
			snprintf(what, sizeof(what), "blocking 64 B %s p50 <= pipe's", ln[kk]);
			if (ok(x) && ok(y))
				tgt(t, &nt, q, x->p50 <= y->p50, what, "%s vs %s: %.3gx",
				    fmt_ns(a, sizeof(a), (double)x->p50),
				    fmt_ns(b, sizeof(b), (double)y->p50),
				    (double)x->p50 / (double)y->p50);
			else
				tgt(t, &nt, q, -1, what, "not measured");
		}
	}
	return nt;
}

/* ---- Markdown --------------------------------------------------------- */

static void md_latency(FILE *f, const struct result *r, size_t n,
		       const struct sys_ops *const *systems, size_t nsys,
		       enum test_kind k, enum wait_mode m)
{
	size_t s, i;
	bool any = false;

	for (i = 0; i < n; i++)
		if (r[i].kind == k && r[i].mode == m && !r[i].skip)
			any = true;
	if (!any)
		return;
	if (k == TEST_OPENLOOP)
		fprintf(f, "\n### One-way latency, open loop at %.0f msg/s, %s\n\n", bench_opts.rate,
			m == WAIT_SPIN ? "consumer spinning" : "consumer blocking");
	else
		fprintf(f, "\n### Ping-pong latency (RTT/2), %s\n\n",
			m == WAIT_SPIN ? "both sides spinning" : "both sides blocking");
	fprintf(f, "| system | size | p50 | p90 | p99 | p99.9 | max | samples |\n");
	fprintf(f, "|---|---:|---:|---:|---:|---:|---:|---:|\n");
	for (s = 0; s < nsys; s++) {
		for (i = 0; i < n; i++) {
			const struct result *x = &r[i];
			char a[5][32], sz[32];

			if (x->sys != systems[s] || x->kind != k || x->mode != m)
				continue;
			if (x->skip)
				continue;
			fmt_size(sz, sizeof(sz), x->size);
			if (x->fail) {
				fprintf(f, "| %s | %s | failed: %s | | | | | |\n", x->sys->label, sz,
					x->fail);
				continue;
			}
			fprintf(f, "| %s | %s | %s | %s | %s | %s | %s | %llu |\n", x->sys->label, sz,
				fmt_ns(a[0], 32, (double)x->p50), fmt_ns(a[1], 32, (double)x->p90),
				fmt_ns(a[2], 32, (double)x->p99), fmt_ns(a[3], 32, (double)x->p999),
				fmt_ns(a[4], 32, (double)x->max), (unsigned long long)x->n);
		}
	}
}

static void md_cell_tp(FILE *f, const struct result *x)
{
	char a[32], b[32];

	if (!x || x->skip) {
		fprintf(f, " n/a | |");
		return;
	}
	if (x->fail) {
		fprintf(f, " failed | |");
		return;
	}
	fprintf(f, " %s | %sB/s |", fmt_rate(a, sizeof(a), x->msgs_per_s),
		fmt_rate(b, sizeof(b), x->bytes_per_s));
}

static void md_throughput(FILE *f, const struct result *r, size_t n,
			  const struct sys_ops *const *systems, size_t nsys, enum wait_mode m,
			  const size_t *sizes, size_t nsizes)
{
	size_t s, z, i;
	bool any = false;

	for (i = 0; i < n; i++)
		if (r[i].kind == TEST_THROUGHPUT && r[i].mode == m && !r[i].skip)
			any = true;
	if (!any)
		return;
	fprintf(f, "\n### Throughput, %s (messages/s and bytes/s)\n\n",
		m == WAIT_SPIN ? "spinning" : "blocking");
	fprintf(f, "| system | size | 1->1 msg/s | 1->1 B/s | 4->1 msg/s | 4->1 B/s | "
		   "1->4 msg/s | 1->4 B/s |\n|---|---:|---:|---:|---:|---:|---:|---:|\n");
	for (s = 0; s < nsys; s++) {
		for (z = 0; z < nsizes; z++) {
			const struct result *c[3];
			char sz[32];
			int t;

			for (t = 0; t < 3; t++)
				c[t] = find(r, n, systems[s]->name, TEST_THROUGHPUT, m,
					    (enum topo)t, sizes[z]);
			if ((!c[0] || c[0]->skip) && (!c[1] || c[1]->skip) &&
			    (!c[2] || c[2]->skip))
				continue;
			fprintf(f, "| %s | %s |", systems[s]->label,
				fmt_size(sz, sizeof(sz), sizes[z]));
			for (t = 0; t < 3; t++)
				md_cell_tp(f, c[t]);
			fputc('\n', f);
		}
	}
}

static void collect_sizes(const struct result *r, size_t n, size_t *sizes, size_t *nsizes)
{
	size_t i, j;

	*nsizes = 0;
	for (i = 0; i < n; i++) {
		for (j = 0; j < *nsizes; j++)
			if (sizes[j] == r[i].size)
				break;
		if (j == *nsizes && *nsizes < 16)
			sizes[(*nsizes)++] = r[i].size;
	}
	for (i = 1; i < *nsizes; i++)	/* insertion sort */
		for (j = i; j > 0 && sizes[j - 1] > sizes[j]; j--) {
			size_t x = sizes[j];

			sizes[j] = sizes[j - 1];
			sizes[j - 1] = x;
		}
}

static const char *rounds_note(void)
{
	static char b[120];

	if (bench_opts.rounds <= 1)
		return "";
	snprintf(b, sizeof(b), "; %d rounds interleaved, each cell shows its best round "
		 "(lowest p50, highest rate)", bench_opts.rounds);
	return b;
}

void report_markdown(FILE *f, const struct machine *m, const struct result *r, size_t n,
		     const struct sys_ops *const *systems, size_t nsys)
{
	struct target t[MAX_TARGETS];
	size_t nt = targets(r, n, t), i, sizes[16], nsizes;
	bool notes = false;

	collect_sizes(r, n, sizes, &nsizes);
	fprintf(f, "## kmq-bench results\n\n");
	fprintf(f, "Machine: %s, %d CPUs, %s, %s, clocksource %s, load average %s at start, "
		   "%s at end, %s; tree %s.\n", m->cpu, m->cores, m->kernel, m->virt,
		m->clocksource, m->load, m->load_end[0] ? m->load_end : "?", m->date,
		m->commit[0] ? m->commit : "unknown");
	fprintf(f, "Settings: warm-up %.2f s; ping-pong %.2f s, open loop %.2f s at %.0f msg/s, "
		   "throughput %.2f s per cell%s%s. Quote ratios against peers of the same run, "
		   "never a lone absolute time.\n", bench_opts.warm_s, bench_opts.lat_s,
		bench_opts.ol_s, bench_opts.rate, bench_opts.tp_s, rounds_note(),
		bench_opts.smoke ? " (SMOKE RUN: figures meaningless)" : "");

	if (nt) {
		fprintf(f, "\n### Targets (issue 5)\n\n| kmq | target | measured | verdict |\n"
			   "|---|---|---|---|\n");
		for (i = 0; i < nt; i++)
			fprintf(f, "| %s | %s | %s | %s |\n", t[i].kmq, t[i].what, t[i].measured,
				t[i].verdict > 0 ? "met" : t[i].verdict == 0 ? "**MISSED**" :
				strncmp(t[i].what, "(info)", 6) ? "not measured" : "info");
	}
	md_latency(f, r, n, systems, nsys, TEST_OPENLOOP, WAIT_SPIN);
	md_latency(f, r, n, systems, nsys, TEST_PINGPONG, WAIT_SPIN);
	md_latency(f, r, n, systems, nsys, TEST_OPENLOOP, WAIT_BLOCK);
	md_latency(f, r, n, systems, nsys, TEST_PINGPONG, WAIT_BLOCK);
	md_throughput(f, r, n, systems, nsys, WAIT_SPIN, sizes, nsizes);
	md_throughput(f, r, n, systems, nsys, WAIT_BLOCK, sizes, nsizes);

	fprintf(f, "\n### Systems\n\n");
	for (i = 0; i < nsys; i++)
		fprintf(f, "- **%s**: %s\n", systems[i]->label, systems[i]->how);
	fprintf(f, "\nPinning: 1->1 and latency: %s; 4->1: %s; 1->4: %s.\n",
		pinning_note(TOPO_1_1), pinning_note(TOPO_N_1), pinning_note(TOPO_1_N));
	for (i = 0; i < n; i++) {
		const struct result *x = &r[i];
		char sz[32];

		if (!x->skip && !x->fail && !x->note[0])
			continue;
		/* list each skip reason once per system */
		if (x->skip) {
			size_t j;
			bool seen = false;

			for (j = 0; j < i; j++)
				if (r[j].sys == x->sys && r[j].skip && !strcmp(r[j].skip, x->skip))
					seen = true;
			if (seen)
				continue;
		}
		if (!notes)
			fprintf(f, "\nNot run, failed or noted:\n\n");
		notes = true;
		if (x->skip)
			fprintf(f, "- %s: not run (%s)\n", x->sys->label, x->skip);
		else
			fprintf(f, "- %s %s %s %s %s: %s\n", x->sys->label, kind_name(x->kind),
				mode_name(x->mode), topo_name(x->topo),
				fmt_size(sz, sizeof(sz), x->size), x->fail ? x->fail : x->note);
	}
}

/* ---- JSON ------------------------------------------------------------- */

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

void report_json(FILE *f, const struct machine *m, const struct result *r, size_t n,
		 const struct sys_ops *const *systems, size_t nsys)
{
	struct target t[MAX_TARGETS];
	size_t nt = targets(r, n, t), i;

	fprintf(f, "{\n  \"machine\": {\"cpu\": ");
	json_str(f, m->cpu);
	fprintf(f, ", \"cores\": %d, \"kernel\": ", m->cores);
	json_str(f, m->kernel);
	fprintf(f, ", \"virtualization\": ");
	json_str(f, m->virt);
	fprintf(f, ", \"clocksource\": ");
	json_str(f, m->clocksource);
	fprintf(f, ", \"loadavg_at_start\": ");
	json_str(f, m->load);
	fprintf(f, ", \"loadavg_at_end\": ");
	json_str(f, m->load_end);
	fprintf(f, ", \"date\": ");
	json_str(f, m->date);
	fprintf(f, ", \"commit\": ");
	json_str(f, m->commit);
	fprintf(f, "},\n  \"settings\": {\"rounds\": %d, \"warmup_s\": %g, \"pingpong_s\": %g, \"oneway_s\": %g, "
		   "\"oneway_rate\": %g, \"throughput_s\": %g, \"smoke\": %s, \"pinning_1_1\": ",
		bench_opts.rounds, bench_opts.warm_s, bench_opts.lat_s, bench_opts.ol_s, bench_opts.rate,
		bench_opts.tp_s, bench_opts.smoke ? "true" : "false");
	json_str(f, pinning_note(TOPO_1_1));
	fprintf(f, ", \"pinning_fanout\": ");
	json_str(f, pinning_note(TOPO_N_1));
	fprintf(f, "},\n  \"systems\": [");
	for (i = 0; i < nsys; i++) {
		fprintf(f, "%s\n    {\"name\": ", i ? "," : "");
		json_str(f, systems[i]->name);
		fprintf(f, ", \"label\": ");
		json_str(f, systems[i]->label);
		fprintf(f, ", \"how\": ");
		json_str(f, systems[i]->how);
		fprintf(f, "}");
	}
	fprintf(f, "\n  ],\n  \"results\": [");
	for (i = 0; i < n; i++) {
		const struct result *x = &r[i];

		fprintf(f, "%s\n    {\"system\": ", i ? "," : "");
		json_str(f, x->sys->name);
		fprintf(f, ", \"test\": \"%s\", \"mode\": \"%s\", \"topology\": \"%s\", "
			   "\"size\": %zu", kind_name(x->kind), mode_name(x->mode),
			topo_name(x->topo), x->size);
		if (x->skip) {
			fprintf(f, ", \"skipped\": ");
			json_str(f, x->skip);
		} else if (x->fail) {
			fprintf(f, ", \"failed\": ");
			json_str(f, x->fail);
		} else if (x->kind == TEST_THROUGHPUT) {
			fprintf(f, ", \"msgs_per_s\": %.1f, \"bytes_per_s\": %.1f, "
				   "\"cpu_ns_per_msg\": %.1f, \"messages\": %llu", x->msgs_per_s,
				x->bytes_per_s, x->cpu_ns_per_msg, (unsigned long long)x->n);
		} else {
			fprintf(f, ", \"samples\": %llu, \"p50_ns\": %llu, \"p90_ns\": %llu, "
				   "\"p99_ns\": %llu, \"p999_ns\": %llu, \"max_ns\": %llu, "
				   "\"min_ns\": %llu, \"mean_ns\": %.1f",
				(unsigned long long)x->n, (unsigned long long)x->p50,
				(unsigned long long)x->p90, (unsigned long long)x->p99,
				(unsigned long long)x->p999, (unsigned long long)x->max,
				(unsigned long long)x->min, x->mean);
		}
		if (x->note[0]) {
			fprintf(f, ", \"note\": ");
			json_str(f, x->note);
		}
		if (x->rounds > 1) {
			int k;

			fprintf(f, ", \"rounds\": [");
			for (k = 0; k < x->rounds && k < MAX_ROUNDS; k++)
				fprintf(f, "%s%.1f", k ? ", " : "", x->round_vals[k]);
			fprintf(f, "], \"failed_rounds\": %d", x->failed_rounds);
		}
		fprintf(f, "}");
	}
	fprintf(f, "\n  ],\n  \"targets\": [");
	for (i = 0; i < nt; i++) {
		fprintf(f, "%s\n    {\"kmq\": ", i ? "," : "");
		json_str(f, t[i].kmq);
		fprintf(f, ", \"target\": ");
		json_str(f, t[i].what);
		fprintf(f, ", \"measured\": ");
		json_str(f, t[i].measured);
		fprintf(f, ", \"met\": %s}", t[i].verdict > 0 ? "true" :
			t[i].verdict == 0 ? "false" : "null");
	}
	fprintf(f, "\n  ]\n}\n");
}

/* ---- gnuplot ---------------------------------------------------------- */

/* One PNG: one line per system. Latency plots draw p50 solid and p99.9
 * dashed in the same colour; throughput plots draw messages/s (or bytes/s). */
static int plot(const char *dir, const char *base, const char *title, const char *ylabel,
		const struct result *r, size_t n, const struct sys_ops *const *systems,
		size_t nsys, enum test_kind k, enum wait_mode m, enum topo t, bool bytes)
{
	char dat[1024], gp[1024], cmd[2200];
	FILE *fd, *fg;
	size_t s, i;
	int idx = 0, rc;

	snprintf(dat, sizeof(dat), "%s/%s.dat", dir, base);
	snprintf(gp, sizeof(gp), "%s/%s.gp", dir, base);
	fd = fopen(dat, "w");
	fg = fopen(gp, "w");
	if (!fd || !fg) {
		if (fd)
			fclose(fd);
		if (fg)
			fclose(fg);
		return -1;
	}
	fprintf(fg, "set terminal pngcairo size 1000,640 noenhanced font ',10'\n"
		    "set output '%s/%s.png'\nset title '%s'\nset logscale xy\n"
		    "set xlabel 'message size (bytes)'\nset ylabel '%s'\nset grid\n"
		    "set key outside right\nset xtics ('64' 64, '1K' 1024, '16K' 16384, "
		    "'64K' 65536, '1M' 1048576)\nplot ",
		dir, base, title, ylabel);
	for (s = 0; s < nsys; s++) {
		int rows = 0;

		for (i = 0; i < n; i++) {
			const struct result *x = &r[i];

			if (x->sys != systems[s] || x->kind != k || x->mode != m || x->topo != t ||
			    x->skip || x->fail)
				continue;
			if (k == TEST_THROUGHPUT ? x->msgs_per_s <= 0 : !x->n || !x->p50)
				continue;	/* nothing to draw on a log scale */
			if (k == TEST_THROUGHPUT)
				fprintf(fd, "%zu %g\n", x->size, bytes ? x->bytes_per_s : x->msgs_per_s);
			else
				fprintf(fd, "%zu %llu %llu\n", x->size, (unsigned long long)x->p50,
					(unsigned long long)x->p999);
			rows++;
		}
		if (!rows)
			continue;
		fprintf(fd, "\n\n");
		if (k == TEST_THROUGHPUT)
			fprintf(fg, "%s'%s' index %d using 1:2 with linespoints lw 2 lc %d title '%s'",
				idx ? ", \\\n     " : "", dat, idx, idx + 1, systems[s]->label);
		else
			fprintf(fg, "%s'%s' index %d using 1:2 with linespoints lw 2 lc %d "
				    "title '%s p50', '' index %d using 1:3 with linespoints dt 2 "
				    "lc %d title '%s p99.9'",
				idx ? ", \\\n     " : "", dat, idx, idx + 1, systems[s]->label, idx,
				idx + 1, systems[s]->label);
		idx++;
	}
	fprintf(fg, "\n");
	fclose(fd);
	fclose(fg);
	if (!idx) {
		unlink(dat);
		unlink(gp);
		return 0;
	}
	snprintf(cmd, sizeof(cmd), "gnuplot '%s' 2>>'%s/gnuplot.log'", gp, dir);
	rc = system(cmd);
	return rc ? -1 : 1;
}

int report_plots(const char *dir, const struct result *r, size_t n,
		 const struct sys_ops *const *systems, size_t nsys)
{
	static const struct {
		const char *base, *title;
		enum test_kind k;
		enum wait_mode m;
		enum topo t;
		bool bytes;
	} p[] = {
		{ "latency-oneway-spin", "one-way latency (open loop), consumer spinning: p50 solid, p99.9 dashed", TEST_OPENLOOP, WAIT_SPIN, TOPO_1_1, false },
		{ "latency-oneway-block", "one-way latency (open loop), consumer blocking: p50 solid, p99.9 dashed", TEST_OPENLOOP, WAIT_BLOCK, TOPO_1_1, false },
		{ "latency-pingpong-spin", "ping-pong RTT/2, spinning: p50 solid, p99.9 dashed", TEST_PINGPONG, WAIT_SPIN, TOPO_1_1, false },
		{ "latency-pingpong-block", "ping-pong RTT/2, blocking: p50 solid, p99.9 dashed", TEST_PINGPONG, WAIT_BLOCK, TOPO_1_1, false },
		{ "throughput-1to1-spin", "throughput 1->1, spinning", TEST_THROUGHPUT, WAIT_SPIN, TOPO_1_1, false },
		{ "throughput-4to1-spin", "throughput 4->1, spinning", TEST_THROUGHPUT, WAIT_SPIN, TOPO_N_1, false },
		{ "throughput-1to4-spin", "throughput 1->4, spinning", TEST_THROUGHPUT, WAIT_SPIN, TOPO_1_N, false },
		{ "throughput-1to1-block", "throughput 1->1, blocking", TEST_THROUGHPUT, WAIT_BLOCK, TOPO_1_1, false },
		{ "throughput-4to1-block", "throughput 4->1, blocking", TEST_THROUGHPUT, WAIT_BLOCK, TOPO_N_1, false },
		{ "throughput-1to4-block", "throughput 1->4, blocking", TEST_THROUGHPUT, WAIT_BLOCK, TOPO_1_N, false },
		{ "bandwidth-1to1-spin", "bytes/s 1->1, spinning", TEST_THROUGHPUT, WAIT_SPIN, TOPO_1_1, true },
	};
	size_t i;
	int made = 0, failed = 0;

	if (system("command -v gnuplot >/dev/null 2>&1")) {
		bench_log("kmq-bench: gnuplot not found, no plots (install gnuplot-nox)\n");
		return -1;
	}
	for (i = 0; i < sizeof(p) / sizeof(p[0]); i++) {
		int rc = plot(dir, p[i].base, p[i].title,
			      p[i].k == TEST_THROUGHPUT ? (p[i].bytes ? "bytes/s" : "messages/s") :
			      "latency (ns)", r, n, systems, nsys, p[i].k, p[i].m, p[i].t,
			      p[i].bytes);

		if (rc > 0)
			made++;
		else if (rc < 0)
			failed++;
	}
	bench_log("kmq-bench: %d plots in %s%s\n", made, dir, failed ? " (some failed: see gnuplot.log)" : "");
	return failed ? -1 : 0;
}
