#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Install the Debian packages listed in packaging/debian-packages.txt that
# are not installed yet. Needs root (or sudo) only when something is missing.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
list="$here/packaging/debian-packages.txt"

missing=""
for pkg in $(grep -v '^[[:space:]]*#' "$list" | grep -v '^[[:space:]]*$'); do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    case "$status" in
    *"install ok installed"*) ;;
    *) missing="$missing $pkg" ;;
    esac
done
[ -z "$missing" ] && exit 0

echo "installing:$missing" >&2
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
