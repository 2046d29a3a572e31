#!/bin/bash
# The demo command of the README: a small "containerized compute" deployed by
# tripleo-docker-hook on the local Docker engine, exactly as heat-config's
# 55-heat-config would run it (deployment document on stdin, one JSON object
# on stdout).
#
#   tools/demo.sh            deploy tools/demo/compute.json, show the answer,
#                            the containers and what nova_metadata serves
#   tools/demo.sh --delete   the same document with deploy_action DELETE
#                            (new derived config id, as Heat sends it):
#                            removes the demo containers and host files
#   tools/demo.sh --podman [--delete]
#                            the same on podman: the private engine of
#                            tools/podman-engine.sh (started if needed, left
#                            running; the hook reaches it through DOCKER_HOST)
#
# Sets up what it needs, idempotently: Docker (tools/ensure-docker.sh), the
# tdh/busybox test image, and the package in .venv (pip install -e .;
# TDH_DEMO_HOOK names another tripleo-docker-hook).  The demo runs on one
# engine at a time (the same names and port): delete it before switching.
# Needs root (Docker, host paths under /var/lib/tdh-demo).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOL=demo
# shellcheck source=tools/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$repo"

DOC=tools/demo/compute.json
DEMO_DIR=/var/lib/tdh-demo
PORT=8787   # must match nova_metadata's httpd -p in $DOC
URL=http://127.0.0.1:$PORT/openstack/latest/meta_data.json
OUT=$repo/.cache/demo
HOOK=${TDH_DEMO_HOOK:-$repo/.venv/bin/tripleo-docker-hook}
DOCKER_SOCK=unix:///var/run/docker.sock

action=CREATE
engine=docker
for arg in "$@"; do
    case $arg in
        --delete) action=DELETE ;;
        --podman) engine=podman ;;
        -h|--help) usage; exit 0 ;;
        *) bad_argument "$arg" ;;
    esac
done
flag=; [ $engine = podman ] && flag=' --podman'

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
[ -t 1 ] || say() { printf '\n== %s\n' "$*"; }

say "Docker engine and test image"
# Set-up talks to Docker whatever DOCKER_HOST says (the image comes from it).
DOCKER_HOST=$DOCKER_SOCK bash tools/ensure-docker.sh
DOCKER_HOST=$DOCKER_SOCK bash tools/build-images.sh --only busybox
other=podman
if [ $engine = podman ]; then
    say "podman engine (tools/podman-engine.sh: its own socket and storage, Docker's images)"
    DOCKER_HOST=$(DOCKER_HOST=$DOCKER_SOCK bash tools/podman-engine.sh start)
    other=docker
else
    DOCKER_HOST=$DOCKER_SOCK
fi
# The hook (docker_url empty) and the docker CLI below follow DOCKER_HOST.
export DOCKER_HOST

# The hook as a node would have it: installed from this tree into a venv.
if [ -z "${TDH_DEMO_HOOK:-}" ] && [ ! -x "$HOOK" ]; then
    say "Installing tripleo-docker-hook into .venv"
    if ! python3 -m venv .venv >/dev/null 2>&1; then
        # Debian ships ensurepip separately from python3.
        rm -rf .venv
        apt_install python3-venv
        python3 -m venv .venv
    fi
    .venv/bin/pip install --quiet --disable-pip-version-check -e . 2>&1 \
        | grep -v "^WARNING: Location 'file:" >&2 || true
    [ -x "$HOOK" ] || { echo "demo: pip install -e . did not produce $HOOK" >&2; exit 1; }
fi

mkdir -p "$OUT"
if [ $action = CREATE ]; then
    # What puppet/config generation would have left on the host: the files
    # the containers bind-mount (the hook only starts containers).
    mkdir -p "$DEMO_DIR/metadata/openstack/latest" "$DEMO_DIR/nova" "$DEMO_DIR/libvirt"
    cat >"$DEMO_DIR/metadata/openstack/latest/meta_data.json" <<EOF
{"uuid": "6a1d3c52-demo-compute-0", "hostname": "$(hostname)", "name": "demo-instance", "availability_zone": "nova", "served_by": "nova_metadata (busybox httpd, host network, host-path volume)"}
EOF
    doc=$(cat "$DOC")
