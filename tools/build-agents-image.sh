#!/bin/bash
# Build the agents image tdh/agents:latest: what runs on every node as the
# tripleo-docker-agents container (etc/systemd/tripleo-docker-agents.service,
# docs/source/agents.rst).
#
# Two layers, each rebuilt only when its inputs change:
#
#   tdh/agents-base:<deps hash>   tdh/puppet:latest (Debian bookworm +
#       puppet) + python3 + a venv at /opt/tripleo-docker-hook holding
#       requirements.txt, os-collect-config, os-refresh-config,
#       os-apply-config (PyPI), and heat-agents' runner installed from its
#       sdist (tools/heat-agents.sh) as the dib element does:
#       55-heat-config and 20-os-apply-config in os-refresh-config's
#       configure.d, heat-config-notify on PATH, the heat-config template of
#       os-apply-config.  About 1.5 min (apt + pip).
#       Hash: requirements.txt, the os-* lines of test-requirements.txt,
#       heat-agents' version, tdh/puppet's image ID and the recipe below.
#   tdh/agents:latest   + this source tree (pip install --no-deps), our
#       configure.d cleanup script and the hook symlinked into
#       /usr/libexec/heat-config/hooks as tripleo-docker-hook, docker-cmd
#       and kubelet (templates of the old hooks run unchanged).  A few
#       seconds.
#       Label tripleo-docker-hook.agents.source-hash: sha256 of a
#       deterministic tar of the files the package is built from (tracked
#       and untracked-not-ignored, as they are in the working tree).
#
# Nothing changed: exits in well under a second without taking the lock.
# Layers are made with "docker create / docker cp / docker start / docker
# commit" (no registry, no "docker build"): the build container uses host
# networking to reach Debian's mirror and PyPI.  The host's CA bundle is
# handed to pip for the build only (TLS-intercepting proxies) and is not in
# the image.  Build containers are removed, and so are images this script
# made that lost their tag, when nothing uses them.
#
# Usage: tools/build-agents-image.sh [--force]   (--force: both layers)
# Environment: TDH_AGENTS_IMAGE (default tdh/agents:latest),
#   TDH_PUPPET_IMAGE (default tdh/puppet:latest), TDH_AGENTS_LOCK,
#   TDH_AGENTS_CA_BUNDLE (default /etc/ssl/certs/ca-certificates.crt),
#   PIP_INDEX_URL (passed to pip in the build container when set).
# Needs a running dockerd (tools/ensure-docker.sh).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOL=build-agents-image
# shellcheck source=tools/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
IMAGE=${TDH_AGENTS_IMAGE:-tdh/agents:latest}
BASE_REPO=${IMAGE%:*}-base
PUPPET=${TDH_PUPPET_IMAGE:-tdh/puppet:latest}
LOCK=${TDH_AGENTS_LOCK:-/var/lock/tdh-build-agents.lock}
CA_BUNDLE=${TDH_AGENTS_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
VENV=/opt/tripleo-docker-hook
LABEL_SRC=tripleo-docker-hook.agents.source-hash
LABEL_DEPS=tripleo-docker-hook.agents.deps-hash
# What the code layer is built from (tests and docs do not go in the image).
SOURCES=(setup.py setup.cfg requirements.txt README.rst tripleo_docker_hook
    etc/tripleo-docker-hook.conf.sample etc/os-refresh-config etc/systemd)
PATH_ENV=$VENV/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

force=0
switch_arg force --force "$@"

t_start=$(now)

# -- recipes (their text is part of the hashes) ---------------------------
# Runs in a tdh/puppet container; inputs are unpacked in /tmp/tdh-in.
# shellcheck disable=SC2016  # expanded inside the container
DEPS_RECIPE='set -euo pipefail
in=/tmp/tdh-in
venv='"$VENV"'
export DEBIAN_FRONTEND=noninteractive
[ -s "$in/ca.crt" ] && export PIP_CERT="$in/ca.crt"
[ -s "$in/index-url" ] && PIP_INDEX_URL=$(cat "$in/index-url") && export PIP_INDEX_URL
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
    python3 python3-venv ca-certificates >/dev/null
apt-get clean
rm -rf /var/lib/apt/lists/*
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --no-cache-dir --disable-pip-version-check \
    -r "$in/requirements.txt" -r "$in/agents-requirements.txt"
# heat-agents runner, as its dib element lays it out.  The python scripts
# get the venv interpreter (yaml, requests) whatever PATH they run with.
ha=$in/heat-agents/heat-config
orc=/usr/libexec/os-refresh-config/configure.d
tpl=/usr/libexec/os-apply-config/templates
install -d "$orc" "$tpl/var/run/heat-config" /usr/libexec/heat-config/hooks \
    /var/lib/heat-config/deployed /var/run/heat-config
install -m 0755 "$ha/os-refresh-config/configure.d/55-heat-config" \
    "$ha/os-refresh-config/configure.d/20-os-apply-config" "$orc/"
install -m 0755 "$ha/bin/heat-config-notify" /usr/local/bin/
install -m 0644 "$ha/os-apply-config/var/run/heat-config/heat-config" \
    "$tpl/var/run/heat-config/"
sed -i "1s|^#!.*python.*$|#!$venv/bin/python3|" "$orc/55-heat-config" \
    /usr/local/bin/heat-config-notify
rm -rf "$in" /root/.cache
'
# Runs in a tdh/agents-base container; the source tree is in /tmp/tdh-src.
# shellcheck disable=SC2016
CODE_RECIPE='set -euo pipefail
src=/tmp/tdh-src
venv='"$VENV"'
cd "$src"
PBR_VERSION=$(cat "$src/.pbr-version") "$venv/bin/pip" install --quiet \
    --no-deps --no-build-isolation --no-cache-dir --disable-pip-version-check .
install -m 0755 etc/os-refresh-config/configure.d/50-heat-config-tripleo-docker-hook \
    /usr/libexec/os-refresh-config/configure.d/
# Also under the groups of the old hooks: their templates run unchanged.
for group in tripleo-docker-hook docker-cmd kubelet; do
    ln -sfn "$venv/bin/tripleo-docker-hook" "/usr/libexec/heat-config/hooks/$group"
done
cd /
rm -rf "$src" /root/.cache
"$venv/bin/tripleo-docker-hook-ctl" --help >/dev/null
'

# -- inputs and hashes ------------------------------------------------------
# A deterministic tar of the source files as they are in the working tree.
source_tar() {
    local files
    cd "$repo" || return 1
    if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        # Tracked (incl. uncommitted edits) and untracked-not-ignored files;
        # a tracked file deleted in the working tree is skipped.
        files=$(git ls-files --cached --others --exclude-standard -- "${SOURCES[@]}" \
            | sort -u | while IFS= read -r f; do [ -f "$f" ] && printf '%s\n' "$f"; done)
    else
        files=$(find "${SOURCES[@]}" -type f ! -path '*/__pycache__/*' ! -name '*.pyc' | sort)
    fi
    printf '%s\n' "$files" | tar --sort=name --owner=0 --group=0 --numeric-owner \
        --mtime=@0 --no-recursion -T - -c
}

heat_agents=$(bash "$repo/tools/heat-agents.sh")
if ! puppet_id=$(docker image inspect -f '{{.Id}}' "$PUPPET" 2>/dev/null); then
    log "$PUPPET missing: tools/build-images.sh --only puppet"
    bash "$repo/tools/build-images.sh" --only puppet
    puppet_id=$(docker image inspect -f '{{.Id}}' "$PUPPET")
fi
agents_requirements=$(grep -E '^os-(collect|refresh|apply)-config' \
    "$repo/test-requirements.txt" | sed 's/[[:space:]]*#.*//')
deps_hash=$( {
    cat "$repo/requirements.txt"
    echo "$agents_requirements"
    basename "$heat_agents"
    echo "$puppet_id"
    echo "${PIP_INDEX_URL:-}"
    echo "$DEPS_RECIPE"
} | sha256sum | cut -c1-16)
BASE=$BASE_REPO:$deps_hash
src_hash=$( { source_tar; echo "$CODE_RECIPE"; } | sha256sum | cut -c1-64)

current() {
    local labels
    labels=$(docker image inspect -f "{{index .Config.Labels \"$LABEL_SRC\"}} {{index .Config.Labels \"$LABEL_DEPS\"}}" "$IMAGE" 2>/dev/null) || return 1
    [ "$labels" = "$src_hash $deps_hash" ]
}

# Fast path, no lock.
if [ $force = 0 ] && current; then
    log "$IMAGE is up to date (source ${src_hash:0:12}, deps $deps_hash; $(elapsed "$t_start"))"
    exit 0
fi

build_lock "$LOCK"
if [ $force = 0 ] && current; then   # a concurrent caller just built it
    log "$IMAGE was just built by another caller"
    exit 0
fi

work=$(mktemp -d /tmp/tdh-agents-build.XXXXXX)
container=
cleanup() {
    [ -n "$container" ] && docker rm -f "$container" >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT

# Run RECIPE ($1) in a fresh container of IMAGE ($2) with the directory $3
# copied to $4 inside, then commit it as $5 with the extra --change args.
build_layer() {
    local recipe=$1 from=$2 input=$3 dest=$4 tag=$5 old
    shift 5
    printf '%s' "$recipe" >"$input/.recipe.sh"
    container=tdh-agents-build-$$-$RANDOM
    docker create --name "$container" --net host "$from" \
        bash "$dest/.recipe.sh" >/dev/null
    docker cp - "$container:/tmp" < <(tar -C "$input" \
        --transform "s|^\\.|${dest#/tmp/}|" --owner=0 --group=0 -c .)
    if ! docker start -a "$container" >"$work/build.log" 2>&1; then
        log "ERROR: build of $tag failed:"
        tail -n 40 "$work/build.log" >&2
        exit 1
    fi
    old=$(docker image inspect -f '{{.Id}}' "$tag" 2>/dev/null || true)
    docker commit "$@" \
        --change "ENV PATH=$PATH_ENV" \
        --change 'ENV DOCKER_HOST=unix:///var/run/docker.sock' \
        --change 'WORKDIR /' \
        --change 'CMD ["os-collect-config"]' \
        "$container" "$tag" >/dev/null
    docker rm -f "$container" >/dev/null
    container=
    # The previous image under this tag, now untagged: drop it unless a
    # container (or a child image) still uses it.
    if [ -n "$old" ] && [ "$old" != "$(docker image inspect -f '{{.Id}}' "$tag")" ]; then
        docker rmi "$old" >/dev/null 2>&1 || true
    fi
}

if [ $force = 1 ] || ! docker image inspect "$BASE" >/dev/null 2>&1; then
    t0=$(now)
    log "building $BASE from $PUPPET (apt + pip, about 1.5 min)"
    in=$work/deps
    mkdir -p "$in/heat-agents/heat-config"
    cp "$repo/requirements.txt" "$in/"
    echo "$agents_requirements" >"$in/agents-requirements.txt"
    (cd "$heat_agents/heat-config" && tar -c bin os-refresh-config os-apply-config) \
        | tar -x -C "$in/heat-agents/heat-config"
    [ -r "$CA_BUNDLE" ] && cp "$CA_BUNDLE" "$in/ca.crt"
    [ -n "${PIP_INDEX_URL:-}" ] && echo "$PIP_INDEX_URL" >"$in/index-url"
    build_layer "$DEPS_RECIPE" "$PUPPET" "$in" /tmp/tdh-in "$BASE" \
        --change "LABEL $LABEL_DEPS=$deps_hash" \
        --change "LABEL tripleo-docker-hook.agents.heat-agents=$(basename "$heat_agents")"
    # Older bases of this script: dropped when nothing uses them.
    docker image ls --format '{{.Repository}}:{{.Tag}}' "$BASE_REPO" \
        | grep -vxF "$BASE" | xargs -r docker rmi >/dev/null 2>&1 || true
    log "built $BASE in $(elapsed "$t0")"
fi

t0=$(now)
in=$work/src
mkdir -p "$in"
source_tar | tar -x -C "$in"
# pbr takes its version from git, which the build container lacks.
version=$(cd "$repo" && git describe --tags --always 2>/dev/null || echo 0)
echo "0.0.1.dev0+g${version//[^A-Za-z0-9.]/.}" >"$in/.pbr-version"
build_layer "$CODE_RECIPE" "$BASE" "$in" /tmp/tdh-src "$IMAGE" \
    --change "LABEL $LABEL_SRC=$src_hash" --change "LABEL $LABEL_DEPS=$deps_hash"
log "built $IMAGE (source ${src_hash:0:12}) in $(elapsed "$t0"); total $(elapsed "$t_start")"
