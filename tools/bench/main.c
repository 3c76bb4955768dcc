/* SPDX-License-Identifier: MIT */
/*
 * kmq-bench: options, the plan of tests, the run, the report.
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"

static const struct sys_ops *const all_systems[] = {
	&sys_ring, &sys_kmq, &sys_kmq_dev_map, &sys_kmq_dev_copy, &sys_iceoryx,
	&sys_pipe, &sys_uds, &sys_posixmq, &sys_zmq, &sys_nng,
};
#define NSYS	(sizeof(all_systems) / sizeof(all_systems[0]))

static const size_t lat_sizes[] = { 64, 1024, 16384, 65536 };
static const size_t tp_sizes[] = { 64, 1024, 16384, 65536, 1 << 20 };

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
	interrupted = 1;
}

/*
 * The smoke run keeps every system, size, test, mode and topology, but not
 * every combination: one-way latency at every size in both modes, 1->1
 * spinning throughput at every size, everything else at 64 B.
 */
static bool smoke_keep(enum test_kind k, enum wait_mode m, enum topo t, size_t size)
{
	if (k == TEST_OPENLOOP)
		return true;
	if (k == TEST_THROUGHPUT && m == WAIT_SPIN && t == TOPO_1_1)
		return true;
	return size == MSG_MIN_SIZE;
}

/*
 * Keep the better of two runs of one cell: a run with figures over one
 * without, then the lower p50 (latency) or the higher rate (throughput).
 * Every round's headline figure is kept for the JSON.
 */
static void result_merge(struct result *best, const struct result *t)
{
	bool t_ok = !t->fail && (t->kind == TEST_THROUGHPUT ? t->msgs_per_s > 0 : t->n > 0);
	bool b_ok = best->rounds && !best->fail &&
		    (best->kind == TEST_THROUGHPUT ? best->msgs_per_s > 0 : best->n > 0);
	double v = t->kind == TEST_THROUGHPUT ? t->msgs_per_s : (double)t->p50;
	int nr = best->rounds, fails = best->failed_rounds + (t->fail ? 1 : 0);
	double vals[MAX_ROUNDS];
	bool better;

	memcpy(vals, best->round_vals, sizeof(vals));
	if (nr < MAX_ROUNDS)
		vals[nr] = t->fail ? -1 : v;
	better = !nr || (t_ok && (!b_ok || (t->kind == TEST_THROUGHPUT ?
			 t->msgs_per_s > best->msgs_per_s : t->p50 < best->p50)));
	if (better)
		*best = *t;
	best->rounds = nr + 1;
	best->failed_rounds = fails;
	memcpy(best->round_vals, vals, sizeof(vals));
	if (best->fail && t_ok)
		best->fail = NULL;
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: kmq-bench [options]\n"
"  Latency (ping-pong RTT/2 and open-loop one-way) and throughput (1->1, 4->1,\n"
"  1->4) of kmq and its peers, spinning and blocking, in one run. Prints a\n"
"  Markdown table on stdout; writes results.md, results.json and PNG plots\n"
"  to the results directory. Progress goes to stderr.\n"
"\n"
"  -o, --out DIR        results directory (default build/bench)\n"
"      --json           print JSON instead of Markdown on stdout\n"
"  -s, --systems LIST   comma-separated: ring,kmq,kmq-dev,kmq-copy,iceoryx,\n"
"                       pipe,uds,posixmq,zmq,nng (default: all available)\n"
"  -z, --sizes LIST     message sizes in bytes (default 64,1024,16384,65536\n"
"                       for latency, and 1048576 too for throughput)\n"
"  -t, --tests LIST     pingpong,oneway,throughput,lease (default all; lease:\n"
"                       receive + delete with leases against a plain\n"
"                       receive, where /dev/kmq exists)\n"
"  -m, --modes LIST     spin,block (default both)\n"
"      --topos LIST     1-1,4-1,1-4 throughput topologies (default all)\n"
"  -d, --duration S     measurement seconds per cell, one-way twice that\n"
"                       (default 1: ping-pong 1, one-way 2, throughput 1)\n"
"  -w, --warmup S       warm-up seconds before every measurement (0.3)\n"
"  -r, --rate N         open-loop messages per second (10000)\n"
"  -R, --rounds N       run the whole plan N times, interleaved; every cell\n"
"                       reports its best round (default 1; on a shared,\n"
"                       noisy machine use 3)\n"
"      --smoke          every system, size, test, mode and topology, very\n"
"                       briefly, not all combinations (make check)\n"
"      --no-plots       do not run gnuplot\n"
"  -l, --list           list the systems and exit\n"
"  -h, --help\n");
}

