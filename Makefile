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
#   PREFIXED="parallel sem"      only these get PROGPREFIX (default: all)

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
DATADIR ?= $(PREFIX)/share/concutils
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  ?= $(PREFIX)/share/zsh/site-functions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d
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

# queue, sem, barrier and event run once per call, often thousands of
# times in a shell loop, so they are linked statically (a static PIE): a
# call then starts without the dynamic loader and libc's relocations, a
# quarter of its cost here (bench/event.sh, bench/sem.sh). STATIC=0 links
# them against the shared libc, as pool and parallel always are (parallel
# resolves host names through NSS). Sanitizers and valgrind need STATIC=0.
STATIC ?= 1
STATIC_TOOLS := queue sem barrier event
B := build
ifneq ($(SANITIZE),)
override STATIC := 0
B := build-san
CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=$(SANITIZE)
endif
# A static PIE needs position-independent objects and a static libc
# (libc6-dev has one; Fedora's is glibc-static): without them the tools
# are linked dynamically, with a note.
ifeq ($(STATIC),1)
ifneq ($(shell echo 'int main(void){return 0;}' | $(CC) -fPIE -x c -static-pie -o /dev/null - 2>/dev/null && echo ok),ok)
$(info make: $(CC) cannot link a static PIE here (is a static libc installed?); linking every program dynamically, as STATIC=0 does)
override STATIC := 0
endif
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
FLAVOUR_NOW := $(B) $(SANITIZE) $(LOOP) static=$(STATIC)
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
ifeq ($(STATIC),1)
CFLAGS += -fPIE
$(STATIC_TOOLS:%=bin/%): LDFLAGS += -static-pie
endif

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

# Installed names carry PROGPREFIX, on the programs PREFIXED lists (all by
# default; debian/rules prefixes only those whose names Debian has taken):
# the programs, their pages (and the names in them, man/prefix.awk) and the
# completions, which all share DATADIR/complete.
PREFIXED ?= $(TOOLS)
NAMES := $(foreach t,$(TOOLS),$(if $(filter $(t),$(PREFIXED)),$(PROGPREFIX))$(t))
PREFIX_PAGE = awk -v p='$(PROGPREFIX)' -v tools='$(PREFIXED)' -f man/prefix.awk
COMPL_SUBST = sed -e 's|@COMPLETE@|$(DATADIR)/complete|g' -e 's|@NAMES@|$(NAMES)|g'
# In a recipe's loop over the tools: n := the installed name of $$t.
NAME_OF = n=$$t; case ' $(PREFIXED) ' in *" $$t "*) n=$(PROGPREFIX)$$t ;; esac

install: all
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man7 \
	    $(DESTDIR)$(DATADIR) $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR)
	for t in $(TOOLS); do $(NAME_OF); \
	    install -m 0755 bin/$$t $(DESTDIR)$(BINDIR)/$$n && \
	    $(PREFIX_PAGE) man/$$t.1 >$(DESTDIR)$(MANDIR)/man1/$$n.1 && \
	    chmod 0644 $(DESTDIR)$(MANDIR)/man1/$$n.1 && \
	    $(COMPL_SUBST) completion/concutils.bash >$(DESTDIR)$(BASHCOMPDIR)/$$n && \
	    chmod 0644 $(DESTDIR)$(BASHCOMPDIR)/$$n && \
	    sed 's|@NAME@|'$$n'|g' completion/concutils.fish | $(COMPL_SUBST) >$(DESTDIR)$(FISHCOMPDIR)/$$n.fish && \
	    chmod 0644 $(DESTDIR)$(FISHCOMPDIR)/$$n.fish || exit 1; done
	$(PREFIX_PAGE) man/concutils.7 >$(DESTDIR)$(MANDIR)/man7/concutils.7
	chmod 0644 $(DESTDIR)$(MANDIR)/man7/concutils.7
	install -m 0755 completion/complete $(DESTDIR)$(DATADIR)/complete
	$(COMPL_SUBST) completion/_concutils >$(DESTDIR)$(ZSHCOMPDIR)/_concutils
	chmod 0644 $(DESTDIR)$(ZSHCOMPDIR)/_concutils

uninstall:
	for t in $(TOOLS); do $(NAME_OF); rm -f $(DESTDIR)$(BINDIR)/$$n $(DESTDIR)$(MANDIR)/man1/$$n.1 \
	    $(DESTDIR)$(BASHCOMPDIR)/$$n $(DESTDIR)$(FISHCOMPDIR)/$$n.fish; done
	rm -f $(DESTDIR)$(MANDIR)/man7/concutils.7 $(DESTDIR)$(ZSHCOMPDIR)/_concutils \
	    $(DESTDIR)$(DATADIR)/complete
	-rmdir $(DESTDIR)$(DATADIR) 2>/dev/null

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
