#!/bin/bash
# A private podman engine for tests and the benchmark: podman's
# Docker-compatible API on its own socket, with its own storage root, so it
# never touches /var/lib/containers or anything else on the machine.
#
#   start   install podman (Debian) when missing; on machines whose
#           capability bounding set lacks CAP_SYS_RESOURCE (dev/CI
#           sandboxes), write the containers.conf drop-in that stops podman
#           from asking for rlimits it cannot set, and run the service with
#           tools/podman-runtime-wrapper as its OCI runtime (clamps the
#           rlimits a container asks for); real nodes need neither and the
#           hook never knows.  Start `podman system service` on
#           $DIR/podman.sock unless it already answers; load the test images
#           from Docker (tools/build-images.sh builds them there) when they
#           are missing or differ from Docker's.  Prints the DOCKER_HOST URL.
#   stop    stop the service started by `start` (containers it runs keep
#           running under conmon; tests remove their own).
#   status  exit 0 when the socket answers.
#   purge   stop, remove every container of this engine, delete $DIR.
#   env     print `export DOCKER_HOST=...` for eval.
#
# Usage: tools/podman-engine.sh start|stop|status|purge|env
# Environment: TDH_PODMAN_DIR (default /var/lib/tdh-podman), root needed.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DIR=${TDH_PODMAN_DIR:-/var/lib/tdh-podman}
SOCK=$DIR/podman.sock
URL=unix://$SOCK
PIDFILE=$DIR/service.pid
LOG=$DIR/service.log
DROPIN=/etc/containers/containers.conf.d/50-tdh-sandbox-rlimits.conf
WRAPPER=$DIR/runtime-wrapper
# The test images of tools/build-images.sh.
IMAGES=(tdh/busybox:latest tdh/busybox:other tdh/fake-puppet:latest tdh/puppet:latest)

TOOL=podman-engine
# shellcheck source=tools/lib.sh
source "$here/lib.sh"

# Every path podman writes to is under $DIR; cgroupfs and a file events
# log because these machines have no systemd.
GLOBAL=(--root "$DIR/root" --runroot "$DIR/runroot" --tmpdir "$DIR/tmp"
        --cgroup-manager cgroupfs --events-backend file)

podman_() { podman "${GLOBAL[@]}" "$@"; }

