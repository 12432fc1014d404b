# librecnn — one Makefile.  `make help` lists the targets.

VERSION_MAJOR := 0
VERSION_MINOR := 1
VERSION_PATCH := 0
VERSION := $(VERSION_MAJOR).$(VERSION_MINOR).$(VERSION_PATCH)
SONAME := librecnn.so.$(VERSION_MAJOR)

PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
DESTDIR ?=

CC ?= cc
BUILD ?= build
# BLAS/LAPACKE through pkg-config; override (e.g. BLAS_PC=blas) for another CBLAS.
BLAS_PC ?= openblas lapacke
PKG_CFLAGS = $(shell pkg-config --cflags $(BLAS_PC) check 2>/dev/null)
BLAS_LIBS = $(shell pkg-config --libs $(BLAS_PC) 2>/dev/null)
CHECK_LIBS = $(shell pkg-config --libs check 2>/dev/null)

OPT ?= -O2
ifeq ($(NATIVE),1)
OPT += -march=native
endif
WARN := -std=c11 -Wall -Wextra -Werror -pedantic
# -fno-trapping-math: the library never reads FP exception flags, and
# without it GCC will not turn the selects of the element-wise kernels
# (RProp, sigmoid, clamps) into vector blends.  Values are unchanged.
# -fno-math-errno: nothing reads errno after a math call; sqrtf can then be
# one instruction, in vector loops too (the optimizers).
# -ffp-contract=fast: a*b+c becomes one FMA where the target has it (the
# x86-64-v3 clones of the hot kernels, NATIVE=1); results stay fixed for a
# given machine and build, which is what determinism promises.
CFLAGS_ALL = $(WARN) $(OPT) -fno-trapping-math -fno-math-errno -ffp-contract=fast -g -fPIC -fopenmp -D_POSIX_C_SOURCE=200809L \
	-Iinclude $(PKG_CFLAGS) $(EXTRA_CFLAGS)
LIB_CFLAGS = $(CFLAGS_ALL) -fvisibility=hidden -DRECNN_BUILDING
LDLIBS_ALL = $(BLAS_LIBS) -fopenmp -lm $(EXTRA_LDFLAGS)