else
    # Heat sends DELETE as a new derived config: same name, new id.
    doc=$(jq '.id = "5f1c2d3e-0a4b-4c6d-8e9f-0000000000de"
              | (.inputs[] | select(.name == "deploy_action") | .value) = "DELETE"' "$DOC")
fi

NAME=$(jq -r .name <<<"$doc")
# Same container names and port on both engines: one demo at a time.
if [ $other = docker ]; then
    other_url=$DOCKER_SOCK
else
    other_url=$(bash tools/podman-engine.sh env | sed 's/^export DOCKER_HOST=//')
fi
if engine_answers "${other_url#unix://}" && [ -n "$(DOCKER_HOST=$other_url docker ps -aq \
        --filter label=managed_by=tripleo-docker-hook --filter "label=deployment=$NAME")" ]; then
    other_flag=; [ $other = podman ] && other_flag=' --podman'
    die "the demo runs on $other: remove it first (tools/demo.sh$other_flag --delete)"
fi
if [ $action = CREATE ] && [ -z "$(docker ps -q --filter label=managed_by=tripleo-docker-hook \
        --filter "label=deployment=$NAME" --filter name=nova_metadata)" ] \
        && (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
    # podman's containers outlive its stopped service: a demo there still serves.
    die "port $PORT is taken (a demo left on the other engine? tools/demo.sh$([ $other = podman ] && echo ' --podman') --delete)"
fi
say "Deployment document ($DOC, deploy_action=$action)"
jq -c '{id, name, group, action: (.inputs[] | select(.name == "deploy_action") | .value),
        containers: (.config.docker_config | map_values(keys))}' <<<"$doc"

say "tripleo-docker-hook < document   (stdout: the JSON answer heat-config would signal)"
rc=0
"$HOOK" <<<"$doc" >"$OUT/answer.json" 2>"$OUT/hook.log" || rc=$?
jq . "$OUT/answer.json" 2>/dev/null || cat "$OUT/answer.json"
echo "(exit status $rc; the operator log is in $OUT/hook.log)"
if [ $rc != 0 ]; then
    echo "--- last lines of the hook log:" >&2
    tail -n 20 "$OUT/hook.log" >&2
    exit $rc
fi

# The deployment filter hides other deployments' containers (test runs).
say "docker ps ($engine: $DOCKER_HOST) --filter label=managed_by=tripleo-docker-hook --filter label=deployment=$NAME"
docker ps --filter label=managed_by=tripleo-docker-hook --filter "label=deployment=$NAME" \
    --format 'table {{.Names}}\t{{.Image}}\t{{.Status}}\t{{.Label "deployment"}}\t{{.Label "container_name"}}'

if [ $action = DELETE ]; then
    rm -rf "$DEMO_DIR"
    say "Demo removed (containers deleted by the hook, $DEMO_DIR removed)"
    exit 0
fi

fetch() {
    if command -v curl >/dev/null 2>&1; then
        curl -fsS -m 2 "$1"
    else
        python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=2).read().decode())' "$1"
    fi
}

say "GET $URL   (nova_metadata: busybox httpd on the host network)"
# The container is started; give httpd a moment to bind the port (up to
# 20 s: a loaded machine, the test suite running it).
ok=0
for _ in $(seq 1 200); do
    if body=$(fetch "$URL" 2>/dev/null); then ok=1; break; fi
    sleep 0.1
done
if [ $ok = 1 ]; then
    echo "$body"
else
    echo "demo: nothing answers on $URL" >&2
    docker logs nova_metadata 2>&1 | tail -n 5 >&2 || true
    exit 1
fi

sleep 1
say "Host side of nova_compute's volume: $DEMO_DIR/nova/compute.heartbeat"
cat "$DEMO_DIR/nova/compute.heartbeat" 2>/dev/null || echo "(not written yet)"

say "Clean up"
cat <<EOF
Run the same document with deploy_action DELETE (what Heat sends on stack
delete):   tools/demo.sh$flag --delete
or by hand (DOCKER_HOST=$DOCKER_HOST):
  jq '.id = "new-id" | (.inputs[] | select(.name == "deploy_action") | .value) = "DELETE"' \\
     $DOC | .venv/bin/tripleo-docker-hook
Running tools/demo.sh$flag again re-applies the same document (nothing changes).
EOF
