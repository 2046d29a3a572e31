#!/bin/bash
# A real Heat engine and Keystone on 127.0.0.1, for the e2e-heat tests.
#
#   tools/heat-services.sh install         Debian's keystone, heat-common,
#       openstackclient, heatclient (apt; skipped when installed).  ~1.5 min
#       the first time.  No service is started by the packages.
#   tools/heat-services.sh start [STATE]   install if needed, then bootstrap
#       and start, with ALL state (config, sqlite databases, fernet keys,
#       logs, pid files) in STATE (default: a new /tmp/tdh-heat.XXXXXX).
#       Prints STATE on stdout.  Already running there: only checks it.
#   tools/heat-services.sh stop STATE      stop what start started (by pid)
#       and remove STATE.  Safe to repeat.
#
# What runs (everything bound to 127.0.0.1, ports chosen free at start):
#   keystone  uwsgi with keystone-wsgi-public, 2 workers, sqlite database
#   heat-all  API + engine in one process, oslo.messaging fake:// transport
#             (so one worker of each: real-heat.md pitfall 3), stack user
#             domain "heat" for DeployedServer/SoftwareDeployment users
#   fake-nova tools/fake-nova.py: Heat asks "Nova" whether the server still
#             exists before finishing a deployment's DELETE (pitfall 1)
#
# STATE/openrc holds the admin credentials (export lines) and the ports;
# STATE/log/ the services' logs.  Facts and timings behind every option:
# /work/shared/reference/real-heat.md (docs/source/agents.rst summarises).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOL=heat-services
# shellcheck source=tools/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# Debian's clients and services: never a pyenv/venv python3 found on PATH.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH
PY=/usr/bin/python3
PACKAGES=(keystone heat-common python3-openstackclient python3-heatclient
    sqlite3 curl)


installed() {
    local p
    for p in "${PACKAGES[@]}"; do
        dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
            || return 1
    done
}

install() {
    if installed; then
        return 0
    fi
    local t0 policy=/usr/sbin/policy-rc.d made_policy=0
    t0=$(now)
    log "installing ${PACKAGES[*]} (apt, about 1.5 min)"
    # keystone's postinst starts the service on its default port unless
    # policy-rc.d forbids it; container images usually ship one.
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod 0755 "$policy"
        made_policy=1
    fi
    export DEBIAN_FRONTEND=noninteractive
    (
        exec 9>/var/lock/tdh-heat-apt.lock
        flock 9
        installed && exit 0
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" </dev/null >/dev/null
    ) >&2 || { [ $made_policy = 1 ] && rm -f "$policy"; exit 1; }
    [ $made_policy = 1 ] && rm -f "$policy"
    log "installed in $(elapsed "$t0")"
}

free_port() {
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# wait_http URL SECONDS [curl args...]: until an HTTP answer < 500 arrives.
wait_http() {
    local url=$1 limit=$2 code deadline
    shift 2
    deadline=$(( $(date +%s) + limit ))
    while :; do
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@" "$url" || true)
        case $code in 2??|3??|401|404) return 0 ;; esac
        [ "$(date +%s)" -ge "$deadline" ] && { log "no answer from $url after $limit s"; return 1; }
        sleep 0.3
    done
}

write_keystone_conf() {
    cat >"$STATE/keystone.conf" <<EOF
[DEFAULT]
log_file = $STATE/log/keystone.log
[database]
connection = sqlite:///$STATE/keystone.sqlite
[fernet_tokens]
key_repository = $STATE/fernet-keys
[fernet_receipts]
key_repository = $STATE/fernet-keys
[credential]
key_repository = $STATE/credential-keys
[oslo_policy]
policy_dirs = /etc/keystone/policy.d
EOF
}

write_heat_conf() {
    cat >"$STATE/heat.conf" <<EOF
[DEFAULT]
transport_url = fake://
num_engine_workers = 1
log_file = $STATE/log/heat-all.log
stack_user_domain_name = heat
stack_domain_admin = heat_domain_admin
stack_domain_admin_password = $DOMAIN_PW
heat_stack_user_role = heat_stack_user
region_name_for_services = RegionOne
[heat_all]
enabled_services = api,engine
[heat_api]
bind_host = 127.0.0.1
bind_port = $HEAT_PORT
workers = 1
[database]
connection = sqlite:///$STATE/heat.sqlite
[keystone_authtoken]
www_authenticate_uri = http://127.0.0.1:$KS_PORT
auth_url = http://127.0.0.1:$KS_PORT
auth_type = password
username = heat
password = $HEAT_PW
project_name = service
user_domain_name = Default
project_domain_name = Default
[trustee]
auth_type = password
auth_url = http://127.0.0.1:$KS_PORT
username = heat
password = $HEAT_PW
user_domain_name = Default
[clients_keystone]
auth_uri = http://127.0.0.1:$KS_PORT
[paste_deploy]
api_paste_config = /etc/heat/api-paste.ini
[oslo_policy]
policy_dirs = /etc/heat/policy.d
EOF
}

