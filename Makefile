# concutils: one non-recursive GNU Makefile.
# make [all] | check | install | uninstall | clean | lint | bench
#   SANITIZE=address,undefined   build and test with ASan+UBSan (objects go to build-san/)
#   LOOP=poll                    use the poll(2) event-loop backend instead of epoll
#   make check TESTS="test/a.bats ..."  run only those test files
#   WERROR=1                     turn warnings into errors (CI does)
#   make fuzz [FUZZ_TIME=60]     run every libFuzzer target in fuzz/ (needs clang);
#                                new units go to fuzz/build/corpus, never fuzz/corpus
#   make fuzz-ci                 replay the corpus, then fixed-seed runs (what CI does)
#   make fuzz-merge              add the new units that reach new code to fuzz/corpus
#   make torture [TORTURE_TIME=5m] [SEED=N]  the long crash test (test/torture/)
#   PROGPREFIX=c                 install the programs as cpool, cparallel, ... (avoids
#                                clashing with GNU parallel's /usr/bin/parallel)

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
DESTDIR ?=
PROGPREFIX ?=
VERSION := 0.1.0

CC      ?= cc
CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
CPPFLAGS += -D_GNU_SOURCE -DCONC_VERSION='"$(VERSION)"' -iquote lib
LDLIBS  += -lpthread

ifeq ($(WERROR),1)
WARN += -Werror
endif

ifeq ($(origin LOOP),undefined)
LOOP := $(if $(filter Linux,$(shell uname -s)),epoll,poll)
endif

B := build
ifneq ($(SANITIZE),)
B := build-san
CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=$(SANITIZE)
endif

TOOLS   := pool parallel queue sem barrier event
LIB_SRC := $(filter-out lib/loop_epoll.c lib/loop_poll.c,$(wildcard lib/*.c)) lib/loop_$(LOOP).c
LIB_OBJ := $(LIB_SRC:%.c=$(B)/%.o)
CMD_OBJ := $(patsubst %.c,$(B)/%.o,$(wildcard $(TOOLS:%=cmd/%/*.c)))
BINS    := $(TOOLS:%=bin/%)
PAGES   := $(wildcard man/*.1 man/*.7)
BENCH_SRC := $(wildcard bench/*.c)

.DELETE_ON_ERROR:
.PHONY: all check install uninstall clean lint bench fuzz fuzz-ci fuzz-merge torture FORCE

all: $(BINS)

# With SANITIZE the binaries still land in bin/, so the tests run them; the
# objects live in build-san/ so that the two builds never mix object files.
$(B)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -MMD -MP -c -o $@ $<

# bin/.flavour names the build (plain or sanitizer, and the loop backend).
# Its recipe runs whenever something is built but writes the file only when
# the flavour changed, so that switching relinks everything and nothing else
# does. The library lives in the build directory, with the objects.
FLAVOUR := bin/.flavour
FLAVOUR_NOW := $(B) $(SANITIZE) $(LOOP)
LIB := $(B)/libconc.a

$(FLAVOUR): FORCE
	@mkdir -p $(@D)
	@[ "`cat $@ 2>/dev/null`" = "$(FLAVOUR_NOW)" ] || echo "$(FLAVOUR_NOW)" >$@
FORCE:

$(LIB): $(LIB_OBJ) $(FLAVOUR)
	rm -f $@
	$(AR) rcs $@ $(LIB_OBJ)

define tool_rule
bin/$(1): $$(filter $(B)/cmd/$(1)/%,$$(CMD_OBJ)) $(LIB) $(FLAVOUR)
	$$(CC) $$(LDFLAGS) -o $$@ $$(filter %.o,$$^) $(LIB) $$(LDLIBS)
endef
$(foreach t,$(TOOLS),$(eval $(call tool_rule,$(t))))

check: all $(B)/test/unit $(B)/test/torture/torture
	@UNIT=$(CURDIR)/$(B)/test/unit TORTURE=$(CURDIR)/$(B)/test/torture/torture test/run-bats $(TESTS)

$(B)/test/unit: $(B)/test/unit.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

# The torture test (test/torture/): make torture [TORTURE_TIME=5m] [SEED=N]
TORTURE_OBJ := $(patsubst %.c,$(B)/%.o,$(wildcard test/torture/*.c))
# The torture test alone uses libm (log, exp).
$(B)/test/torture/torture: $(TORTURE_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $(TORTURE_OBJ) $(LIB) $(LDLIBS) -lm

torture: all $(B)/test/torture/torture
	@nice -n 10 $(B)/test/torture/torture -v -t $(or $(TORTURE_TIME),5m)

install: all
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man7
	for t in $(TOOLS); do install -m 0755 bin/$$t $(DESTDIR)$(BINDIR)/$(PROGPREFIX)$$t; done
	for t in $(TOOLS); do install -m 0644 man/$$t.1 $(DESTDIR)$(MANDIR)/man1/$(PROGPREFIX)$$t.1; done
	install -m 0644 man/concutils.7 $(DESTDIR)$(MANDIR)/man7/concutils.7

uninstall:
	for t in $(TOOLS); do rm -f $(DESTDIR)$(BINDIR)/$(PROGPREFIX)$$t $(DESTDIR)$(MANDIR)/man1/$(PROGPREFIX)$$t.1; done
	rm -f $(DESTDIR)$(MANDIR)/man7/concutils.7

clean:
	rm -rf build build-san bin bench/bin

lint:
	@.ci/lint

# FUZZ_TIME=seconds per target (default 60); see fuzz/run
fuzz:
	@fuzz/run explore

fuzz-ci:
	@fuzz/run ci

fuzz-merge:
	@fuzz/run merge

bench: all
	@bench/run

-include $(LIB_OBJ:.o=.d) $(CMD_OBJ:.o=.d) $(B)/test/unit.d $(TORTURE_OBJ:.o=.d)
