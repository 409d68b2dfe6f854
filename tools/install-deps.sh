#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Installs the Debian 12 packages GhostScope builds and tests with. Idempotent: when
# everything is present it asks dpkg once and exits without touching apt.
set -euo pipefail

PKGS=(
	build-essential pkg-config make gcc g++ gdb binutils elfutils
	libelf-dev libdw-dev libdebuginfod-dev liblmdb-dev lmdb-utils libxxhash-dev
	libbpf-dev llvm-16-dev clang-16 libzstd-dev zlib1g-dev liblzma-dev libbz2-dev libncurses-dev
	libclang-rt-16-dev python3 python3.11-dbg
)

missing=()
for p in "${PKGS[@]}"; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = "installed" ] || missing+=("$p")
done

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages: ${missing[*]}; run as root or install them" >&2
	exit 1
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