secret() { "$PY" -c 'import secrets; print(secrets.token_hex(12))'; }

start() {
    local t0 t tall
    tall=$(now)
    install
    if [ -z "${STATE:-}" ]; then
        STATE=$(mktemp -d /tmp/tdh-heat.XXXXXX)
    fi
    mkdir -p "$STATE/log"
    STATE=$(cd "$STATE" && pwd)
    if [ -s "$STATE/openrc" ] && alive "$STATE/keystone.pid" && alive "$STATE/heat-all.pid" \
            && alive "$STATE/fake-nova.pid"; then
        # shellcheck disable=SC1091
        . "$STATE/openrc"
        wait_http "http://127.0.0.1:$TDH_HEAT_PORT/" 30
        log "already running in $STATE"
        echo "$STATE"
        return 0
    fi
    if [ -e "$STATE/keystone.sqlite" ]; then
        log "ERROR: $STATE holds a stopped deployment; stop it first (removes it)"
        exit 1
    fi
    chmod 0700 "$STATE"
    KS_PORT=$(free_port); HEAT_PORT=$(free_port); NOVA_PORT=$(free_port)
    ADMIN_PW=$(secret); HEAT_PW=$(secret); DOMAIN_PW=$(secret)
    cat >"$STATE/openrc" <<EOF
export OS_AUTH_URL=http://127.0.0.1:$KS_PORT/v3
export OS_USERNAME=admin
export OS_PASSWORD=$ADMIN_PW
export OS_PROJECT_NAME=admin
export OS_USER_DOMAIN_NAME=Default
export OS_PROJECT_DOMAIN_NAME=Default
export OS_IDENTITY_API_VERSION=3
export OS_REGION_NAME=RegionOne
export TDH_KEYSTONE_PORT=$KS_PORT
export TDH_HEAT_PORT=$HEAT_PORT
export TDH_NOVA_PORT=$NOVA_PORT
export TDH_HEAT_STATE=$STATE
EOF
    chmod 0600 "$STATE/openrc"

    # -- Keystone ------------------------------------------------------------
    t0=$(now)
    write_keystone_conf
    install -d -m 0700 "$STATE/fernet-keys" "$STATE/credential-keys"
    local km=(keystone-manage --config-file "$STATE/keystone.conf")
    # keystone-manage prints a harmless traceback at exit (pitfall 12).
    "${km[@]}" db_sync >"$STATE/log/keystone-manage.log" 2>&1
    sqlite3 "$STATE/keystone.sqlite" 'PRAGMA journal_mode=WAL;' >/dev/null
    {
        "${km[@]}" fernet_setup --keystone-user root --keystone-group root
        "${km[@]}" credential_setup --keystone-user root --keystone-group root
    } >>"$STATE/log/keystone-manage.log" 2>&1
    "${km[@]}" bootstrap --bootstrap-password "$ADMIN_PW" \
        --bootstrap-username admin --bootstrap-project-name admin \
        --bootstrap-role-name admin --bootstrap-service-name keystone \
        --bootstrap-region-id RegionOne \
        --bootstrap-admin-url "http://127.0.0.1:$KS_PORT/v3" \
        --bootstrap-public-url "http://127.0.0.1:$KS_PORT/v3" \
        --bootstrap-internal-url "http://127.0.0.1:$KS_PORT/v3" \
        >>"$STATE/log/keystone-manage.log" 2>&1
    log "keystone bootstrapped in $(elapsed "$t0")"
    t=$(now)
    # Connection: close, or python-requests reuses a socket uwsgi closed
    # (pitfall 4).
    setsid uwsgi --plugins python3 --http-socket "127.0.0.1:$KS_PORT" \
        --add-header 'Connection: close' \
        --wsgi-file /usr/bin/keystone-wsgi-public --master --processes 2 \
        --threads 4 --lazy-apps --need-app --die-on-term --buffer-size 65535 \
        --env "OS_KEYSTONE_CONFIG_FILES=$STATE/keystone.conf" \
        --logto "$STATE/log/keystone-uwsgi.log" </dev/null >/dev/null 2>&1 &
    echo $! >"$STATE/keystone.pid"
    setsid "$PY" "$repo/tools/fake-nova.py" "$NOVA_PORT" \
        </dev/null >"$STATE/log/fake-nova.log" 2>&1 &
    echo $! >"$STATE/fake-nova.pid"
    wait_http "http://127.0.0.1:$KS_PORT/v3" 60
    log "keystone answers after $(elapsed "$t")"

    # -- identity objects Heat needs: one openstack process (pitfall 7) ------
    t0=$(now)
    # shellcheck disable=SC1091
    . "$STATE/openrc"
    local cmds ep
    cmds="project create --domain default service
user create --domain default --password $HEAT_PW heat
role add --project service --user heat admin
role create heat_stack_owner
role create heat_stack_user
role add --project admin --user admin heat_stack_owner
service create --name heat orchestration
service create --name nova compute
domain create heat
user create --domain heat --password $DOMAIN_PW heat_domain_admin
role add --domain heat --user-domain heat --user heat_domain_admin admin"
    for ep in public internal admin; do
        cmds+="
endpoint create --region RegionOne orchestration $ep http://127.0.0.1:$HEAT_PORT/v1/%(tenant_id)s
endpoint create --region RegionOne compute $ep http://127.0.0.1:$NOVA_PORT/v2.1"
    done
    cmds+="
endpoint list -f value -c ID"
    echo "$cmds" | openstack >"$STATE/log/identity-setup.log" 2>&1 || true
    # keystone's own 3 + heat's 3 + nova's 3
    if [ "$(grep -cE '^[0-9a-f]{32}$' "$STATE/log/identity-setup.log" || true)" -lt 9 ] \
            || grep -q -i 'error\|unrecognized' "$STATE/log/identity-setup.log"; then
        log "ERROR: identity set-up failed:"
        tail -n 30 "$STATE/log/identity-setup.log" >&2
        exit 1
    fi
    log "identity objects created in $(elapsed "$t0")"

    # -- Heat ----------------------------------------------------------------
    t0=$(now)
    write_heat_conf
    heat-manage --config-file "$STATE/heat.conf" db_sync >"$STATE/log/heat-manage.log" 2>&1
    sqlite3 "$STATE/heat.sqlite" 'PRAGMA journal_mode=WAL;' >/dev/null
    setsid heat-all --config-file "$STATE/heat.conf" \
        </dev/null >"$STATE/log/heat-all.stdout" 2>&1 &
    echo $! >"$STATE/heat-all.pid"
    wait_http "http://127.0.0.1:$HEAT_PORT/" 90
    log "heat-all answers after $(elapsed "$t0") (db_sync included)"
    log "started in $(elapsed "$tall"); state $STATE"
    echo "$STATE"
}

