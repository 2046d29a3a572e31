#!/bin/bash
# Make sure a working Docker engine answers on /var/run/docker.sock.
#
# Idempotent and fast (well under a second) when everything is already set
# up, so every entry point (tests, demo) can call it unconditionally:
#   - installs docker.io, busybox-static, mmdebstrap (and jq, used by the runc
#     wrapper) from Debian only when one is missing;
#   - on machines whose capability bounding set lacks CAP_SYS_RESOURCE
#     (development/CI sandboxes: privileged containers fail with runc "unable
#     to apply caps"), installs tools/runc-wrapper as dockerd's default
#     runtime.  Real nodes never need this and the hook never knows about it;
#   - starts dockerd in the background when the socket does not answer (no
#     systemd on these machines), or SIGHUPs it when daemon.json changed;
#   - after any change (or with --check), proves that a privileged
#     host-network container starts and sees host devices.
#
# Usage: tools/ensure-docker.sh [--check]
# Environment: TDH_DOCKERD_LOG (default /var/log/tdh-dockerd.log).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOOL=ensure-docker
# shellcheck source=tools/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
check=0
switch_arg check --check "$@"

SOCK=/var/run/docker.sock
PIDFILE=/var/run/docker.pid
DAEMON_JSON=/etc/docker/daemon.json
WRAPPER_SRC=$here/runc-wrapper
WRAPPER=/usr/local/libexec/tripleo-docker-hook/runc-wrapper
RUNTIME_NAME=tdh-runc
LOG=${TDH_DOCKERD_LOG:-/var/log/tdh-dockerd.log}
IMAGE=tdh/busybox:latest


[ "$(id -u)" = 0 ] || die "must run as root (installs packages, starts dockerd)"

changed=0

# --- packages --------------------------------------------------------------
# dpkg-query is cheap; apt-get update only runs when something is missing.
missing=()
for pkg in docker.io busybox-static mmdebstrap jq; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
    [ "$status" = installed ] || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    # --no-install-recommends would drop runc's apparmor/cgroupfs helpers we
    # do not need, but keep Debian's defaults: it is what operators get.
    apt-get install -y -qq "${missing[@]}" </dev/null >&2
    changed=1
fi

# --- runtime wrapper for sandboxes without CAP_SYS_RESOURCE -------------------
# Bit 24 of the bounding set is CAP_SYS_RESOURCE.
capbnd=$(awk '/^CapBnd:/ {print $2}' /proc/self/status)
need_wrapper=0
if (( (16#$capbnd >> 24 & 1) == 0 )); then
    need_wrapper=1
fi

if [ $need_wrapper = 1 ]; then
    [ -f "$WRAPPER_SRC" ] || die "missing $WRAPPER_SRC"
    if ! cmp -s "$WRAPPER_SRC" "$WRAPPER"; then
        log "installing runc wrapper $WRAPPER (CapBnd=$capbnd lacks CAP_SYS_RESOURCE)"
        install -D -m 0755 "$WRAPPER_SRC" "$WRAPPER"
        changed=1
    fi
    # Merge (never clobber) the operator's daemon.json; write only on change.
    mkdir -p "$(dirname "$DAEMON_JSON")"
    [ -s "$DAEMON_JSON" ] || echo '{}' >"$DAEMON_JSON"
    new=$(jq --arg name "$RUNTIME_NAME" --arg path "$WRAPPER" '
        .runtimes = ((.runtimes // {}) + {($name): {path: $path}})
        | ."default-runtime" = $name' "$DAEMON_JSON") \
        || die "$DAEMON_JSON is not valid JSON; fix it by hand"
    if [ "$new" != "$(jq . "$DAEMON_JSON")" ]; then
        log "registering $RUNTIME_NAME as default runtime in $DAEMON_JSON"
        cp -p "$DAEMON_JSON" "$DAEMON_JSON.tdh-bak" 2>/dev/null || true
        printf '%s\n' "$new" >"$DAEMON_JSON.tmp"
        mv -f "$DAEMON_JSON.tmp" "$DAEMON_JSON"
        changed=1
    fi
fi

# --- dockerd ---------------------------------------------------------------
sock_ok() {
    # curl is much cheaper than the Go CLI; fall back to the CLI without it.
    if command -v curl >/dev/null 2>&1; then
        engine_answers "$SOCK"
    else
        timeout 5 docker version >/dev/null 2>&1
    fi
}

default_runtime() {
    if command -v curl >/dev/null 2>&1; then
        curl -s -m 5 --unix-socket "$SOCK" http://localhost/info | jq -r '.DefaultRuntime // empty'
    else
        docker info -f '{{.DefaultRuntime}}' 2>/dev/null
    fi
}

dockerd_pid() {
    local pid
    pid=$(cat "$PIDFILE" 2>/dev/null) || return 1
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

wait_sock() { wait_until 60 sock_ok; }

started=0
if ! sock_ok; then
    if pid=$(dockerd_pid); then
        # A dockerd is starting (or stuck): do not start a second one.
        log "dockerd ($pid) is running but the socket does not answer yet; waiting"
    else
        log "starting dockerd (log: $LOG)"
        mkdir -p "$(dirname "$LOG")"
        # Survives the caller (CI step, test run) exiting, and keeps none
        # of its descriptors (a lock file among them).
        start_daemon "$LOG" dockerd >/dev/null
        started=1
        changed=1
    fi
    wait_sock || { tail -n 30 "$LOG" >&2 || true; die "dockerd did not answer on $SOCK within 60 s (see $LOG)"; }
    log "dockerd is up"
fi

if [ $need_wrapper = 1 ]; then
    # A dockerd we did not start may predate daemon.json (just changed, or
    # started by the package's postinst): SIGHUP reloads runtimes and
    # default-runtime, no restart, running containers untouched.
    if [ $started = 0 ] && [ "$(default_runtime)" != "$RUNTIME_NAME" ]; then
        pid=$(dockerd_pid) || die "dockerd answers but $PIDFILE has no live pid; restart it by hand to load $DAEMON_JSON"
        log "reloading dockerd ($pid) for $DAEMON_JSON"
        kill -HUP "$pid"
        changed=1
        # The reload is asynchronous: wait until the new default shows up.
        for _ in $(seq 1 50); do
            [ "$(default_runtime)" = "$RUNTIME_NAME" ] && break
            sleep 0.2
        done
    fi
    default=$(default_runtime)
    [ "$default" = "$RUNTIME_NAME" ] \
        || die "dockerd default runtime is '$default', expected $RUNTIME_NAME (restart dockerd to load $DAEMON_JSON)"
fi

# --- proof that privileged host-network containers work ------------------------
if [ $changed = 1 ] || [ $check = 1 ]; then
    if ! docker image inspect "$IMAGE" >/dev/null 2>&1; then
        bash "$here/build-images.sh" --only busybox >&2
    fi
    docker run --rm --privileged --net host "$IMAGE" true \
        || die "a privileged --net host container does not start"
    # A device that only a privileged container gets (loop devices, kvm...).
    dev=
    for d in /dev/loop0 /dev/kvm /dev/vda /dev/sda /dev/nvme0n1 /dev/mem; do
        [ -e "$d" ] && { dev=$d; break; }
    done
    if [ -n "$dev" ]; then
        docker run --rm --privileged "$IMAGE" test -e "$dev" \
            || die "a privileged container does not see host device $dev"
    fi
    log "privileged containers work (runtime: $(docker info -f '{{.DefaultRuntime}}')${dev:+, sees $dev})"
fi
