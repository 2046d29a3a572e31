# shellcheck shell=bash
# Helpers shared by tools/*.sh; each script sources this file, after
# setting TOOL (the prefix of its log lines):
#
#   TOOL=build-images
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Log to stderr (stdout is some scripts' answer, e.g. heat-agents.sh).
log() { echo "${TOOL:-${0##*/}}: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Seconds since the epoch, and the time since such a value ("12.3 s").
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN {printf "%.1f s", b - a}'; }

# The script's --help: its leading comment block, without the '#'.
usage() {
    awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' \
        "$0"
}

# An unknown argument: a one-line error and exit status 2.
bad_argument() { log "unknown argument: $1 (see --help)"; exit 2; }

# Arguments that may only be -h/--help or the switch $2: the variable
# named $1 (set to 0 by the caller) becomes 1 when the switch is given.
#   force=0; switch_arg force --force "$@"
switch_arg() {
    local var=$1 switch=$2 arg
    shift 2
    for arg; do
        case $arg in
            "$switch") printf -v "$var" 1 ;;
            -h|--help) usage; exit 0 ;;
            *) bad_argument "$arg" ;;
        esac
    done
}

# Debian packages, quietly, no prompts.
apt_install() {
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq "$@" </dev/null >&2
}

# Fail with a hint when command $1 is missing ($2: its Debian package).
need() {
    command -v "$1" >/dev/null ||
        die "$1 missing (apt-get install ${2:-$1})"
}

# Take the lock file $1 on fd 9, held until the script exits (so a
# concurrent build waits, and says so).
build_lock() {
    mkdir -p "$(dirname "$1")"
    exec 9>"$1"
    if ! flock -n 9; then
        log "another build is running, waiting for $1"
        flock 9
    fi
}

# The value of label $2 of the local image $1 (empty when it has no such
# label); fails when there is no such image.
image_label() {
    docker image inspect -f "{{index .Config.Labels \"$2\"}}" "$1" \
        2>/dev/null
}

# Poll "$@" every 0.1 s until it succeeds: status 0, or 1 after $1 seconds.
wait_until() {
    local deadline
    deadline=$(( $(date +%s) + $1 )); shift
    until "$@"; do
        [ "$(date +%s)" -lt "$deadline" ] || return 1
        sleep 0.1
    done
}

# Whether the Engine API (Docker or podman) on unix socket $1 answers.
engine_answers() {
    [ -S "$1" ] && [ "$(curl -s -m 3 --unix-socket "$1" \
        http://localhost/_ping 2>/dev/null)" = OK ]
}

# Start "$@" as a daemon and print its pid: its own session, stdin from
# /dev/null, output appended to $1, and no inherited descriptor above 2.
# A daemon that inherits a caller's lock file keeps the lock for its whole
# life: a dockerd started under `flock` without -o wedged the shared test
# lock (/tmp/tdh-functional.lock) for every later run.
start_daemon() {
    local log=$1 fd
    shift
    (
        for fd in /proc/"$BASHPID"/fd/*; do
            fd=${fd##*/}
            if [ "$fd" -gt 2 ]; then eval "exec $fd>&-"; fi
        done
        exec setsid "$@" </dev/null >>"$log" 2>&1
    ) &
    echo $!
}
