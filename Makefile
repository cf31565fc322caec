# SPDX-License-Identifier: GPL-2.0
#
# hvisor_vhost: build the module (for every guest kernel target), hvctl and
# the selftests, and run them in QEMU. `make help` lists the targets.

HVV_CACHE ?= $(or $(HOME),/root)/.cache/hvisor_vhost
export HVV_CACHE

# The targets that boot a guest kernel of their own, and hvisor-arm64:
# the real hypervisor under QEMU (tools/rig/hvisor-run), built from
# arm64-6.1's module and hvctl.
VM_TARGETS := arm64-6.1 x86_64-6.1 arm64-6.12 arm64-5.10 arm64-rt arm64-next
ALL_TARGETS := $(VM_TARGETS) hvisor-arm64
TARGETS ?= $(ALL_TARGETS)
# The kernel targets TARGETS needs built.
KTARGETS := $(sort $(filter $(VM_TARGETS),$(TARGETS)) \
	$(if $(filter hvisor-arm64,$(TARGETS)),arm64-6.1))
# The architecture of a target: arm64-6.1 -> arm64.
arch_of = $(firstword $(subst -, ,$(1)))
ARCHES := $(sort $(foreach t,$(KTARGETS),$(call arch_of,$(t))))

CC_arm64 := aarch64-linux-gnu-gcc
CC_x86_64 := gcc

KSFT_DIR := $(HVV_CACHE)/kselftest
KSFT_H := $(KSFT_DIR)/kselftest_harness.h

# User space is static so that the guest needs no libraries. The kselftest
# harness' macros leave parameters unused, hence -Wno-unused-parameter.
USER_CFLAGS := -static -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -Iuapi
SELFTEST_CFLAGS := $(USER_CFLAGS) -Wno-unused-parameter -isystem $(KSFT_DIR)
USER_LIBS := -lpthread