sandbox() {
    # Bit 24 of the bounding set is CAP_SYS_RESOURCE.
    local capbnd
    capbnd=$(awk '/^CapBnd:/ {print $2}' /proc/self/status)
    (( (16#$capbnd >> 24 & 1) == 0 ))
}

sock_ok() { engine_answers "$SOCK"; }

service_pid() {
    local pid
    pid=$(cat "$PIDFILE" 2>/dev/null) || return 1
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

install_podman() {
    local missing=() pkg status
    for pkg in podman curl jq; do
        status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
        [ "$status" = installed ] || missing+=("$pkg")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        log "installing ${missing[*]}"
        apt_install --no-install-recommends "${missing[@]}"
    fi
}

sandbox_dropin() {
    # Without CAP_SYS_RESOURCE podman 4.3's default rlimits (nofile/nproc
    # 1048576) make every container fail with "error setting rlimit type 7".
    local want
    sandbox || return 0
    want=$'# tripleo-docker-hook: dev/CI sandboxes without CAP_SYS_RESOURCE only\n# (tools/podman-engine.sh); real nodes never need this.\n[containers]\ndefault_ulimits = []'
    if [ "$(cat "$DROPIN" 2>/dev/null)" != "$want" ]; then
        log "writing $DROPIN (this machine lacks CAP_SYS_RESOURCE)"
        mkdir -p "$(dirname "$DROPIN")"
        printf '%s\n' "$want" >"$DROPIN"
        # A running service read the old configuration: restart it.
        stop_service
    fi
}

start_service() {
    local args=("${GLOBAL[@]}")
    mkdir -p "$DIR/root" "$DIR/runroot" "$DIR/tmp"
    chmod 0700 "$DIR"
    if sandbox; then
        cmp -s "$here/podman-runtime-wrapper" "$WRAPPER" \
            || install -m 0755 "$here/podman-runtime-wrapper" "$WRAPPER"
        args+=(--runtime "$WRAPPER")
    fi
    args+=(system service --time=0 "$URL")
    # A service started with other arguments (or an older drop-in) goes.
    if [ "$(cat "$DIR/service.args" 2>/dev/null)" != "${args[*]}" ]; then
        stop_service
    fi
    sock_ok && return 0
    if pid=$(service_pid); then
        log "service ($pid) runs but $SOCK does not answer; restarting it"
        stop_service
    fi
    rm -f "$SOCK"
    # Outlives the caller (a tox env, a CI step) and keeps none of its
    # descriptors: a service holding the test lock's fd wedged it once.
    start_daemon "$LOG" podman "${args[@]}" >"$PIDFILE"
    echo "${args[*]}" >"$DIR/service.args"
    # Up, or dead (then no point waiting the whole 10 s).
    if wait_until 10 up_or_dead && sock_ok; then
        log "service up on $SOCK (pid $(cat "$PIDFILE"))"
        return 0
    fi
    tail -n 20 "$LOG" >&2 || true
    die "podman system service did not answer on $SOCK (log: $LOG)"
}

up_or_dead() { sock_ok || ! service_pid >/dev/null; }
gone() { ! kill -0 "$1" 2>/dev/null; }

stop_service() {
    local pid
    pid=$(service_pid) || { rm -f "$PIDFILE"; return 0; }
    kill "$pid"
    wait_until 5 gone "$pid" || kill -9 "$pid" 2>/dev/null || true
    rm -f "$PIDFILE" "$SOCK"
    log "service ($pid) stopped"
}

# The ID of the image that podman's Docker-compatible API (what the hook
# and the tests use) resolves name $1 to; empty when none.
compat_image_id() {
    curl -s -m 10 --unix-socket "$SOCK" "http://d/v1.41/images/$1/json" \
        | jq -r '.Id // empty' 2>/dev/null
}

load_images() {
    # podman load of a `docker save` archive keeps the image ID (the
    # config digest), so "same ID" means "same image"; the names come out
    # as localhost/<name>, as on a real podman host.
    #
    # `docker` here is the Docker engine the images come from, whatever
    # DOCKER_HOST says: tox -e functional-podman exports podman's socket
    # as DOCKER_HOST, and following it compared podman with itself and, on
    # a fresh machine, built the images inside podman (docker.io/tdh/...,
    # other IDs) instead of loading Docker's.
    local -x DOCKER_HOST=unix:///var/run/docker.sock
    local image want todo=()
    if ! docker image inspect "${IMAGES[@]}" >/dev/null 2>&1; then
        # (callers that run tests hold /tmp/tdh-functional.lock already)
        bash "$here/build-images.sh" >&2
    fi
    for image in "${IMAGES[@]}"; do
        want=$(docker image inspect -f '{{.Id}}' "$image") || die "no Docker image $image"
        [ "$(compat_image_id "$image")" = "$want" ] || todo+=("$image")
    done
    [ ${#todo[@]} -eq 0 ] && return 0
    log "loading ${todo[*]} from Docker"
    docker save "${todo[@]}" | podman_ load -q >&2
    for image in "${todo[@]}"; do
        want=$(docker image inspect -f '{{.Id}}' "$image")
        [ "$(compat_image_id "$image")" = "$want" ] \
            || die "podman resolves $image to another image than Docker's $want (podman images: see $DIR)"
    done
}

[ "$(id -u)" = 0 ] || die "must run as root"
case ${1:-} in
    start)
        install_podman
        sandbox_dropin
        start_service
        load_images
        echo "$URL"
        ;;
    stop) stop_service ;;
    status) sock_ok ;;
    env) echo "export DOCKER_HOST=$URL" ;;
    purge)
        stop_service
        if command -v podman >/dev/null && [ -d "$DIR/root" ]; then
            podman_ rm -af -t 1 >/dev/null 2>&1 || true
            podman_ system reset -f >/dev/null 2>&1 || true
        fi
        rm -rf "$DIR"
        ;;
    -h|--help) usage ;;
    *) bad_argument "${1:-(none)}" ;;
esac
