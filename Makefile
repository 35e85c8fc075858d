# UFFDIO_CONTINUE_MODE_WP for Linux 6.1: the series and the harness that
# proves it. Each target is a thin call into scripts/; see README.md.
#
#   make demo        build the patched kernel, boot it, show the feature (default)
#   make check       the whole test pipeline: lint, apply, build each patch,
#                    boot three kernels, run the guest suites, report
#   make lint        checkpatch --strict on every patch, shellcheck on the scripts
#   make check-mainline-full  mainline's userfaultfd unit tests, every case, on
#                    the patched kernel and Debian's 6.12 (make check runs a subset)
#   make check-harness  prove the harness reports crashes, hangs, panics, splats
#   make series-tree base + patches/ as git commits in the cache work tree
#   make export      that work tree back to patches/ (git format-patch)
#   make clean       remove test results;  make clean-cache: remove the whole cache

S := scripts

.PHONY: demo check check-harness lint deps base apply kernel series-build \
	guest ref run series-tree export clean clean-cache

demo:
	@$(S)/demo.sh

check:
	@$(S)/check.sh

lint: base
	@$(S)/lint.sh

check-harness:
	@$(S)/check-harness.sh "$$($(S)/cachedir.sh build)/patched/arch/x86/boot/bzImage" "$$($(S)/cachedir.sh guest)/initramfs.cpio.gz"

deps:
	@$(S)/deps.sh

base:
	@$(S)/base.sh

apply: base
	@$(S)/apply.sh

# The test kernel at the series tip (no per-patch walk).
kernel: apply
	@$(S)/build-kernel.sh "$$($(S)/cachedir.sh check)" "$$($(S)/cachedir.sh build)/patched"

series-build: apply
	@$(S)/build-series.sh

# Mainline's userfaultfd unit tests from linux-source-6.12, for the guest.
.PHONY: mainline-tests check-mainline-full
mainline-tests:
	@$(S)/mainline-tests.sh

guest: mainline-tests
	@$(S)/build-guest.sh "$$($(S)/cachedir.sh check)" "$$($(S)/cachedir.sh build)/patched/usr" "$$($(S)/cachedir.sh guest)"

ref:
	@$(S)/ref-kernels.sh

# Run guest suites on kernels: make run SUITES=selftests KERNELS="patched debian-6.12"
SUITES ?= selftests
KERNELS ?= patched debian-6.1 debian-6.12
run:
	@$(S)/run-suites.sh "$(SUITES)" $(KERNELS); \
	$(S)/report.sh $(foreach k,$(KERNELS),"$$($(S)/cachedir.sh results)/$(k)")

check-mainline-full: kernel
	@$(S)/check-mainline-full.sh

series-tree:
	@$(S)/series-tree.sh

export:
	@$(S)/export.sh

clean:
	rm -rf "$$($(S)/cachedir.sh results)"

clean-cache:
	@$(S)/clean-cache.sh
