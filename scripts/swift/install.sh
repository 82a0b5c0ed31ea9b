#!/usr/bin/env bash
# Installs OpenStack Swift (Debian packages) for scripts/swift/start.mjs.  Idempotent.
set -euo pipefail

# Debian's interpreter: a pyenv/other python3 on PATH has no swift module.
have_swift() {
  command -v swift-proxy-server >/dev/null && command -v swift-ring-builder >/dev/null &&
    /usr/bin/python3 -c 'import swift.common.middleware.s3api.s3api' 2>/dev/null
}

# Another apt/dpkg run (e.g. a background install of these same packages) holds the
# dpkg lock: wait for it to finish rather than fail on the lock, then look again.
wait_for_apt() {
  for _ in $(seq 900); do
    pgrep -x apt-get >/dev/null || pgrep -x apt >/dev/null || pgrep -x dpkg >/dev/null || return 0
    sleep 1
  done
  echo "install.sh: apt/dpkg still busy after 15 min" >&2
  return 1
}

wait_for_apt
have_swift && exit 0

if [ "$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi
# No service may start at install time: the packaged configs bind 0.0.0.0:8080 etc.
# (docker images usually have this policy-rc.d already; leave an existing one alone).
cleanup=
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  cleanup=1
fi
trap '[ -z "$cleanup" ] || $SUDO rm -f /usr/sbin/policy-rc.d' EXIT

# memcached is not needed: start.mjs points the proxy's cache at a dead port.
$SUDO apt-get -o DPkg::Lock::Timeout=600 update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends \
  swift swift-proxy swift-object swift-container swift-account python3-swift
have_swift
