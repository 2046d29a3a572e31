#!/bin/bash
# The test command of the README: the whole suite, on a fresh Debian machine.
#
#   1. tools/ensure-docker.sh   docker.io + a running dockerd (root needed)
#   2. tools/build-images.sh    tdh/busybox:{latest,other}, tdh/fake-puppet,
#                               tdh/puppet:latest, tdh/node:latest
#   3. tools/heat-agents.sh     heat-config's real runner (PyPI sdist)
#   4. tox -e pep8,shellcheck,docs,py3,functional,functional-podman,
#             reliability,e2e-heat
#      (functional-podman: the functional suite on podman; it starts its
#      own podman engine, tools/podman-engine.sh, installed from Debian
#      when missing, test images loaded from Docker's;
#      e2e-heat installs Debian's keystone + heat the first time, ~1 min,
#      and starts them on 127.0.0.1 itself: tools/heat-services.sh)
#
# Extra arguments go to tox; when they choose environments themselves
# (-e/--envlist) the default list is not added:
#   tools/test.sh                      everything
#   tools/test.sh -e py3               unit tests only
#   tools/test.sh -e functional -- -k heat_config
#
# Exported for the tests: TDH_HEAT_AGENTS_DIR (the unpacked heat-agents
# sdist) and TDH_REQUIRE_DOCKER=1 (functional tests fail instead of skipping
# when the engine is unreachable).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
TOOL=test.sh
# shellcheck source=tools/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
case ${1:-} in -h|--help) usage; exit 0 ;; esac

step() { log "== $*"; }
t_start=$(date +%s)

step "docker engine"
bash tools/ensure-docker.sh
step "test images"
bash tools/build-images.sh
step "heat-agents"
TDH_HEAT_AGENTS_DIR=$(bash tools/heat-agents.sh)
export TDH_HEAT_AGENTS_DIR
export TDH_REQUIRE_DOCKER=1
log "TDH_HEAT_AGENTS_DIR=$TDH_HEAT_AGENTS_DIR"

# tox: use the one on PATH; otherwise install it with pip.  Debian's system
# Python refuses "pip install" (PEP 668, externally managed), so fall back to
# a private venv under .cache/ (git-ignored) rather than --break-system-packages.
step "tox"
command -v python3 >/dev/null || apt_install python3 python3-venv python3-pip
tox=()
if command -v tox >/dev/null; then
    tox=(tox)
elif python3 -m tox --version >/dev/null 2>&1; then
    tox=(python3 -m tox)
else
    venv=$repo/.cache/tox-venv
    if [ ! -x "$venv/bin/tox" ]; then
        if ! python3 -m pip install --quiet tox >&2 2>/dev/null; then
            log "system pip refused tox; installing it into $venv"
            python3 -m venv "$venv" >/dev/null 2>&1 || {
                # Debian splits ensurepip out of python3.
                rm -rf "$venv"
                apt_install python3-venv
                python3 -m venv "$venv"
            }
            "$venv/bin/pip" install --quiet tox >&2
        fi
    fi
    if [ -x "$venv/bin/tox" ]; then
        tox=("$venv/bin/tox")
    elif command -v tox >/dev/null; then
        tox=(tox)
    else
        tox=(python3 -m tox)
    fi
fi

envlist=(-e 'pep8,shellcheck,docs,py3,functional,functional-podman,reliability,e2e-heat')
for arg in "$@"; do
    case $arg in
        -e|-e*|--envlist|--envlist=*) envlist=(); break ;;
        --) break ;;
    esac
done

step "${tox[*]} ${envlist[*]} $* (setup took $(( $(date +%s) - t_start )) s)"
# Each pytest run writes .cache/junit-<env>.xml (tox.ini); tox's own summary
# comes last, so close with one line counting the tests of every env.
mkdir -p .cache
rm -f .cache/junit-*.xml
rc=0
"${tox[@]}" "${envlist[@]}" "$@" || rc=$?
python3 - <<'PY' || true
import glob
import xml.etree.ElementTree as ET

counts = dict(tests=0, failures=0, errors=0, skipped=0)
for path in sorted(glob.glob('.cache/junit-*.xml')):
    root = ET.parse(path).getroot()
    for suite in ([root] if root.tag == 'testsuite' else root):
        for key in counts:
            counts[key] += int(suite.get(key, 0))
failed = counts['failures'] + counts['errors']
passed = counts['tests'] - failed - counts['skipped']
print(f"tests: {passed} passed, {failed} failed, {counts['skipped']} skipped")
PY
exit "$rc"
