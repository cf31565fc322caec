#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tools/rig/demo.sh - `make demo`: boot the arm64-6.1 guest and show the
# backend at work. Extra arguments go to tools/vm-run (e.g. --smp 4).

set -euo pipefail
cd "$(dirname "$0")/../.."

# The demo, as run inside the guest (busybox sh, hvisor_vhost.ko loaded;
# see tools/vm-run --help for what the guest has).
DEMO='
set -x
hvctl version
hvctl list
'

exec tools/vm-run --target arm64-6.1 "$@" -- "$DEMO"
