#!/bin/bash
# Build the local test images (no registry is reachable from CI machines).
#
#   tdh/busybox:latest  Debian's static busybox in an empty root, one /bin
#                       symlink per applet, /etc/passwd+group (root, nobody),
#                       /tmp.  CMD ["sh"].  About one second.
#   tdh/busybox:other   the same plus /etc/tdh-variant: a distinct image ID,
#                       for tests of "the image changed" paths.
#   tdh/fake-puppet:latest
#                       tdh/busybox plus /usr/bin/puppet, a shell script
#                       that runs its last argument (the manifest) with sh:
#                       a config image that does whatever a test's
#                       "manifest" says, as a broken or hostile image would.
#   tdh/puppet:latest   mmdebstrap'ed bookworm (variant apt) with puppet and
#                       puppetlabs-inifile.  About 30 s, needs the Debian
#                       mirror.
#   tdh/node:latest     systemd "baremetal node" with a dummy packaged
#                       openstack-nova-compute.service
#                       (tools/build-node-image.sh).  About 35 s.
#
# Each image is built only when absent (docker image inspect).  A flock
# serialises concurrent callers (parallel test runners, demo + tests), and
# the check is repeated under the lock so nothing is built twice.
#
# Usage: tools/build-images.sh [--only busybox|puppet|node] [--force]
# Needs a running dockerd (tools/ensure-docker.sh) and root.
set -euo pipefail

TOOL=build-images
# shellcheck source=tools/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

only=
force=0
while [ $# -gt 0 ]; do
    case $1 in
        --only) only=${2:-}; shift 2 ;;
        --only=*) only=${1#--only=}; shift ;;
        --force) force=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) bad_argument "$1" ;;
    esac
done
case $only in
    ''|busybox|puppet|node) ;;
    *) log "--only takes busybox, puppet or node, not '$only'"; exit 2 ;;
esac

# tdh/node:latest (systemd "baremetal node") has its own script, cached the
# same way (a no-op when current).
if [ -z "$only" ] || [ "$only" = node ]; then
    node_args=()
    [ $force = 1 ] && node_args=(--force)
    bash "$(dirname "${BASH_SOURCE[0]}")/build-node-image.sh" "${node_args[@]}"
    [ "$only" = node ] && exit 0
fi

BUSYBOX=tdh/busybox:latest
BUSYBOX_OTHER=tdh/busybox:other
FAKE_PUPPET=tdh/fake-puppet:latest
PUPPET=tdh/puppet:latest
SUITE=${TDH_PUPPET_SUITE:-bookworm}
PATH_ENV='ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
LOCK=${TDH_BUILD_LOCK:-/var/lock/tdh-build-images.lock}

have() { [ $force = 0 ] && docker image inspect "$1" >/dev/null 2>&1; }

want_busybox=0
want_puppet=0
[ "$only" != puppet ] && { have "$BUSYBOX" && have "$BUSYBOX_OTHER" && have "$FAKE_PUPPET" || want_busybox=1; }
[ "$only" != busybox ] && { have "$PUPPET" || want_puppet=1; }
# Fast path, no lock: everything asked for is there.
[ $want_busybox = 0 ] && [ $want_puppet = 0 ] && exit 0

build_lock "$LOCK"

work=$(mktemp -d /tmp/tdh-build-images.XXXXXX)
trap 'rm -rf "$work"' EXIT

# Deterministic tar stream of a directory (ownership root, sorted names).
tar_root() {
    tar -C "$1" --sort=name --owner=0 --group=0 --numeric-owner -c .
}

build_busybox() {
    local t0 bb root applet
    t0=$(now)
    bb=/bin/busybox
    [ -x "$bb" ] || die "$bb missing (apt-get install busybox-static)"
    # Debian's busybox (non-static package) is dynamically linked: refuse it,
    # it would not run in an empty root.
    if ldd "$bb" >/dev/null 2>&1; then
        log "ERROR: $bb is dynamically linked; install busybox-static"; exit 1
    fi
    root=$work/busybox
    mkdir -p "$root/bin" "$root/etc" "$root/tmp" "$root/root" "$root/var/www"
    chmod 1777 "$root/tmp"
    cp "$bb" "$root/bin/busybox"
    for applet in $("$bb" --list); do
        [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
    done
    printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' \
        'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >"$root/etc/passwd"
    printf '%s\n' 'root:x:0:' 'nogroup:x:65534:' 'nobody:x:65534:' >"$root/etc/group"
    # Each image only when missing: rebuilding one would change its ID
    # under containers of other deployments.
    have "$BUSYBOX" || tar_root "$root" | docker import -c 'CMD ["sh"]' -c "$PATH_ENV" \
        -m 'tripleo-docker-hook test image' - "$BUSYBOX" >/dev/null
    # Second, distinct image (different content, so a different ID).
    echo other >"$root/etc/tdh-variant"
    have "$BUSYBOX_OTHER" || tar_root "$root" | docker import -c 'CMD ["sh"]' -c "$PATH_ENV" \
        -m 'tripleo-docker-hook test image (variant)' - "$BUSYBOX_OTHER" >/dev/null
    have "$FAKE_PUPPET" && { log "built $BUSYBOX and $BUSYBOX_OTHER in $(elapsed "$t0")"; return; }
    # Fake puppet: "puppet apply ... <manifest>" runs the manifest with sh.
    rm "$root/etc/tdh-variant"
    mkdir -p "$root/usr/bin"
    # shellcheck disable=SC2016  # expanded by the image's sh, not here
    printf '%s\n' '#!/bin/sh' '# tripleo-docker-hook test image: the manifest is a shell script.' \
        'for arg; do manifest=$arg; done' 'exec sh -e "$manifest"' >"$root/usr/bin/puppet"
    chmod 0755 "$root/usr/bin/puppet"
    tar_root "$root" | docker import -c 'CMD ["sh"]' -c "$PATH_ENV" \
        -m 'tripleo-docker-hook test image (fake puppet)' - "$FAKE_PUPPET" >/dev/null
    log "built $BUSYBOX, $BUSYBOX_OTHER and $FAKE_PUPPET in $(elapsed "$t0")"
}

build_puppet() {
    local t0
    t0=$(now)
    command -v mmdebstrap >/dev/null || die "mmdebstrap missing (apt-get install mmdebstrap)"
    log "building $PUPPET with mmdebstrap ($SUITE), about 30 s"
    # Tarball first, then import: a failed bootstrap must not leave a
    # half-imported image behind.
    mmdebstrap --quiet --variant=apt \
        --include=puppet,puppet-module-puppetlabs-inifile \
        "$SUITE" "$work/puppet.tar" >&2
    docker import -c 'CMD ["/bin/bash"]' -c "$PATH_ENV" \
        -m 'tripleo-docker-hook test image (puppet)' "$work/puppet.tar" "$PUPPET" >/dev/null
    log "built $PUPPET in $(elapsed "$t0")"
}

# Re-check under the lock: a concurrent caller may have just built them.
if [ "$only" != puppet ] && ! { have "$BUSYBOX" && have "$BUSYBOX_OTHER" && have "$FAKE_PUPPET"; }; then
    build_busybox
fi
if [ "$only" != busybox ] && ! have "$PUPPET"; then
    build_puppet
fi