static bool in_list(const char *list, const char *word)
{
	size_t n = strlen(word);
	const char *p = list;

	if (!list)
		return true;
	while ((p = strstr(p, word))) {
		if ((p == list || p[-1] == ',') && (p[n] == ',' || !p[n]))
			return true;
		p += n;
	}
	return false;
}

static size_t parse_sizes(const char *s, size_t *out, size_t max)
{
	size_t n = 0;
	char *end;

	while (*s && n < max) {
		unsigned long long v = strtoull(s, &end, 0);

		if (*end == 'k' || *end == 'K')
			v <<= 10, end++;
		else if (*end == 'm' || *end == 'M')
			v <<= 20, end++;
		if (end == s || v < MSG_MIN_SIZE || v > (1u << 20)) {
			fprintf(stderr, "kmq-bench: bad size '%s' (%d B .. 1 MiB)\n", s, MSG_MIN_SIZE);
			exit(2);
		}
		out[n++] = (size_t)v;
		s = *end == ',' ? end + 1 : end;
		if (*end && *end != ',') {
			fprintf(stderr, "kmq-bench: bad size list\n");
			exit(2);
		}
	}
	return n;
}

static void probe_cpus(void)
{
	cpu_set_t set;
	int i;

	bench_opts.ncpu = 0;
	if (sched_getaffinity(0, sizeof(set), &set) == 0) {
		for (i = 0; i < CPU_SETSIZE && bench_opts.ncpu < 64; i++)
			if (CPU_ISSET(i, &set))
				bench_opts.cpus[bench_opts.ncpu++] = i;
	}
	if (!bench_opts.ncpu) {
		bench_opts.ncpu = 1;
		bench_opts.cpus[0] = 0;
	}
}

