#!/bin/bash
# Fetch heat-config's real runner from the heat-agents source distribution.
#
# The functional tests drive the hook through 55-heat-config and
# heat-config-notify exactly as a node does.  Those scripts are only in the
# sdist on PyPI (the wheel holds no scripts), so download it with pip, unpack
# it into a cache and print the unpacked directory, i.e. the one containing
#   heat-config/os-refresh-config/configure.d/55-heat-config
#   heat-config/bin/heat-config-notify
# Only that path goes to stdout; everything else goes to stderr.
#
# Idempotent and offline when cached: an already unpacked tree is reused
# without calling pip.
#
# Usage: tools/heat-agents.sh [CACHE_DIR]
# Environment: TDH_HEAT_AGENTS_CACHE (default <repo>/.cache/heat-agents),
#              TDH_HEAT_AGENTS_VERSION (e.g. 13.0.0; default: newest),
#              PYTHON (default python3).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOL=heat-agents
# shellcheck source=tools/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
case ${1:-} in -h|--help) usage; exit 0 ;; esac
cache=${1:-${TDH_HEAT_AGENTS_CACHE:-$repo/.cache/heat-agents}}
version=${TDH_HEAT_AGENTS_VERSION:-}
python=${PYTHON:-python3}


# Print the newest unpacked tree in the cache that has both scripts.
find_tree() {
    local d best=
    for d in "$cache"/heat_agents-${version:-*}/ "$cache"/heat-agents-${version:-*}/; do
        [ -d "$d" ] || continue
        d=${d%/}
        if [ ! -f "$d/heat-config/os-refresh-config/configure.d/55-heat-config" ] \
            || [ ! -f "$d/heat-config/bin/heat-config-notify" ]; then
            continue
        fi
        # Version-sort so 13.10 beats 13.9.
        best=$(printf '%s\n%s\n' "$best" "$d" | sed '/^$/d' | sort -V | tail -n 1)
    done
    [ -n "$best" ] && echo "$best"
}

# Fast path: no lock, no network.
if tree=$(find_tree); then
    echo "$tree"
    exit 0
fi

mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
if tree=$(find_tree); then   # a concurrent caller just did it
    echo "$tree"
    exit 0
fi

spec=heat-agents${version:+==$version}
log "downloading $spec sdist from PyPI into $cache"
"$python" -m pip download --quiet --disable-pip-version-check --no-deps \
    --no-binary :all: "$spec" -d "$cache/dist" >&2

# shellcheck disable=SC2012,SC2086  # the version part is a glob on purpose
sdist=$(ls -1 "$cache"/dist/heat[-_]agents-${version:-*}.tar.gz 2>/dev/null | sort -V | tail -n 1)
[ -n "$sdist" ] || { log "ERROR: no heat-agents sdist in $cache/dist"; exit 1; }

# Unpack beside the cache and rename: an interrupted run leaves no
# half-extracted tree that find_tree would accept.
tmp=$(mktemp -d "$cache/.unpack.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
tar -xzf "$sdist" -C "$tmp"
top=$(ls -1 "$tmp")
[ "$(echo "$top" | wc -l)" = 1 ] || { log "ERROR: unexpected sdist layout in $sdist"; exit 1; }
rm -rf "${cache:?}/$top"
mv "$tmp/$top" "$cache/$top"

tree=$(find_tree) || { log "ERROR: $sdist has no heat-config/ runner scripts"; exit 1; }
log "unpacked $(basename "$sdist")"
echo "$tree"
