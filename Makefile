# backstop: stop email backscatter at local delivery.
#
#   make            build ./backstop (installs missing build packages)
#   make check      every test: unit, end to end, corpus, faults, sanitizers
#   make demo       deliver a real bounce and a forged one into ./demo-maildir
#   make install    PREFIX=/usr/local DESTDIR=
#   make deb        backstop_VERSION_ARCH.deb here, checked by lintian
#   make bench      benchmarks against procmail, maildrop, Sisimai, SpamAssassin

PREFIX	?= /usr/local
BINDIR	?= $(PREFIX)/bin
MANDIR	?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
DESTDIR	?=

CC	?= cc
CFLAGS	?= -g -O2
override CFLAGS += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wformat=2 -Wshadow \
	-Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith \
	-Wcast-qual -Wsign-compare -fPIE \
	-DSYSCONFDIR='"$(SYSCONFDIR)"'
LDFLAGS	?=
# Static libetpan, PCRE2 and libyaml: Debian's libetpan.so pulls in gnutls,
# libdb, sasl and more at load time, which costs more than a whole maildir
# write (see docs/performance.md).  The .a files bring only the parsers.
LIBDIR	:= $(shell pkg-config --variable=libdir libetpan 2>/dev/null || echo /usr/lib/x86_64-linux-gnu)
STATIC_LIBS = $(LIBDIR)/libetpan.a $(LIBDIR)/libpcre2-8.a $(LIBDIR)/libyaml.a
# The binary links libc statically too (-static-pie): one process per
# message pays dynamic loading on every delivery (bench: 1.67x -> 1.42x the
# floor on a bounce).  No NSS call is made (HOME, else /etc/passwd read
# with fgetpwent); iconv loads the same glibc's gconv modules at run time
# for RFC 2047 subjects in legacy charsets, and does without them if not.
BIN_LDFLAGS = -static-pie
override LDFLAGS += -pie
# The code a delivery runs, laid out together (filter/hot.order, written
# by scripts/hot-order.sh): ld.lld places the sections of those functions
# first, in the order a delivery first runs them, so that it faults in a
# few pages of text, not one in every 64 KiB of the 1.4 MB (bench: a
# bounce 0.20 ms faster, docs/performance.md).  Our functions each in its
# own section; without ld.lld the same binary is linked in the default
# order.
override CFLAGS += -ffunction-sections
LLD	:= $(shell command -v ld.lld 2>/dev/null)
ifneq ($(LLD),)
ORDER_LDFLAGS = -fuse-ld=lld -Wl,--symbol-ordering-file=filter/hot.order \
	-Wl,--no-warn-symbol-ordering
endif

