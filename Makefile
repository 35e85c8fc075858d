# UFFDIO_CONTINUE_MODE_WP for Linux 6.1: the series and the harness that
# proves it. Each target is a thin call into scripts/ (the steps and their
# order are in scripts/pipeline.sh); see README.md.
#
#   make demo        build the patched kernel, boot it, show the feature (default)
#   make check       the whole test pipeline: lint, apply, build each patch,
#                    boot three kernels, run the guest suites, the short race
#                    stress on the debug kernel, report
#   make check-fresh make and make check on a fresh Debian 12 root (mmdebstrap),
#                    as a new user would run them; what CI runs
#   make lint        checkpatch --strict on every patch, shellcheck on the scripts
#   make selftest    the harness's offline tests (KTAP parser, reports)
#   make check-mainline-full  mainline's userfaultfd unit tests, every case, on
#                    the patched kernel and Debian's 6.12 (make check runs a subset)
#   make check-matrix  build the tip without USERFAULTFD/SHMEM/HUGETLB/PTE
#                    markers, for i386 and arm64, and with Debian's config;
#                    boot that one and run the suites (LEGS= to choose)
#   make check-debug the series on a KASAN/lockdep/PAGE_TABLE_CHECK kernel, every
#                    suite, the race stress and the fuzzer (DURATION=30m: the
#                    stress and the fuzzer alone, 15 min each), then the same
#                    on Debian's 6.12
#   make bench       what CONTINUE|WP costs beside CONTINUE and CONTINUE then
#                    WRITEPROTECT, on patched, 6.12 and 6.1: bench/ (not a test)
#   make check-mutants  plant each bug of mutants/ in the series, build, boot:
#                    the tests must fail where it says (MUTANTS= to choose)
#   make check-harness  prove the harness reports crashes, hangs, panics, splats
#   make run         boot KERNELS with SUITES: make run SUITES=continue-wp KERNELS=patched
#   make series-tree base + patches/ as git commits in the cache work tree
#   make export      that work tree back to patches/ (git format-patch)
#   make clean       remove test results;  make clean-cache: remove the whole cache
#
# BASE=pinned (default) | newest | VERSION picks the linux-source-6.1
# version the series is applied to (configs/base-version is the pin).

# The scripts run under Debian's bash, whatever the caller's PATH has,
# and without the caller's bash start-up files or options (lib.sh resets
# the rest of the environment).
SHELL := /bin/bash
unexport BASH_ENV ENV SHELLOPTS BASHOPTS CDPATH
B := /bin/bash scripts
P := $(B)/pipeline.sh
BASE ?= pinned
export BASE

.PHONY: demo check check-fresh check-harness check-mainline-full check-matrix check-debug check-mutants bench lint selftest \
	deps resolve fetch base apply kernel guest run series-tree export \
	clean clean-cache

demo:
	@$(P) demo

check:
	@$(P) check

check-fresh:
	@$(B)/check-fresh.sh

check-matrix:
	@LEGS="$(LEGS)" $(P) check-matrix

check-debug:
	@DURATION="$(DURATION)" $(P) check-debug

bench:
	@$(P) bench

check-mutants:
	@MUTANTS="$(MUTANTS)" $(P) check-mutants

check-mainline-full:
	@$(P) check-mainline-full

check-harness:
	@$(P) check-harness

lint:
	@$(P) lint

selftest:
	@$(B)/tests/run.sh

deps:
	@$(B)/deps.sh

resolve fetch base apply kernel guest series-tree:
	@$(P) $@

run:
	@SUITES="$(SUITES)" KERNELS="$(KERNELS)" $(P) run

export:
	@$(B)/export.sh

clean:
	@rm -rf "$$($(B)/cachedir.sh results)"

clean-cache:
	@$(B)/clean-cache.sh
