# kmq: top-level build. `make` builds kmq.ko (kbuild), libkmq, kmqctl and the
# tests; `make check` installs what is missing (apt, as root), builds, runs the
# host unit tests and the VM module suite; `make run` starts the service.

KVER    ?= $(shell uname -r)
# The running kernel's headers, else the newest Debian headers installed.
KDIR    ?= $(firstword $(wildcard /lib/modules/$(KVER)/build) \
                       $(lastword $(sort $(wildcard /lib/modules/*/build))))
O       := build
CC      ?= cc
CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wstrict-prototypes
CPPFLAGS += -Iinclude -Iinclude/uapi -D_GNU_SOURCE
ALL_CFLAGS = $(CFLAGS) $(WARN) -fPIC -pthread
VERSION := 0.1.0

LIB_SRC  := $(wildcard tools/lib/kmq/*.c)
LIB_OBJ  := $(LIB_SRC:%.c=$(O)/%.o)
CTL_SRC  := $(wildcard tools/kmqctl/*.c)
CTL_OBJ  := $(CTL_SRC:%.c=$(O)/%.o)
UNIT_SRC := $(wildcard tests/unit/*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(O)/tests/unit/%)
VMT_SRC  := $(wildcard tests/vm/*.c)
VMT_BIN  := $(VMT_SRC:tests/vm/%.c=$(O)/tests/vm/%)
# libkmq-level SQS tests (include/kmq.h only), run by the VM suite too.
SQST_SRC := $(wildcard tests/sqs/*.c)
SQST_BIN := $(SQST_SRC:tests/sqs/%.c=$(O)/tests/vm/%)
# The queue suite: libkmq's API on whichever backend (host: kmqd, VM: kmq.ko).
QT_SRC   := $(wildcard tests/queue/*.c)
QT_BIN   := $(QT_SRC:tests/queue/%.c=$(O)/tests/queue/%)
HDRS     := $(wildcard include/*.h include/kmq/*.h include/uapi/linux/*.h tools/lib/kmq/*.h tests/*.h tests/vm/*.h \
                       tools/lib/kmqnl/*.h daemon/genl.h)

# libkmqnl (tools/lib/kmqnl): the generic netlink client over libnl-genl, shared
# by kmqctl, kmqd (daemon/genl.c) and the netlink VM test.
NL_CFLAGS := $(shell pkg-config --cflags libnl-genl-3.0 2>/dev/null || echo -I/usr/include/libnl3)
NL_LIBS   := $(shell pkg-config --libs libnl-genl-3.0 2>/dev/null || echo -lnl-genl-3 -lnl-3)
NL_SRC    := $(wildcard tools/lib/kmqnl/*.c)
NL_OBJ    := $(NL_SRC:%.c=$(O)/%.o)
GENL_OBJ  := $(O)/daemon/genl.o

CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null || echo -lcheck -lsubunit -lm -lrt -lpthread)

.PHONY: all module lib tools tests trace check check-unit check-shm check-vm check-w1 deps run clean install
.SECONDARY:

all: module lib tools tests trace

deps:
	@tools/deps/install

module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

# The module must build warning-free with W=1: rebuild it so, failing on any warning.
check-w1:
	@mkdir -p $(O)
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean >/dev/null
	$(MAKE) -C $(KDIR) M=$(CURDIR) W=1 modules 2>&1 | tee $(O)/w1.log
	@! grep -E 'warning:|error:' $(O)/w1.log

lib: $(O)/lib/libkmq.a $(O)/lib/libkmq.so $(O)/lib/pkgconfig/libkmq.pc $(O)/lib/libkmqnl.a $(GENL_OBJ)

$(O)/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(NL_OBJ) $(GENL_OBJ) $(CTL_OBJ) $(O)/tests/vm/netlink_test: CPPFLAGS += $(NL_CFLAGS) -Itools/lib/kmqnl -Idaemon
$(CTL_OBJ): CPPFLAGS += -Ibpf

$(O)/lib/libkmqnl.a: $(NL_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(O)/lib/libkmq.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(O)/lib/libkmq.so: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) -shared -Wl,-soname,libkmq.so.0 -o $(O)/lib/libkmq.so.0 $^ -pthread
	ln -sf libkmq.so.0 $@

$(O)/lib/pkgconfig/libkmq.pc: tools/lib/kmq/libkmq.pc.in
	@mkdir -p $(dir $@)
	sed -e 's|@PREFIX@|$(PREFIX)|; s|@VERSION@|$(VERSION)|' $< > $@

tools: $(O)/bin/kmqctl $(O)/bin/kmqd

$(O)/bin/kmqctl: $(CTL_OBJ) $(O)/lib/libkmq.a $(O)/lib/libkmqnl.a
	@mkdir -p $(dir $@)
	$(CC) -o $@ $(CTL_OBJ) $(O)/lib/libkmq.a $(O)/lib/libkmqnl.a -pthread -ljson-c -lcrypto $(NL_LIBS) $(BPF_STATIC_LIBS) -lm

# ---- kmqd (daemon/): the daemon and its shm backend.
# daemon/trace_main.c is kmqd-trace's main (the loader alone).
KMQD_SRC := $(filter-out daemon/trace_main.c,$(wildcard daemon/*.c))
KMQD_OBJ := $(KMQD_SRC:%.c=$(O)/%.o)
INIH_LIBS := $(shell pkg-config --libs inih 2>/dev/null || echo -linih)
# Topics (daemon/topic.c, filter.c, ...): json-c for policies and envelopes.
KMQD_LIBS := -ljson-c $(shell pkg-config --libs libcurl 2>/dev/null || echo -lcurl) -lcrypto -lm

$(O)/daemon/%.o: daemon/%.c $(wildcard daemon/*.h) $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itools/lib/kmq -Idaemon $(NL_CFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(O)/bin/kmqd: $(KMQD_OBJ) $(O)/lib/libkmq.a $(O)/lib/libkmqnl.a
	@mkdir -p $(dir $@)
	$(CC) -o $@ $(KMQD_OBJ) $(O)/lib/libkmq.a $(O)/lib/libkmqnl.a $(INIH_LIBS) $(NL_LIBS) $(KMQD_LIBS) $(BPF_LIBS) -pthread

# kmqd's tests: unit tests of its pure parts (linked with its objects, run
# by check-unit) and daemon tests against a running kmqd (run by check-shm).
DUNIT_BIN := $(O)/tests/daemon/test_units
DAEMON_TEST_BIN := $(O)/tests/daemon/daemon_test
KMQD_PURE_OBJ := $(O)/daemon/frame.o $(O)/daemon/config.o $(O)/daemon/log.o $(O)/daemon/journal.o

$(DUNIT_BIN): tests/daemon/test_units.c $(KMQD_PURE_OBJ) $(HDRS) daemon/kmqd.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itools/lib/kmq -Idaemon $(ALL_CFLAGS) -o $@ $< $(KMQD_PURE_OBJ) $(INIH_LIBS) $(CHECK_LIBS)

$(DAEMON_TEST_BIN): tests/daemon/daemon_test.c $(O)/lib/libkmq.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -o $@ $< $(O)/lib/libkmq.a $(CHECK_LIBS)

# Filter policies (daemon/filter.c), table-driven.
FILTER_TEST_BIN := $(O)/tests/daemon/test_filter
$(FILTER_TEST_BIN): tests/daemon/test_filter.c $(O)/daemon/filter.o daemon/filter.h $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Idaemon $(ALL_CFLAGS) -o $@ $< $(O)/daemon/filter.o -ljson-c $(CHECK_LIBS)

# [topics] http_allow (daemon/urlpolicy.c) against hostile URLs.
URLPOLICY_TEST_BIN := $(O)/tests/daemon/test_urlpolicy
$(URLPOLICY_TEST_BIN): tests/daemon/test_urlpolicy.c $(O)/daemon/urlpolicy.o $(KMQD_PURE_OBJ) daemon/urlpolicy.h daemon/kmqd.h $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itools/lib/kmq -Idaemon $(ALL_CFLAGS) -o $@ $< $(O)/daemon/urlpolicy.o $(KMQD_PURE_OBJ) $(INIH_LIBS) $(KMQD_LIBS) $(CHECK_LIBS)

# Topics end to end (tests/topics): run by check-shm, and in the VM.
TOPIC_TEST_BIN := $(O)/tests/topics/topic_test
$(TOPIC_TEST_BIN): tests/topics/topic_test.c $(O)/lib/libkmq.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -o $@ $< $(O)/lib/libkmq.a -ljson-c $(CHECK_LIBS)

tests: $(UNIT_BIN) $(VMT_BIN) $(SQST_BIN) $(QT_BIN) $(DUNIT_BIN) $(DAEMON_TEST_BIN) $(FILTER_TEST_BIN) $(URLPOLICY_TEST_BIN) $(TOPIC_TEST_BIN)

$(O)/tests/unit/%: tests/unit/%.c $(O)/lib/libkmq.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itools/lib/kmq -Itests $(ALL_CFLAGS) -o $@ $< $(O)/lib/libkmq.a $(CHECK_LIBS)

# kmqctl's parsers, linked as they are (the verbs and main are not).
CTL_ARGS_OBJ := $(O)/tools/kmqctl/sqsargs.o $(O)/tools/kmqctl/args.o $(O)/tools/kmqctl/output.o
$(O)/tests/unit/test_kmqctl_args: tests/unit/test_kmqctl_args.c $(CTL_ARGS_OBJ) $(O)/lib/libkmq.a $(HDRS) tools/kmqctl/kmqctl.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itools/kmqctl $(ALL_CFLAGS) -o $@ $< $(CTL_ARGS_OBJ) $(O)/lib/libkmq.a $(CHECK_LIBS) -ljson-c -lcrypto

$(O)/tests/vm/%: tests/sqs/%.c tests/sqs/sqs.h $(O)/lib/libkmq.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -o $@ $< $(O)/lib/libkmq.a $(CHECK_LIBS)

$(O)/tests/queue/%: tests/queue/%.c $(O)/lib/libkmq.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -o $@ $< $(O)/lib/libkmq.a $(CHECK_LIBS)

$(O)/tests/vm/%: tests/vm/%.c $(O)/lib/libkmq.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itools/lib/kmq -Itests $(ALL_CFLAGS) -o $@ $< $(O)/lib/libkmq.a $(CHECK_LIBS)

$(O)/tests/unit/test_kmqnl: tests/unit/test_kmqnl.c $(O)/lib/libkmqnl.a $(GENL_OBJ) $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(NL_CFLAGS) -Itools/lib/kmqnl -Idaemon $(ALL_CFLAGS) -o $@ $< $(GENL_OBJ) $(O)/lib/libkmqnl.a $(CHECK_LIBS) $(NL_LIBS)

# The netlink test also drives kmqd's client (daemon/genl.c).
$(O)/tests/vm/netlink_test: tests/vm/netlink_test.c $(O)/lib/libkmq.a $(O)/lib/libkmqnl.a $(GENL_OBJ) $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itools/lib/kmq -Itests $(ALL_CFLAGS) -o $@ $< $(GENL_OBJ) $(O)/lib/libkmqnl.a $(O)/lib/libkmq.a $(CHECK_LIBS) $(NL_LIBS)

check: deps
	$(MAKE) check-w1
	$(MAKE) all
	$(MAKE) check-unit
	$(MAKE) check-shm
	$(MAKE) check-trace
	$(MAKE) check-bench
	$(MAKE) check-vm

check-unit: $(UNIT_BIN) $(DUNIT_BIN) $(FILTER_TEST_BIN) $(URLPOLICY_TEST_BIN)
	@tests/run-unit $(UNIT_BIN) $(DUNIT_BIN) $(FILTER_TEST_BIN) $(URLPOLICY_TEST_BIN)

# The shm backend on this host: kmqd, the queue suite, the daemon tests.
check-shm: all
	@tests/daemon/check-shm

check-vm: all
	tests/vm/run

PREFIX ?= /usr/local
SYSTEMD_UNITDIR ?= /etc/systemd/system
install: all
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include/linux $(DESTDIR)$(PREFIX)/bin
	install -m 644 include/kmq.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 include/uapi/linux/kmq.h $(DESTDIR)$(PREFIX)/include/linux/
	install -m 644 $(O)/lib/libkmq.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(O)/lib/libkmq.so.0 $(DESTDIR)$(PREFIX)/lib/
	ln -sf libkmq.so.0 $(DESTDIR)$(PREFIX)/lib/libkmq.so
	install -m 644 $(O)/lib/pkgconfig/libkmq.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/
	install -m 755 $(O)/bin/kmqctl $(DESTDIR)$(PREFIX)/bin/
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/share/man/man8 $(DESTDIR)$(SYSTEMD_UNITDIR)
	install -m 755 $(O)/bin/kmqd $(DESTDIR)$(PREFIX)/sbin/
	install -m 644 daemon/kmqd.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	sed 's|@SBINDIR@|$(PREFIX)/sbin|' daemon/kmqd.service > $(DESTDIR)$(SYSTEMD_UNITDIR)/kmqd.service

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	rm -rf $(O)

# ---- kmq-bench (tools/bench): `make bench` measures on this host (kmq's fast
# path on a memfd queue, next to its peers), `make bench-vm` in the VM through
# /dev/kmq, `make check-bench` is a smoke run of seconds (no thresholds).
BENCH_OBJ  := $(patsubst %.c,$(O)/%.o,$(wildcard tools/bench/*.c))
BENCH_IOX  := $(lastword $(sort $(wildcard /usr/include/iceoryx/v*)))
# This host is shared and noisy: three interleaved rounds, best round per cell.
BENCH_ARGS ?= --rounds 3 --duration 0.5 --warmup 0.2
BENCH_VM_ARGS ?=
.PHONY: bench bench-vm check-bench

$(O)/tools/bench/%.o: tools/bench/%.c tools/bench/bench.h $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itools/lib/kmq -isystem $(BENCH_IOX) $(ALL_CFLAGS) -c -o $@ $<

$(O)/bin/kmq-bench: $(BENCH_OBJ) $(O)/lib/libkmq.a
	@mkdir -p $(dir $@)
	$(CC) -o $@ $(BENCH_OBJ) $(O)/lib/libkmq.a -lzmq -lnng -liceoryx_binding_c -lrt -pthread

bench: $(O)/bin/kmq-bench
	$(O)/bin/kmq-bench --out $(O)/bench $(BENCH_ARGS)

bench-vm: module $(O)/bin/kmq-bench
	tools/bench/run-vm $(BENCH_VM_ARGS)

check-bench: $(O)/bin/kmq-bench
	@echo "kmq-bench --smoke (log: $(O)/bench-smoke.log)"
	@$(O)/bin/kmq-bench --smoke --out $(O)/bench-smoke >/dev/null 2>$(O)/bench-smoke.log || \
		{ tail -n 30 $(O)/bench-smoke.log; echo "kmq-bench smoke run FAILED"; exit 1; }

.PHONY: run
run: deps all
	tools/run

# ---- bpf/ (issue 7): kmq's BPF programs, CO-RE against this kernel's BTF,
# as a libbpf skeleton; kmqd's loader (daemon/trace.c) and kmqd-trace, the
# loader on its own. vmlinux.h only gives the kernel's types: the programs
# read kmq.ko's tracepoints through hand-declared contexts.
BPF_CLANG  ?= clang
BPFTOOL    ?= bpftool
BPF_SYSINC := $(shell $(BPF_CLANG) -v -E - </dev/null 2>&1 | sed -n '/<...> search starts here:/,/End of search list./{ s| \(/.*\)| -idirafter \1|p }')
BPF_LIBS   := $(shell pkg-config --libs libbpf 2>/dev/null || echo -lbpf -lelf -lz)
# kmqctl links libbpf statically: three more shared objects to load would
# slow every kmqctl start (the VM's SQS tests time kmqctl runs in seconds).
BPF_STATIC_LIBS := -Wl,-Bstatic -lbpf -lelf -lz -Wl,-Bdynamic
TRACE_OBJ  := $(O)/daemon/trace.o

$(O)/bpf/vmlinux.h:
	@mkdir -p $(dir $@)
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

$(O)/bpf/kmq.bpf.o: bpf/kmq.bpf.c bpf/kmq_trace.h $(O)/bpf/vmlinux.h
	$(BPF_CLANG) -g -O2 -target bpf -D__TARGET_ARCH_x86 -I$(O)/bpf -Ibpf $(BPF_SYSINC) -Wall -Werror -c $< -o $@
	llvm-strip -g $@

$(O)/bpf/kmq.skel.h: $(O)/bpf/kmq.bpf.o
	$(BPFTOOL) gen skeleton $< name kmq_bpf > $@.tmp && mv $@.tmp $@

$(O)/daemon/trace.o $(O)/daemon/trace_main.o: CPPFLAGS += -I$(O)/bpf -Ibpf -Idaemon
$(O)/daemon/trace.o: $(O)/bpf/kmq.skel.h daemon/trace.h bpf/kmq_trace.h
$(O)/daemon/trace_main.o: daemon/trace.h

$(O)/bin/kmqd-trace: $(O)/daemon/trace_main.o $(TRACE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(BPF_LIBS)

trace: $(O)/bin/kmqd-trace

# Tracing tests: the known workload (statically linked: its USDT probes are
# in the executable) and the host check (USDT, as root: tests/trace/host.sh).
$(O)/tests/trace/usdt_workload: tests/trace/usdt_workload.c $(O)/lib/libkmq.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itools/lib/kmq $(ALL_CFLAGS) -o $@ $< $(O)/lib/libkmq.a

trace: $(O)/tests/trace/usdt_workload

.PHONY: check-trace
check-trace: trace tools $(O)/bin/kmqd
	@tests/trace/host.sh || { rc=$$?; [ $$rc = 77 ] || exit $$rc; }
	@tests/trace/kmqd.sh || { rc=$$?; [ $$rc = 77 ] || exit $$rc; }
	@tests/trace/kmqd_flow.sh shm || { rc=$$?; [ $$rc = 77 ] || exit $$rc; }
	@tests/trace/nonroot.sh || { rc=$$?; [ $$rc = 77 ] || exit $$rc; }
