#!/bin/bash
# Build tdh/node:latest, the "baremetal node" of the host-unit tests
# (tests/functional/test_baremetal_upgrade.py, docs/source/upgrade.rst):
# Debian bookworm with systemd as PID 1, dbus and a dummy packaged
# openstack-nova-compute.service, enabled.  Called by tools/build-images.sh
# (cached: built only when the image is missing or this recipe changed).
#
# The dummy service appends "baremetal start <epoch>" to
# /var/lib/nova/events.log and serves /var/lib/nova with busybox httpd on
# 127.0.0.1:<port>, the port read from /etc/nova-dummy.port (the test
# writes it before the node boots; 18774 without it).
#
# The node runs with the host's network (so the container that replaces the
# service must really free and take the same port), privileged and
# --cgroupns=private.  Units that would reach beyond the container from
# there are masked: systemd-sysctl (kernel.* settings are host-wide),
# udev (the host's uevents), modules-load, binfmt, networkd, timesyncd,
# resolved, getty and the kernel file-system mounts.
#
# Usage: tools/build-node-image.sh [--force]     About 35 s cold, 0.1 s warm.
#   --force      rebuild even when the image is current
#   -h, --help   this text
# Environment: TDH_NODE_IMAGE (default tdh/node:latest), TDH_NODE_SUITE
#   (default bookworm), TDH_BUILD_LOCK (default
#   /var/lock/tdh-build-images.lock; this script takes <it>.node).
# Needs mmdebstrap and a running dockerd (tools/ensure-docker.sh).
set -euo pipefail

TOOL=build-node-image
# shellcheck source=tools/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
IMAGE=${TDH_NODE_IMAGE:-tdh/node:latest}
SUITE=${TDH_NODE_SUITE:-bookworm}
LABEL=tripleo-docker-hook.node.recipe
LOCK=${TDH_BUILD_LOCK:-/var/lock/tdh-build-images.lock}.node

force=0
switch_arg force --force "$@"

# shellcheck disable=SC2016  # $$ is systemd's: the unit's sh expands it
UNIT='[Unit]
Description=OpenStack Nova Compute (tripleo-docker-hook test dummy)
After=network.target

[Service]
Type=simple
ExecStartPre=/bin/mkdir -p /var/lib/nova
ExecStart=/bin/sh -c '"'"'echo "baremetal start $$(date +%%s)" >> /var/lib/nova/events.log; exec /bin/busybox httpd -f -p 127.0.0.1:$$(cat /etc/nova-dummy.port 2>/dev/null || echo 18774) -h /var/lib/nova'"'"'
ExecStopPost=/bin/sh -c '"'"'echo "baremetal stop $$(date +%%s)" >> /var/lib/nova/events.log'"'"'

[Install]
WantedBy=multi-user.target'
MASK='systemd-sysctl.service systemd-udevd.service systemd-udev-trigger.service
systemd-udev-settle.service systemd-modules-load.service systemd-binfmt.service
proc-sys-fs-binfmt_misc.automount proc-sys-fs-binfmt_misc.mount
systemd-networkd.service systemd-networkd.socket systemd-timesyncd.service
systemd-resolved.service getty.target console-getty.service
sys-kernel-config.mount sys-kernel-debug.mount sys-kernel-tracing.mount
sys-fs-fuse-connections.mount dev-hugepages.mount dev-mqueue.mount
systemd-remount-fs.service systemd-firstboot.service systemd-hwdb-update.service'
# Run by mmdebstrap with the new root as $1; the unit is in $2.
# shellcheck disable=SC2016
CUSTOMIZE='set -e; root=$1
cp "$2" "$root/etc/systemd/system/openstack-nova-compute.service"
ln -sf /etc/systemd/system/openstack-nova-compute.service \
    "$root/etc/systemd/system/multi-user.target.wants/openstack-nova-compute.service"
for u in '"${MASK//$'\n'/ }"'; do ln -sf /dev/null "$root/etc/systemd/system/$u"; done
echo tdh-node > "$root/etc/hostname"
: > "$root/etc/machine-id"'
recipe=$(printf '%s\n' "$SUITE" "$UNIT" "$MASK" "$CUSTOMIZE" | sha256sum | cut -c1-16)

current() { [ "$(image_label "$IMAGE" "$LABEL")" = "$recipe" ]; }
[ $force = 0 ] && current && exit 0

build_lock "$LOCK"
[ $force = 0 ] && current && exit 0   # a concurrent caller just built it

need mmdebstrap
work=$(mktemp -d /tmp/tdh-node-image.XXXXXX)
trap 'rm -rf "$work"' EXIT
t0=$(now)
log "building $IMAGE with mmdebstrap ($SUITE), about 35 s"
printf '%s\n' "$UNIT" >"$work/unit"
printf '%s\n' "$CUSTOMIZE" >"$work/customize.sh"
mmdebstrap --quiet --variant=apt \
    --include=systemd,systemd-sysv,dbus,busybox-static \
    --customize-hook="sh $work/customize.sh \"\$1\" $work/unit" \
    "$SUITE" "$work/node.tar" >&2
docker import \
    -c 'CMD ["/lib/systemd/systemd"]' -c 'ENV container=docker' \
    -c "LABEL $LABEL=$recipe" \
    -m 'tripleo-docker-hook test image (systemd baremetal node)' \
    "$work/node.tar" "$IMAGE" >/dev/null
log "built $IMAGE in $(elapsed "$t0")"