SRCS	= $(filter-out filter/main.c,$(sort $(wildcard filter/*.c)))
OBJS	= $(SRCS:.c=.o)
HDRS	= $(wildcard filter/*.h)

ASAN_DIR = build-asan
ASAN_FLAGS = -g -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined -DBACKSTOP_SANITIZE

all: deps backstop

deps:
	@scripts/deps.sh build

backstop: $(OBJS) filter/main.o filter/hot.order
	$(CC) $(CFLAGS) $(filter-out -pie,$(LDFLAGS)) $(BIN_LDFLAGS) \
		$(ORDER_LDFLAGS) -o $@ $(OBJS) filter/main.o $(STATIC_LIBS)

# filter/hot.order again, from traced deliveries (after changing the code
# a delivery runs; needs ptrace)
hot-order:
	scripts/hot-order.sh

filter/%.o: filter/%.c $(HDRS) Makefile
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

libbackstop.a: $(OBJS)
	rm -f $@
	ar rcs $@ $(OBJS)

# The same sources with ASan and UBSan; tests run this binary too.
$(ASAN_DIR)/backstop: $(SRCS) filter/main.c $(HDRS)
	@mkdir -p $(ASAN_DIR)
	$(CC) $(CFLAGS) $(ASAN_FLAGS) -o $@ $(SRCS) filter/main.c \
		$(STATIC_LIBS)

asan: deps $(ASAN_DIR)/backstop

# The same sources linked dynamically, for valgrind (which cannot replace
# malloc in a static binary).
DYN_DIR = build-dyn
$(DYN_DIR)/backstop: $(SRCS) filter/main.c $(HDRS)
	@mkdir -p $(DYN_DIR)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(SRCS) filter/main.c $(STATIC_LIBS)

# --- tests -----------------------------------------------------------------

UNIT_TESTS = tests/unit/test_hdr tests/unit/test_rules tests/unit/test_classify

tests/unit/%: tests/unit/%.c libbackstop.a $(HDRS)
	$(CC) $(CFLAGS) -Wno-unused-parameter -Ifilter $(LDFLAGS) -o $@ $< \
		libbackstop.a $(STATIC_LIBS) -lcmocka

check-deps:
	@scripts/deps.sh check

unit: check-deps $(UNIT_TESTS)
	@for t in $(UNIT_TESTS); do ./$$t || exit 1; done

# The unit tests again, under ASan + UBSan.
unit-asan: check-deps
	@mkdir -p $(ASAN_DIR)
	@for t in $(UNIT_TESTS); do \
		$(CC) $(CFLAGS) -Wno-unused-parameter $(ASAN_FLAGS) -Ifilter \
			-o $(ASAN_DIR)/$${t##*/} $$t.c $(SRCS) $(STATIC_LIBS) \
			-lcmocka || exit 1; \
		./$(ASAN_DIR)/$${t##*/} || exit 1; \
	done

# TAP suites run by prove: the binary on real maildirs, the corpus,
# faults, fuzz smoke, the Debian package (tests/t/deb.t: make deb, then
# install, demo, reinstall, remove, purge; as root, first pass only), then
# the e2e suite with real MTAs.
TAP_TESTS = tests/t/*.t

check: all check-deps unit asan unit-asan $(DYN_DIR)/backstop
	BACKSTOP=$(CURDIR)/backstop BACKSTOP_DYNAMIC=$(CURDIR)/$(DYN_DIR)/backstop \
		prove -v $(TAP_TESTS) tests/e2e.t
	@echo "== the same suites under ASan + UBSan"
	BACKSTOP=$(CURDIR)/$(ASAN_DIR)/backstop BACKSTOP_SANITIZED=1 \
		prove $(TAP_TESTS)

check-e2e: all
	BACKSTOP=$(CURDIR)/backstop prove -v tests/e2e.t

# --- demo, install ---------------------------------------------------------

demo: all
	@scripts/demo.sh

install: backstop
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(SYSCONFDIR)/backstop
	install -m 0755 backstop $(DESTDIR)$(BINDIR)/backstop
	install -m 0644 man/backstop.1 $(DESTDIR)$(MANDIR)/man1/backstop.1
	install -m 0644 man/backstop.yaml.5 $(DESTDIR)$(MANDIR)/man5/backstop.yaml.5
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/backstop/rules.yaml ]; then \
		echo "keeping existing $(DESTDIR)$(SYSCONFDIR)/backstop/rules.yaml"; \
	else \
		install -m 0644 rules/rules.yaml $(DESTDIR)$(SYSCONFDIR)/backstop/rules.yaml; \
	fi

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/backstop $(DESTDIR)$(MANDIR)/man1/backstop.1 \
		$(DESTDIR)$(MANDIR)/man5/backstop.yaml.5
	@if [ -f $(DESTDIR)$(SYSCONFDIR)/backstop/rules.yaml ] && \
	    cmp -s rules/rules.yaml $(DESTDIR)$(SYSCONFDIR)/backstop/rules.yaml; then \
		rm -f $(DESTDIR)$(SYSCONFDIR)/backstop/rules.yaml; \
		rmdir $(DESTDIR)$(SYSCONFDIR)/backstop 2>/dev/null || true; \
	else \
		echo "keeping $(DESTDIR)$(SYSCONFDIR)/backstop/rules.yaml (changed locally)"; \
	fi

# --- Debian package -----------------------------------------------------------

# The version is BACKSTOP_VERSION of filter/backstop.h; debian/changelog
# must say the same.  The package is built in a copy of the tree under
# build-deb/ (dpkg-buildpackage writes next to the source directory), then
# checked by lintian: no error, no warning (build-deb/lintian.txt).
VERSION	:= $(shell sed -n 's/^\#define BACKSTOP_VERSION "\(.*\)"$$/\1/p' filter/backstop.h)
DEB_DIR	= build-deb
DEB_ARCH := $(shell dpkg --print-architecture 2>/dev/null)
DEB	= backstop_$(VERSION)_$(DEB_ARCH).deb

deb:
	@scripts/deps.sh deb
	@v=$$(dpkg-parsechangelog -S Version); [ "$$v" = "$(VERSION)" ] || { \
		echo "debian/changelog says $$v, filter/backstop.h $(VERSION)" >&2; \
		exit 1; }
	rm -rf $(DEB_DIR) $(DEB)
	mkdir -p $(DEB_DIR)/backstop-$(VERSION)
	{ git ls-files -z --cached --others --exclude-standard 2>/dev/null || \
		find . -path ./.git -prune -o -path ./$(DEB_DIR) -prune -o \
		-type f -print0; } | \
		tar --null -T - -cf - | tar -xf - -C $(DEB_DIR)/backstop-$(VERSION)
	cd $(DEB_DIR)/backstop-$(VERSION) && dpkg-buildpackage -us -uc -b
	lintian --fail-on error,warning --display-info --info \
		$(DEB_DIR)/backstop_$(VERSION)_$(DEB_ARCH).changes \
		> $(DEB_DIR)/lintian.txt 2>&1 || { cat $(DEB_DIR)/lintian.txt; exit 1; }
	@cat $(DEB_DIR)/lintian.txt
	cp $(DEB_DIR)/$(DEB) $(DEB)
	@echo "built $(DEB)"

bench: all
	@scripts/deps.sh bench
	bench/run.sh

# libFuzzer (clang, ASan + UBSan) over classify(): an hour by default,
# FUZZ_SECONDS=N for another length.  make check runs a 60 s smoke run.
FUZZ_SECONDS ?= 3600
fuzz: check-deps
	fuzz/run.sh $(FUZZ_SECONDS)

clean:
	rm -rf backstop filter/*.o libbackstop.a $(UNIT_TESTS) $(ASAN_DIR) $(DYN_DIR) \
		demo-maildir fuzz/fuzz_classify fuzz/fuzz_rules $(DEB_DIR) $(DEB)

.PHONY: all deps asan hot-order check check-deps unit unit-asan check-e2e fuzz demo install uninstall \
	deb bench clean
