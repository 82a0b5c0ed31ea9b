#!/usr/bin/env bash
# System packages the test suite needs, installed only when missing (Debian/Ubuntu, as root or
# with sudo): OpenStack Swift (real S3-compatible storage) and Chromium (browser tests).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bash "$here/swift/install.sh"
if ! command -v chromium >/dev/null 2>&1; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi
echo "system dependencies: swift-proxy $(dpkg-query -W -f='${Version}' swift-proxy 2>/dev/null || echo missing), $(chromium --version 2>/dev/null || echo 'no chromium')"