HVCTL_SRCS := $(sort $(wildcard tools/hvctl/*.c))
HVCTL_DEPS := $(HVCTL_SRCS) $(wildcard tools/hvctl/*.h uapi/linux/*.h)
SELFTEST_C := $(sort $(wildcard selftests/*.c))
SELFTEST_SH := $(sort $(wildcard selftests/*.sh))
# hvctl_json_test builds tools/hvctl/json_parse.c in.
SELFTEST_HDRS := $(wildcard selftests/*.h selftests/loopback/*_abi.h uapi/linux/*.h tools/hvctl/json_parse.[ch])

CHECKPATCH_FILES := $(wildcard hvisor_vhost/*.[ch] uapi/linux/*.h \
	selftests/loopback/*.[ch] tools/hvctl/*.[ch])

# Per architecture: build/<arch>/bin/hvctl, build/<arch>/selftests/*.
hvctl_of = $(if $(HVCTL_SRCS),build/$(1)/bin/hvctl)
selftests_of = $(patsubst selftests/%.c,build/$(1)/selftests/%,$(SELFTEST_C)) \
	$(patsubst selftests/%,build/$(1)/selftests/%,$(SELFTEST_SH))

.PHONY: all help deps modules tools selftests check demo clean checkpatch \
	hypcall-check dtbs-check fuzz hvisor-soak \
	$(ALL_TARGETS) $(addprefix modules-,$(VM_TARGETS)) \
	$(addprefix deps-,$(VM_TARGETS))

all: modules tools selftests hypcall-check

# The hypercall sequence of every architecture hvisor runs on, compiled
# with each cross compiler at hand (no kernel headers exist here for
# riscv64 and loongarch64, and Debian 12 has no loongarch64 compiler).
HYPCALL_CCS := gcc aarch64-linux-gnu-gcc riscv64-linux-gnu-gcc
hypcall-check: tools/rig/hypcall-check.c hvisor_vhost/hyp_hvisor_call.h
	@for cc in $(HYPCALL_CCS); do \
		echo "  HYPCALL $$cc"; \
		$$cc -O2 -Wall -Wextra -Werror -c -o /dev/null $< || exit 1; \
	done

# Every example tree in dts/ compiles with dtc without a warning (dtc has
# no flag that turns warnings into errors: any output fails).
DTS_FILES := $(sort $(wildcard dts/*.dts))
# Then the backend nodes against the binding (tools/rig/dt-validate, a
# stand-in for dtschema, which is not in Debian).
dtbs-check: $(DTS_FILES) $(wildcard dts/*.dtsi)
	@for f in $(DTS_FILES); do \
		echo "  DTC     $$f"; \
		out=$$(dtc -I dts -O dtb -o /dev/null $$f 2>&1); rc=$$?; \
		if [ $$rc -ne 0 ] || [ -n "$$out" ]; then \
			echo "$$out"; echo "dtbs-check: $$f: dtc failed or warned"; \
			exit 1; \
		fi; \
	done
	@echo "  SCHEMA  dts/hvisor-vhost.yaml"
	@mkdir -p build
	@tools/rig/dt-validate-check >build/dt-validate.log 2>&1 || \
		{ cat build/dt-validate.log; \
		  echo "dtbs-check: the trees do not match the binding"; exit 1; }

help:
	@echo 'Targets (TARGETS="$(TARGETS)"; set TARGETS=arm64-6.1 to narrow):'
	@echo '  all          modules, hvctl and selftests for every target (default)'
	@echo '  check        deps + all, then boot each target in QEMU and run'
	@echo '               every selftest; prints "N passed, N failed"'
	@echo '  demo         the real hypervisor under QEMU, zone 1 on the backend (tools/rig/hvisor-demo;'
	@echo '               INTERACTIVE=1: end at the root zone shell; loopback demo without the rig)'
	@echo '  bench        benchmarks against baselines in the same guest'
	@echo '               (BENCH_TARGETS="$(BENCH_TARGETS)"; tools/bench/README.md),'
	@echo '               then bench-hvisor (BENCH_HVISOR=0: not)'
	@echo '  bench-hvisor the real hypervisor: the module against hvisor-tool'"'"'s'
	@echo '               daemon (BENCH_HVISOR_ARGS; tools/bench/hvisor-run --help)'
	@echo '  deps         install host packages, fetch guest kernels (tools/deps)'
	@echo '  modules      kernel modules       -> build/<target>/ko/*.ko'
	@echo '  tools        hvctl (static)       -> build/<arch>/bin/hvctl'
	@echo '  selftests    tests (static)       -> build/<arch>/selftests/'
	@echo '  arm64-6.1 x86_64-6.1 arm64-6.12 arm64-5.10 arm64-rt arm64-next'
	@echo '               everything for one target'
	@echo '  hvisor-arm64 the real hypervisor under QEMU (in check; HVISOR_RIG=DIR,'
	@echo '               HVV_HVISOR_STARTS=$(HVV_HVISOR_STARTS) zone starts)'
	@echo '  hvisor-soak  boot hvisor-arm64 N times (N=$(N), SOAK_STARTS=$(SOAK_STARTS) zone'
	@echo '               starts each): starts that reached their tests, boots that hung'
	@echo '  dtbs-check   compile every dts/*.dts with dtc (fails on any warning)'
	@echo '               and check the backend nodes against the binding'
	@echo '  fuzz         build the libFuzzer targets and run each FUZZ_TIME seconds'
	@echo '               (default $(FUZZ_TIME)); findings in build/fuzz/crashes/'
	@echo '  checkpatch   checkpatch.pl --strict on our sources (informational)'
	@echo '  clean        remove build/'
	@echo 'Run anything in a guest: tools/vm-run --help'
	@echo 'Cache (guest kernels, initramfs): HVV_CACHE=$(HVV_CACHE)'

deps:
	tools/deps $(KTARGETS)

# The kselftest headers come with the host packages.
$(KSFT_H):
	tools/deps --host

# --- kernel modules ---------------------------------------------------------

modules: $(addprefix modules-,$(KTARGETS))

# Kbuild is incremental on its own: always ask it. "+" hands the
# jobserver down.
$(addprefix modules-,$(VM_TARGETS)): modules-%:
	@tools/deps $*
	+@echo "  KBUILD  $*" && tools/rig/build-modules $*

# --- user space ---------------------------------------------------------------

tools: $(foreach a,$(ARCHES),$(call hvctl_of,$(a)))
selftests: $(foreach a,$(ARCHES),prune-selftests-$(a) $(call selftests_of,$(a)))

define arch_rules
build/$(1)/bin/hvctl: $$(HVCTL_DEPS)
	@mkdir -p $$(@D)
	@echo "  CC      $$@"
	@$$(CC_$(1)) $$(USER_CFLAGS) -o $$@ $$(HVCTL_SRCS) $$(USER_LIBS)

build/$(1)/selftests/%: selftests/%.c $$(SELFTEST_HDRS) | $$(KSFT_H)
	@mkdir -p $$(@D)
	@echo "  CC      $$@"
	@$$(CC_$(1)) $$(SELFTEST_CFLAGS) -o $$@ $$< $$(USER_LIBS)

build/$(1)/selftests/%.sh: selftests/%.sh
	@mkdir -p $$(@D)
	@install -m 755 $$< $$@

# The guest runs every file in build/<arch>/selftests: drop the binaries
# of tests that no longer exist.
.PHONY: prune-selftests-$(1)
prune-selftests-$(1):
	@for f in $$(wildcard build/$(1)/selftests/*); do \
		case " $$(call selftests_of,$(1)) " in \
		*" $$$$f "*) ;; \
		*) echo "  RM      $$$$f"; rm -rf "$$$$f" ;; \
		esac; \
	done
endef
$(foreach a,arm64 x86_64,$(eval $(call arch_rules,$(a))))

# Everything one target needs.
define target_rule
$(1): modules-$(1) $(call hvctl_of,$(call arch_of,$(1))) \
	prune-selftests-$(call arch_of,$(1)) \
	$(call selftests_of,$(call arch_of,$(1)))
endef
$(foreach t,$(VM_TARGETS),$(eval $(call target_rule,$(t))))
# The hypervisor target's own pieces (hvisor-tool, initramfs, trees) are
# built by tools/rig/hvisor-run, from the rig directory it checks first.
hvisor-arm64: arm64-6.1

# --- running ------------------------------------------------------------------

# tools/rig/check builds each target (a target that fails to build counts
# as a failure, the others still run), boots it and runs the selftests.
check:
	tools/deps $(KTARGETS)
	@$(MAKE) --no-print-directory hypcall-check
	@$(MAKE) --no-print-directory dtbs-check
	+tools/rig/check $(TARGETS)

# The real hypervisor under QEMU when ../shared/hvisor-rig (or
# HVISOR_RIG=DIR) is there, else the loopback demo (the script says why).
demo: arm64-6.1
	tools/rig/hvisor-demo --no-build $(if $(filter 1,$(INTERACTIVE)),--interactive)

# The real hypervisor, N boots in a row (tools/rig/hvisor-run --help).
HVV_HVISOR_STARTS ?= 5
export HVV_HVISOR_STARTS
N ?= 20
SOAK_STARTS ?= 1
hvisor-soak: arm64-6.1
	tools/rig/hvisor-run --no-build --boots $(N) --starts $(SOAK_STARTS)

# Benchmarks, each figure against its baseline in the same guest
# (tools/bench/run --help), then the real hypervisor under QEMU (the rig
# of the hvisor-arm64 target): the module against hvisor-tool's daemon,
# alternating boots (tools/bench/hvisor-run --help; BENCH_HVISOR=0 leaves
# it out; without the rig directory it is skipped with the reason). Not
# part of check: no thresholds.
BENCH_TARGETS ?= arm64-6.1
BENCH_HVISOR ?= 1
BENCH_HVISOR_ARGS ?=
HVISOR_RIG_DIR = $(or $(HVISOR_RIG),../shared/hvisor-rig)
.PHONY: bench bench-hvisor
bench:
	tools/bench/run $(BENCH_TARGETS)
ifeq ($(BENCH_HVISOR),1)
	@if [ -f "$(HVISOR_RIG_DIR)/hvisor.bin" ]; then \
		tools/bench/hvisor-run $(BENCH_HVISOR_ARGS); \
	else \
		echo "bench: real hypervisor skipped: no $(HVISOR_RIG_DIR)/hvisor.bin (HVISOR_RIG=DIR)"; \
	fi
endif

bench-hvisor:
	tools/bench/hvisor-run $(BENCH_HVISOR_ARGS)

# The parsing core under libFuzzer in user space (tools/fuzz/run --help).
# `make check` runs each target too, on fixed inputs (tools/fuzz/run --check).
FUZZ_TIME ?= 60
FUZZ_TARGETS ?=
fuzz:
	@tools/deps --host
	tools/fuzz/run --time $(FUZZ_TIME) $(FUZZ_TARGETS)

checkpatch: | $(KSFT_H)
	-$(HVV_CACHE)/checkpatch/checkpatch.pl --no-tree --strict --terse --quiet \
		--show-types -f $(CHECKPATCH_FILES)

clean:
	rm -rf build