SRC := $(sort $(wildcard src/*/*.c))
OBJ := $(SRC:%.c=$(BUILD)/%.o)
HDR := $(wildcard include/*.h include/recnn/*.h src/*/*.h)

SHLIB := lib/librecnn.so.$(VERSION)
STLIB := lib/librecnn.a
ifneq ($(BUILD),build)
SHLIB := $(BUILD)/lib/librecnn.so.$(VERSION)
STLIB := $(BUILD)/lib/librecnn.a
endif
LIBDIR_OUT := $(dir $(SHLIB))

TEST_SRC := $(sort $(wildcard tests/test_*.c))
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
TEST_COMMON := $(wildcard tests/common/*.c)

EXAMPLE_SRC := $(sort $(wildcard examples/*.c))
EXAMPLE_BIN := $(EXAMPLE_SRC:examples/%.c=$(BUILD)/examples/%)

BENCH_SRC := $(sort $(wildcard bench/*.c))
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)

.PHONY: all lib examples check sanitize valgrind install uninstall deps demo \
	abi-check abi-baseline fuzz bench bench-scale clean help pc-test
.DEFAULT_GOAL := all

all: lib examples pkgconfig/recnn.pc

lib: $(SHLIB) $(STLIB)

# Objects also depend on the Makefile: a flag change rebuilds them.
$(BUILD)/%.o: %.c $(HDR) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(LIB_CFLAGS) -c $< -o $@

$(SHLIB): $(OBJ) src/librecnn.map
	@mkdir -p $(dir $@)
	$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--version-script=src/librecnn.map \
		-Wl,--no-undefined -o $@ $(OBJ) $(LDLIBS_ALL)
	ln -sf librecnn.so.$(VERSION) $(LIBDIR_OUT)$(SONAME)
	ln -sf $(SONAME) $(LIBDIR_OUT)librecnn.so

$(STLIB): $(OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $(OBJ)

PC_SED = sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
	-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@VERSION@|$(VERSION)|g' \
	-e 's|@BLAS_PC@|$(BLAS_PC)|g'

pkgconfig/recnn.pc: pkgconfig/recnn.pc.in Makefile
	$(PC_SED) $< > $@

# Examples and benchmarks link the shared library, as users do.
$(BUILD)/examples/%: examples/%.c $(SHLIB) $(HDR) $(wildcard examples/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $< -o $@ -L$(LIBDIR_OUT) -Wl,-rpath,'$$ORIGIN/../$(if $(filter build,$(BUILD)),../lib,lib)' \
		-lrecnn $(LDLIBS_ALL)

examples: $(EXAMPLE_BIN)

$(BUILD)/bench/%: bench/%.c $(STLIB) $(HDR) $(wildcard bench/*.h examples/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Isrc $< -o $@ $(STLIB) $(LDLIBS_ALL)

# Unit tests link the static library so they can reach internal helpers.
$(BUILD)/tests/%: tests/%.c $(TEST_COMMON) $(STLIB) $(HDR) $(wildcard tests/common/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Isrc -Itests $< $(TEST_COMMON) -o $@ $(STLIB) \
		$(CHECK_LIBS) $(LDLIBS_ALL)

# Runs every suite even when one fails, then fails if any did.
check: lib $(TEST_BIN) pkgconfig/recnn.pc
	@fail=0; for t in $(TEST_BIN); do \
		echo "== $$t"; $(TEST_ENV) $$t || fail=1; done; \
	if [ -z "$(SKIP_PC_TEST)" ]; then BUILD=$(BUILD) sh tests/pkgconfig_test.sh || fail=1; fi; \
	exit $$fail

SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
sanitize:
	$(MAKE) check BUILD=build-san OPT=-O1 SKIP_PC_TEST=1 \
		EXTRA_CFLAGS="$(SAN_FLAGS)" EXTRA_LDFLAGS="$(SAN_FLAGS)" \
		TEST_ENV="ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1"

valgrind: lib $(TEST_BIN)
	@fail=0; for t in $(TEST_BIN); do echo "== valgrind $$t"; \
		CK_FORK=no RECNN_TEST_QUICK=1 valgrind -q --leak-check=full --show-possibly-lost=no \
		--errors-for-leak-kinds=definite --error-exitcode=99 $$t || fail=1; done; \
	exit $$fail

pc-test: lib pkgconfig/recnn.pc
	BUILD=$(BUILD) sh tests/pkgconfig_test.sh

install: lib pkgconfig/recnn.pc
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR)/recnn $(DESTDIR)$(PKGCONFIGDIR)
	install -m 644 include/recnn.h $(DESTDIR)$(INCLUDEDIR)/recnn.h
	install -m 644 include/recnn/*.h $(DESTDIR)$(INCLUDEDIR)/recnn/
	install -m 755 $(SHLIB) $(DESTDIR)$(LIBDIR)/
	ln -sf librecnn.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/librecnn.so
	install -m 644 $(STLIB) $(DESTDIR)$(LIBDIR)/
	$(PC_SED) pkgconfig/recnn.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/recnn.pc

uninstall:
	rm -f $(DESTDIR)$(INCLUDEDIR)/recnn.h $(DESTDIR)$(LIBDIR)/librecnn.so.$(VERSION) \
		$(DESTDIR)$(LIBDIR)/$(SONAME) $(DESTDIR)$(LIBDIR)/librecnn.so \
		$(DESTDIR)$(LIBDIR)/librecnn.a $(DESTDIR)$(PKGCONFIGDIR)/recnn.pc
	rm -f $(addprefix $(DESTDIR)$(INCLUDEDIR)/recnn/,$(notdir $(wildcard include/recnn/*.h)))
	-rmdir $(DESTDIR)$(INCLUDEDIR)/recnn 2>/dev/null

# Installs the build and test dependencies on Debian (apt-get as root;
# prints the command otherwise).  WITH= adds optional packages.
DEPS := gcc make libopenblas-dev liblapacke-dev check pkg-config abigail-tools \
	valgrind clang locales $(WITH)
deps:
	@sh .ci/deps.sh $(DEPS)

demo: $(BUILD)/examples/demo
	$(BUILD)/examples/demo $(DEMO_ARGS)

ABI_BASELINE := tests/abi/librecnn.abi
abi-check: lib
	@sh tests/abi/check.sh $(SHLIB) $(ABI_BASELINE)

abi-baseline: lib
	abidw --headers-dir include --headers-dir include/recnn --no-corpus-path \
		--out-file $(ABI_BASELINE) $(SHLIB)

fuzz:
	@sh fuzz/run.sh $(FUZZ_SECONDS)

bench: lib $(BENCH_BIN) examples
	@sh bench/run.sh

bench-scale: lib $(BENCH_BIN) examples
	@sh bench/run.sh scale

clean:
	rm -rf build build-san build-fuzz lib/librecnn* pkgconfig/recnn.pc

help:
	@echo "make            build lib/librecnn.so.$(VERSION), lib/librecnn.a, examples"
	@echo "make deps       install build/test dependencies (Debian, apt-get)"
	@echo "make demo       train and evaluate a model on the embedded synthetic data"
	@echo "make check      run the unit tests (Check) and the pkg-config test"
	@echo "make sanitize   the tests under ASan+UBSan"
	@echo "make valgrind   the tests under valgrind memcheck"
	@echo "make abi-check  compare the ABI with tests/abi/librecnn.abi"
	@echo "make fuzz       run the libFuzzer targets for FUZZ_SECONDS each"
	@echo "make bench      benchmarks side by side with peers -> bench/results/"
	@echo "sh bench/profile.sh MODEL|all   perf profile of a model's training (BUILD=...)"
	@echo "make install    PREFIX=/usr/local DESTDIR= ; make uninstall"