# stop_pid FILE SIGNALS...: send each signal in turn, 5 s apart, until gone.
stop_pid() {
    local file=$1 pid sig
    shift
    [ -s "$file" ] || return 0
    pid=$(cat "$file")
    for sig in "$@"; do
        kill -0 "$pid" 2>/dev/null || break
        # setsid made each service a process group leader: signal the group.
        kill -s "$sig" -- "-$pid" 2>/dev/null || kill -s "$sig" "$pid" 2>/dev/null || true
        for _ in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
    done
    rm -f "$file"
}

stop() {
    [ -n "${STATE:-}" ] || { log "usage: $0 stop STATE"; exit 2; }
    [ -d "$STATE" ] || return 0
    # heat-all: TERM stops the engine only, INT ends the API (pitfall 6).
    stop_pid "$STATE/heat-all.pid" TERM INT KILL
    stop_pid "$STATE/keystone.pid" TERM KILL
    stop_pid "$STATE/fake-nova.pid" TERM KILL
    case $STATE in
        /tmp/tdh-heat.*|"${TMPDIR:-/tmp}"/*) rm -rf "$STATE" ;;
        *) log "leaving $STATE in place (not under ${TMPDIR:-/tmp})" ;;
    esac
}

cmd=${1:-}
STATE=${2:-}
case $cmd in
    install) install ;;
    start) start ;;
    stop) stop ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
esac