static int mkdir_p(const char *dir)
{
	char buf[1024], *p;

	snprintf(buf, sizeof(buf), "%s", dir);
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, 0755) && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(buf, 0755) && errno != EEXIST ? -1 : 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'J' },
		{ "systems", required_argument, NULL, 's' },
		{ "sizes", required_argument, NULL, 'z' },
		{ "tests", required_argument, NULL, 't' },
		{ "modes", required_argument, NULL, 'm' },
		{ "topos", required_argument, NULL, 'T' },
		{ "duration", required_argument, NULL, 'd' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "rate", required_argument, NULL, 'r' },
		{ "rounds", required_argument, NULL, 'R' },
		{ "smoke", no_argument, NULL, 'S' },
		{ "no-plots", no_argument, NULL, 'P' },
		{ "list", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = "build/bench", *systems = NULL, *tests = NULL, *modes = NULL;
	const char *topos = NULL;
	size_t user_sizes[16], nuser = 0, nres = 0, i, nsel = 0, total, done = 0, per;
	const struct sys_ops *sel[NSYS];
	const char *skip_sys[NSYS] = { 0 };
	bool json = false, plots = true;
	double duration = -1;
	struct result *res;
	struct machine mach;
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
	struct sigaction sa = { .sa_handler = on_sigint };
	char path[1100];
	FILE *f;
	int c, failures = 0, rounds = 1, round;

	bench_opts.lat_s = 1.0;
	bench_opts.ol_s = 2.0;
	bench_opts.tp_s = 1.0;
	bench_opts.warm_s = 0.3;
	bench_opts.rate = 10000;

	while ((c = getopt_long(argc, argv, "o:s:z:t:m:d:w:r:R:lh", lo, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'J': json = true; break;
		case 's': systems = optarg; break;
		case 'z': nuser = parse_sizes(optarg, user_sizes, 16); break;
		case 't': tests = optarg; break;
		case 'm': modes = optarg; break;
		case 'T': topos = optarg; break;
		case 'd': duration = atof(optarg); break;
		case 'w': bench_opts.warm_s = atof(optarg); break;
		case 'r': bench_opts.rate = atof(optarg); break;
		case 'R': rounds = atoi(optarg); break;
		case 'S': bench_opts.smoke = true; break;
		case 'P': plots = false; break;
		case 'l':
			for (i = 0; i < NSYS; i++)
				printf("%-9s %-24s %s\n", all_systems[i]->name, all_systems[i]->label,
				       all_systems[i]->how);
			return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	if (bench_opts.smoke) {
		bench_opts.lat_s = 0.01;
		bench_opts.ol_s = 0.01;
		bench_opts.tp_s = 0.01;
		bench_opts.warm_s = 0.002;
		bench_opts.rate = 20000;
	}
	if (duration > 0) {
		bench_opts.lat_s = bench_opts.tp_s = duration;
		bench_opts.ol_s = 2 * duration;	/* twice: samples come at the rate */
	}
	if (bench_opts.rate <= 0 || bench_opts.warm_s < 0 || rounds < 1 || rounds > MAX_ROUNDS) {
		fprintf(stderr, "kmq-bench: bad rate, warm-up or rounds (1..%d)\n", MAX_ROUNDS);
		return 2;
	}
	bench_opts.rounds = rounds;
	probe_cpus();
	/* POSIX queues of large messages need more than the 800 KiB default */
	setrlimit(RLIMIT_MSGQUEUE, &rl);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (mkdir_p(out)) {
		fprintf(stderr, "kmq-bench: cannot create %s: %s\n", out, strerror(errno));
		return 1;
	}
	for (i = 0; i < NSYS; i++)
		if (in_list(systems, all_systems[i]->name))
			sel[nsel++] = all_systems[i];
	if (!nsel) {
		fprintf(stderr, "kmq-bench: no such system (see --list)\n");
		return 2;
	}
	machine_probe(&mach);
	bench_log("kmq-bench: %s, %d CPUs, %s, %s, load %s\n", mach.cpu, mach.cores, mach.kernel,
		  mach.virt, mach.load);
	if (bench_opts.ncpu < 2)
		bench_log("kmq-bench: only one CPU usable: processes share it\n");

	/* the plan: system x test x mode x topology x size */
	res = calloc(nsel * 2 * 2 * 16 + nsel * 2 * 3 * 16, sizeof(*res));
	if (!res)
		return 1;
	for (i = 0; i < nsel; i++) {
		enum test_kind k;

		for (k = TEST_PINGPONG; k <= TEST_THROUGHPUT; k++) {
			static const char *const kn[] = { "pingpong", "oneway", "throughput" };
			enum wait_mode m;

			if (!in_list(tests, kn[k]))
				continue;
			for (m = WAIT_SPIN; m <= WAIT_BLOCK; m++) {
				static const char *const tn[] = { "1-1", "4-1", "1-4" };
				const size_t *sz = nuser ? user_sizes :
						   k == TEST_THROUGHPUT ? tp_sizes : lat_sizes;
				size_t nsz = nuser ? nuser : k == TEST_THROUGHPUT ? 5 : 4, z;
				int t;

				if (!in_list(modes, mode_name(m)))
					continue;
				for (t = 0; t < (k == TEST_THROUGHPUT ? 3 : 1); t++) {
					if (k == TEST_THROUGHPUT && !in_list(topos, tn[t]))
						continue;
					for (z = 0; z < nsz; z++) {
						struct result *r;

						if (bench_opts.smoke && !nuser &&
						    !smoke_keep(k, m, (enum topo)t, sz[z]))
							continue;
						r = &res[nres++];

						r->sys = sel[i];
						r->kind = k;
						r->mode = m;
						r->topo = (enum topo)t;
						r->size = sz[z];
					}
				}
			}
		}
	}

	/*
	 * run: round after round; within a round, cell after cell, and every
	 * system on that cell back to back, so that the figures compared in a
	 * ratio are measured seconds apart (the hypervisor moves vCPUs and the
	 * neighbours come and go). Daemons (RouDi) are up for the whole round.
	 * Every cell keeps its best round. The plan is system-major with the
	 * same cells for every system: cell c of system i is res[i * per + c].
	 */
	total = nres * (size_t)rounds;
	per = nres / nsel;
	for (round = 0; round < rounds && !interrupted; round++) {
		size_t cell;

		for (i = 0; i < nsel; i++) {
			const struct sys_ops *o = sel[i];
			size_t j;

			if (skip_sys[i] || !o->global_init)
				continue;
			if (o->global_init(out, &skip_sys[i])) {
				bench_log("kmq-bench: %s: skipped: %s\n", o->label, skip_sys[i]);
				for (j = 0; j < per; j++)
					res[i * per + j].skip = skip_sys[i];
				done += per * (size_t)(rounds - round);
			}
		}
		for (cell = 0; cell < per && !interrupted; cell++) {
			for (i = 0; i < nsel && !interrupted; i++) {
				const struct sys_ops *o = sel[i];
				struct result *r = &res[i * per + cell], t;
				uint64_t t0;
				char sz[32];

				if (skip_sys[i] || r->skip)
					continue;
				done++;
				snprintf(sz, sizeof(sz), "%zu", r->size);
				memset(&t, 0, sizeof(t));
				t.sys = r->sys;
				t.kind = r->kind;
				t.mode = r->mode;
				t.topo = r->topo;
				t.size = r->size;
				t0 = now_ns();
				run_test(&t);
				if (t.skip) {
					r->skip = t.skip;
					continue;
				}
				bench_log("[%zu/%zu] %-24s %-10s %-5s %-4s %8s B: ", done, total,
					  o->label, kind_name(t.kind), mode_name(t.mode),
					  t.kind == TEST_THROUGHPUT ? topo_name(t.topo) : "", sz);
				if (t.fail) {
					bench_log("FAILED: %s", t.fail);
				} else if (t.kind == TEST_THROUGHPUT) {
					bench_log("%.3f M msg/s  %.1f MB/s%s%s", t.msgs_per_s / 1e6,
						  t.bytes_per_s / 1e6, t.note[0] ? "  " : "", t.note);
				} else {
					bench_log("p50 %llu ns  p99.9 %llu ns  max %llu ns  n %llu",
						  (unsigned long long)t.p50,
						  (unsigned long long)t.p999,
						  (unsigned long long)t.max, (unsigned long long)t.n);
				}
				bench_log("  (%.2f s)\n", (double)(now_ns() - t0) / 1e9);
				result_merge(r, &t);
			}
		}
		for (i = 0; i < nsel; i++)
			if (!skip_sys[i] && sel[i]->global_fini)
				sel[i]->global_fini();
	}
	for (i = 0; i < nres; i++)
		if (res[i].fail)
			failures++;
	if (!interrupted && in_list(tests, "lease"))
		lease_bench(out);
	if (!interrupted && tests && in_list(tests, "fanout"))
		fanout_bench(out);
	if (interrupted)
		bench_log("kmq-bench: interrupted, reporting what ran\n");
	machine_load_end(&mach);

	/* drop the systems that did not run at all from the tables */
	{
		const struct sys_ops *ran[NSYS];
		size_t nran = 0;

		for (i = 0; i < nsel; i++)
			if (!skip_sys[i])
				ran[nran++] = sel[i];
		if (json)
			report_json(stdout, &mach, res, nres, ran, nran);
		else
			report_markdown(stdout, &mach, res, nres, ran, nran);
		for (i = 0; i < nsel; i++)
			if (skip_sys[i] && !json)
				printf("- %s: not run (%s)\n", sel[i]->label, skip_sys[i]);
		snprintf(path, sizeof(path), "%s/results.md", out);
		if ((f = fopen(path, "w"))) {
			report_markdown(f, &mach, res, nres, ran, nran);
			for (i = 0; i < nsel; i++)
				if (skip_sys[i])
					fprintf(f, "- %s: not run (%s)\n", sel[i]->label, skip_sys[i]);
			fclose(f);
		}
		snprintf(path, sizeof(path), "%s/results.json", out);
		if ((f = fopen(path, "w"))) {
			report_json(f, &mach, res, nres, ran, nran);
			fclose(f);
		}
		if (plots)
			report_plots(out, res, nres, ran, nran);
	}
	bench_log("kmq-bench: results in %s/ (results.md, results.json, *.png)%s\n", out,
		  failures ? "; some cells FAILED" : "");
	free(res);
	return interrupted ? 130 : failures ? 1 : 0;
}
