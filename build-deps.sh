#!/bin/sh
# Installs what chatd needs to build, run and test on Debian 12, and the
# packages named as arguments (.ci/run adds the quality gates' tools).
# Root runs apt-get itself; anybody else through sudo.
set -e
packages="build-essential autoconf automake pkg-config python3 \
libevent-dev libinih-dev libjansson-dev libcmocka-dev libsystemd-dev \
mandoc systemd netcat-openbsd"
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
# shellcheck disable=SC2086
$sudo apt-get install -y -q --no-install-recommends $packages "$@"
