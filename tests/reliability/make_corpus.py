"""Write the bad-input corpus: ``corpus/<case>.in`` (the hook's exact
stdin bytes) and ``corpus/expected.json`` (case → status, field path).

The files are the corpus (feed one to the hook by hand:
``tripleo-docker-hook < tests/reliability/corpus/<case>.in``); this script
is how they were written.  Add a case here and run it again::

    python tests/reliability/make_corpus.py

Placeholders replaced by the test at run time: ``@FIFO@`` (a named pipe),
``@BIG@`` (a 2 MiB env file), ``@BINARY@`` (a non-UTF-8 file), ``@DIR@``
(a directory).  Every document carries the sentinel credentials of
:mod:`tests.reliability.sentinels` so that the secret scan covers failures.
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))

from tests.reliability.sentinels import INPUTS  # noqa: E402
from tests.reliability.sentinels import PASSWORD  # noqa: E402
from tests.reliability.sentinels import SIGNAL_URL  # noqa: E402

IMAGE = 'tdh/busybox:latest'


def doc(config, name='tdh-rel-corpus', **extra):
    item = {'id': 'c0ffee00-0000-4000-8000-000000000001', 'name': name,
            'group': 'tripleo-docker-hook',
            'creation_time': '2026-11-29T00:00:00Z',
            'inputs': list(INPUTS) + [
                {'name': 'deploy_action', 'value': 'CREATE'},
                {'name': 'deploy_resource_name', 'value': name}],
            'outputs': [{'name': 'result', 'error_output': True}],
            'options': None, 'config': config}
    item.update(extra)
    return item


def svc(**spec):
    return {'svc': dict({'image': IMAGE, 'net': 'host'}, **spec)}


def task(**spec):
    return {'step_1': {'job': dict({'image': IMAGE, 'net': 'host',
                                    'detach': False,
                                    'command': ['true']}, **spec)}}


def pod(spec=None, container=None, meta=None):
    return {'apiVersion': 'v1', 'kind': 'Pod',
            'metadata': dict({'name': 'p'}, **(meta or {})),
            'spec': dict({'containers': [dict(
                {'name': 'c', 'image': IMAGE}, **(container or {}))]},
                **(spec or {}))}


def bomb(levels=9, indent='    '):
    lines = ['a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]']
    for i in range(1, levels):
        refs = ', '.join([f'*a{i - 1}'] * 10)
        lines.append(f'a{i}: &a{i} [{refs}]')
    return '\n'.join(indent + line for line in lines)


def kolla(body, path='/var/lib/kolla/config_files/svc.json'):
    return {'kolla_config': {path: body}}


J = json.dumps
CASES = {}


def case(slug, stdin, path, status=2):
    """``path``: the field path an error line must start with ('' for
    errors about the whole document)."""
    assert slug not in CASES, slug
    if isinstance(stdin, dict):
        stdin = J(stdin)
    if isinstance(stdin, str):
        stdin = stdin.encode('utf-8', 'surrogatepass')
    CASES[slug] = (stdin, path, status)


# -- the envelope ----------------------------------------------------------
case('env-empty', b'', '')
case('env-null', b'null', '')
case('env-list', b'[]', '')
case('env-string', b'"deployment"', '')
case('env-number', b'42', '')
case('env-truncated', J(doc({}))[:-20], '')
case('env-trailing-garbage', J(doc({})) + ' {}', '')
case('env-not-utf8', J(doc({})).encode().replace(b'tdh-rel-corpus',
                                                 b'tdh-\xff-corpus'), '')
case('env-latin1', 'caf\xe9'.encode('latin-1'), '')
case('env-bom-utf16', '{"a": 1}'.encode('utf-16'), '')
case('env-lone-surrogate-name', J(doc({})).replace(
    '"tdh-rel-corpus"', '"tdh-\\ud800"', 1), 'name')
case('env-lone-surrogate-key', J(doc({'svc': {'image': IMAGE}})).replace(
    '"svc"', '"s\\udc00vc"', 1), 'config')
case('env-lone-surrogate-value', J(doc(svc(user='\ud83d'))), 'config.svc.user')
case('env-nested-100000', '[' * 100000 + ']' * 100000, '')
case('env-nested-config-100000', J(doc({})).replace(
    '"config": {}', '"config": ' + '[' * 100000 + ']' * 100000), '')
case('env-nested-150', J(doc(svc(_note=json.loads(
    '{"a":' * 150 + '1' + '}' * 150)))), 'config.svc._note')
case('env-name-5000', doc({}, name='n' * 5000), 'name')
case('env-name-quoted-too-long', doc({}, name='%' * 100), 'name')
case('env-name-newline', doc({}, name='tdh\nrel'), 'name')
case('env-name-bool', doc({}, name=True), 'name')
case('env-name-list', doc({}, name=['a']), 'name')
case('env-name-missing', {k: v for k, v in doc({}).items()
                          if k not in ('name', 'inputs')}, 'name')
case('env-resource-name-null', dict(doc({}), name='', inputs=[
    {'name': 'deploy_resource_name', 'value': None}]),
    'inputs[0].value')
case('env-id-missing', {k: v for k, v in doc({}).items() if k != 'id'}, 'id')
case('env-inputs-object', dict(doc({}), inputs={'a': 1}), 'inputs')
case('env-input-null-name', dict(doc({}), inputs=list(INPUTS) + [
    {'name': None, 'value': 'Null-Named-Sentinel-5e1b'}]), 'inputs[')
case('env-input-string', dict(doc({}), inputs=['deploy_password']),
     'inputs[0]')
case('env-outputs-object', dict(doc({}), outputs={'a': 1}), 'outputs')
case('env-output-nameless', dict(doc({}), outputs=[{'type': 'String'}]),
     'outputs[0]')
case('env-options-list', dict(doc({}), options=[1]), 'options')
case('env-action-bogus', dict(doc({}), inputs=list(INPUTS) + [
    {'name': 'deploy_action', 'value': 'EXPLODE'}]), 'inputs.deploy_action')
case('env-duplicate-name', J(doc({})).replace(
    '"name": "tdh-rel-corpus"', '"name": "a", "name": "tdh-rel-corpus"', 1),
    'name')
case('env-duplicate-input-key', J(doc({})).replace(
    '{"name": "deploy_action"', '{"name": "x", "name": "deploy_action"', 1),
    'inputs[')
case('env-nan', J(doc(svc())).replace('"net": "host"',
                                      '"cpu_shares": NaN', 1),
     'svc.cpu_shares')
case('env-int-5000-digits', J(doc(svc())).replace(
    '"net": "host"', '"cpu_shares": ' + '9' * 5000, 1), '')
case('env-huge-string-name', doc({}, name='x' * 20000), 'name')

# -- docker_config, YAML strings -------------------------------------------
case('yaml-alias-bomb-note', doc(
    f'svc:\n  image: {IMAGE}\n  net: host\n  _note:\n' + bomb()),
    'svc._note')
case('yaml-alias-bomb-exit-codes', doc(
    f'_lol:\n{bomb(indent="  ")}\nsvc:\n  image: {IMAGE}\n  net: host\n'
    f'  detach: false\n  exit_codes: *a8\n'), '_lol.a1[0]')
case('yaml-alias-bomb-environment', doc(
    f'_lol:\n{bomb(indent="  ")}\nsvc:\n  image: {IMAGE}\n'
    f'  environment: *a8\n'), '_lol.a1[0]')
case('yaml-alias-recursive', doc(
    f'svc:\n  image: {IMAGE}\n  _loop: &l [*l]\n'), 'svc._loop')
# Aliases of a scalar: 30000 of one 64 KiB string expand to 1.9 GB.
case('yaml-alias-bomb-scalar', doc(
    f'_a: &a "{"x" * (64 << 10)}"\nsvc:\n  image: {IMAGE}\n'
    f'  net: host\n  command: [' + ', '.join(['*a'] * 30000) + ']\n'),
    'svc.command[')
case('yaml-alias-merge-key', doc(
    f'_base: &b {{image: {IMAGE}, net: host}}\nsvc:\n  <<: *b\n'), 'svc')
case('yaml-nested-10000', doc('svc: ' + '[' * 10000 + ']' * 10000),
     'config')
case('yaml-nested-150-map', doc(
    'svc:\n' + ''.join('  ' * (i + 1) + f'k{i}:\n' for i in range(150)) +
    '  ' * 151 + 'x'), 'svc.k0')
case('yaml-duplicate-image', doc(
    f'svc:\n  image: {IMAGE}\n  image: tdh/busybox:other\n'), 'svc.image')
case('yaml-duplicate-container', doc(
    f'step_1:\n  svc: {{image: {IMAGE}}}\n  svc: {{image: {IMAGE}}}\n'),
    'step_1.svc')
case('yaml-duplicate-step', doc(
    f'step_1:\n  a: {{image: {IMAGE}}}\nstep_1:\n  b: {{image: {IMAGE}}}\n'),
    'step_1')
case('yaml-duplicate-env', doc(
    f'svc:\n  image: {IMAGE}\n  environment:\n    A: 1\n    A: 2\n'),
    'svc.environment.A')
case('yaml-duplicate-section', doc(
    'docker_config: {}\ndocker_config: {}\n'), 'docker_config')
case('yaml-duplicate-in-document-2', doc(
    f'svc: {{image: {IMAGE}}}\n---\nother: {{image: {IMAGE}, '
    f'image: {IMAGE}}}\n'), 'documents[1].other.image')
case('yaml-python-tag', doc(
    'svc: !!python/object/apply:os.system ["touch /tmp/tdh-pwned"]\n'),
    'config')
case('yaml-bad-indent', doc(f'svc:\n  image: {IMAGE}\n net: host\n'),
     'config')
case('yaml-tab', doc(f'svc:\n\timage: {IMAGE}\n'), 'config')
case('yaml-unclosed-quote', doc('svc: {image: "abc}\n'), 'config')
case('yaml-set-key', doc(f'svc:\n  image: {IMAGE}\n  ? [a, b]\n  : c\n'),
     'config')
case('yaml-scalar-root', doc('just a string'), 'config')
case('yaml-list-root', doc('- a\n- b\n'), 'config')

# -- docker_config values beyond what Docker or Python can take ------------
case('dc-task-timeout-overflow', doc(task(timeout='100000000000h')),
     'step_1.job.timeout')
case('dc-task-timeout-1e300', doc(task(timeout=1e300)), 'step_1.job.timeout')
case('dc-task-timeout-int-huge', doc(task(timeout=10 ** 40)),
     'step_1.job.timeout')
case('dc-task-timeout-8-days', doc(task(timeout='192h')),
     'step_1.job.timeout')
case('dc-task-timeout-negative', doc(task(timeout=-1)), 'step_1.job.timeout')
case('dc-exec-timeout-huge', doc({'step_1': {'svc': {
    'image': IMAGE, 'net': 'host', 'command': ['sleep', '1']}},
    'step_2': {'run': {'action': 'exec', 'command': ['svc', 'true'],
                       'timeout': '1e30s'}}}), 'step_2.run.timeout')
case('dc-stop-grace-2h', doc(svc(stop_grace_period='2h')),
     'svc.stop_grace_period')
case('dc-stop-grace-1e20', doc(svc(stop_grace_period=1e20)),
     'svc.stop_grace_period')
case('dc-cpu-shares-1e30', doc(svc(cpu_shares=10 ** 30)), 'svc.cpu_shares')
case('dc-cpu-shares-kernel-max', doc(svc(cpu_shares=262145)),
     'svc.cpu_shares')
case('dc-cpu-shares-string-huge', doc(svc(cpu_shares='9' * 40)),
     'svc.cpu_shares')
case('dc-cpu-quota-huge', doc(svc(cpu_quota=2 ** 63)), 'svc.cpu_quota')
case('dc-cpu-period-zero', doc(svc(cpu_period=0)), 'svc.cpu_period')
case('dc-cpu-period-2s', doc(svc(cpu_period=2000000)), 'svc.cpu_period')
case('dc-mem-limit-99999999p', doc(svc(mem_limit='99999999p')),
     'svc.mem_limit')
case('dc-memory-2-64', doc(svc(memory=2 ** 64)), 'svc.memory')
case('dc-memswap-huge', doc(svc(memswap_limit='10000000000000t')),
     'svc.memswap_limit')
case('dc-mem-reservation-negative', doc(svc(mem_reservation=-5)),
     'svc.mem_reservation')
case('dc-shm-size-long-string', doc(svc(shm_size='1' * 200 + 'g')),
     'svc.shm_size')
case('dc-mem-swappiness-5000-digits', doc(svc(mem_swappiness='9' * 5000)),
     'svc.mem_swappiness')
case('dc-ulimit-int64', doc(svc(ulimit=['nofile=99999999999999999999'])),
     'svc.ulimit[0]')
case('dc-ulimit-negative', doc(svc(ulimit=['nofile=-7'])), 'svc.ulimit[0]')
case('dc-ulimit-soft-over-hard', doc(svc(ulimit=['nofile=10:5'])),
     'svc.ulimit[0]')
case('dc-ulimit-unknown', doc(svc(ulimit='bogus=1')), 'svc.ulimit')
case('dc-restart-count-huge', doc(svc(restart='on-failure:99999999999')),
     'svc.restart')
case('dc-restart-count-int64', doc(svc(restart='on-failure:' + '9' * 30)),
     'svc.restart')
case('dc-healthcheck-retries-1e20', doc(svc(healthcheck={
    'test': 'true', 'retries': 10 ** 20})), 'svc.healthcheck.retries')
case('dc-healthcheck-interval-1e20s', doc(svc(healthcheck={
    'test': 'true', 'interval': '1e20s'})), 'svc.healthcheck.interval')
case('dc-healthcheck-interval-float', doc(svc(healthcheck={
    'test': 'true', 'interval': 1e20})), 'svc.healthcheck.interval')
case('dc-healthcheck-timeout-2-days', doc(svc(healthcheck={
    'test': 'true', 'timeout': '48h'})), 'svc.healthcheck.timeout')
case('dc-healthcheck-start-period-tiny', doc(svc(healthcheck={
    'test': 'true', 'start_period': '1ns'})), 'svc.healthcheck.start_period')
case('dc-start-order-1e30', doc(svc(start_order=10 ** 30)),
     'svc.start_order')
case('dc-exit-codes-256', doc(task(exit_codes=[0, 256])),
     'step_1.job.exit_codes')
case('dc-exit-codes-string', doc(task(exit_codes='zero')),
     'step_1.job.exit_codes')
# A credential reused in a bad field: the quoted value is cut at 200
# characters, and masking the cut text missed the secret and showed its
# head (the padding puts the cut just after the signal URL's signature,
# or inside the JSON-escaped password).
case('dc-secret-straddles-quote-cut', doc(task(
    exit_codes=['h' * 120, SIGNAL_URL])), 'step_1.job.exit_codes')
case('dc-secret-in-long-value', doc(svc(
    net='n' * 120 + SIGNAL_URL)), 'svc.net')
case('dc-secret-escaped-straddles-cut', doc(task(
    exit_codes=['i' * 175, PASSWORD])), 'step_1.job.exit_codes')
# NUL passed validation in argv, environment and bind sources, then failed
# at create or start, after earlier containers had changed.
case('dc-env-value-nul', doc(svc(environment={'A': 'x\x00y'})),
     'svc.environment.A')
case('dc-env-key-nul', doc(svc(environment={'A\x00B': 'x'})),
     'svc.environment.A\\u0000B')
case('dc-command-nul', doc(svc(command=['sh', '-c', 'a\x00b'])),
     'svc.command[2]')
case('dc-volume-nul', doc(svc(volumes=['/tmp/a\x00b:/x'])), 'svc.volumes[0]')
case('pod-env-nul', doc(pod(container={'env': [
    {'name': 'A', 'value': 'x\x00y'}]})), 'spec.containers[0].env[0].value')
case('pod-args-nul', doc(pod(container={'args': ['a\x00b']})),
     'spec.containers[0].args[0]')
# Regular expressions that backtracked: an image of 60 letters and a "!"
# (exponential), a 200 KB "--passpass...!" command word (quadratic: minutes).
case('dc-image-redos', doc(svc(image='a' * 60 + '!')), 'svc.image')
case('dc-command-option-redos', doc(svc(
    net='bridge', command=['--' + 'pass' * 50000 + '!', 'x'])), 'svc.net')
# FileOrCreate below a missing directory passed the check and failed when
# the container was reached, after earlier steps had changed the host.
case('pod-file-or-create-no-parent', doc(pod(
    spec={'volumes': [{'name': 'f', 'hostPath': {
        'path': '/nonexistent-tdh-corpus/f', 'type': 'FileOrCreate'}}]},
    container={'volumeMounts': [{'name': 'f', 'mountPath': '/f'}]})),
    'p.spec.volumes[f].hostPath.path')
# An argument the kernel cannot exec (over 128 KiB): created, then failed
# to start after earlier containers changed.
case('dc-command-arg-over-128k', doc(svc(command=['sh', '-c', 'x' * 140000])),
     'step_1.svc.command[2]')
case('dc-duration-long-string', doc(svc(stop_grace_period='1s' * 500)),
     'svc.stop_grace_period')

# -- docker_config: env_file -----------------------------------------------
case('dc-env-file-fifo', doc(svc(env_file='@FIFO@')), 'svc.env_file')
case('dc-env-file-dev-zero', doc(svc(env_file='/dev/zero')), 'svc.env_file')
case('dc-env-file-dev-urandom', doc(svc(env_file=['/dev/urandom'])),
     'svc.env_file[0]')
case('dc-env-file-big', doc(svc(env_file='@BIG@')), 'svc.env_file')
case('dc-env-file-binary', doc(svc(env_file='@BINARY@')), 'svc.env_file')
case('dc-env-file-directory', doc(svc(env_file='@DIR@')), 'svc.env_file')
case('dc-env-file-relative', doc(svc(env_file='env/svc.env')),
     'svc.env_file')
case('dc-env-file-missing', doc(svc(env_file='/nonexistent/tdh.env')),
     'svc.env_file')
case('dc-env-file-nul', doc(svc(env_file='/etc/\u0000passwd')),
     'svc.env_file')

# -- docker_config: plain mistakes -----------------------------------------
case('dc-image-missing', doc({'svc': {'net': 'host'}}), 'svc.image')
case('dc-image-invalid', doc(svc(image='Not An Image')), 'svc.image')
case('dc-net-bridge', doc(svc(net='bridge')), 'svc.net')
case('dc-unknown-key', doc(svc(imag='x')), 'svc.imag')
case('dc-user-bad', doc(svc(user='root; rm -rf /')), 'svc.user')
case('dc-volume-relative', doc(svc(volumes=['data:/data:rw:extra'])),
     'svc.volumes[0]')
case('dc-command-number', doc(svc(command=5)), 'svc.command')
case('dc-mixed-steps', doc({'step_1': {'a': {'image': IMAGE}},
                            'b': {'image': IMAGE}}), '')
case('dc-step-9', doc({'step_9': {'a': {'image': IMAGE}}}), 'step_9')
case('dc-step-5000-digits', doc({'step_' + '9' * 5000: {
    'a': {'image': IMAGE}}}), 'step_999')
case('dc-step-unicode-digit', doc({'step_\u0663': {'a': {'image': IMAGE}}}),
     'step_')
case('dc-exec-no-command', doc({'step_1': {'run': {'action': 'exec'}}}),
     'step_1.run.command')
case('dc-name-bad', doc({'bad name!': {'image': IMAGE}}), 'bad name!')
# A field naming another container, with a name Docker refuses: refused at
# validation (it failed only at apply, after step 1's container started).
case('dc-pid-container-bad-name', doc({
    'step_1': svc(), 'step_2': {'bb': {'image': IMAGE, 'net': 'host',
                                       'pid': 'container:bad name!'}}}),
    'step_2.bb.pid')
case('dc-ipc-container-leading-dash', doc(svc(ipc='container:-x')),
     'svc.ipc')
case('dc-volumes-from-slash', doc(svc(volumes_from=['ok-one', '/abc:ro'])),
     'svc.volumes_from[1]')
case('dc-exec-target-bad-name', doc({
    'step_1': svc(), 'step_2': {'run': {'action': 'exec',
                                        'command': ['svc/x', 'true']}}}),
    'step_2.run.command[0]')
case('pod-exec-target-bad-name', doc(pod(container={
    'image': None, 'command': ['true']}, meta={
    'annotations': {'tripleo.org/kind': 'exec',
                    'tripleo.org/exec-target': '.svc'}})),
    'metadata.annotations[tripleo.org/exec-target]')
case('pod-docker-options-pid-bad-name', doc(pod(meta={'annotations': {
    'tripleo.org/docker-options': '{"pid": "container:a b"}'}})),
    'metadata.annotations[tripleo.org/docker-options].pid')
case('dc-task-restart', doc(task(restart='always')), 'step_1.job.restart')
case('dc-env-list-not-strings', doc(svc(environment=[1, 2])),
     'svc.environment[0]')
case('dc-privileged-string', doc(svc(privileged='yes')), 'svc.privileged')

# -- Pods ------------------------------------------------------------------
case('pod-active-deadline-1e20', doc(pod({'activeDeadlineSeconds': 10 ** 20})),
     'spec.activeDeadlineSeconds')
case('pod-grace-1e20', doc(pod({'terminationGracePeriodSeconds': 10 ** 20})),
     'spec.terminationGracePeriodSeconds')
case('pod-grace-3601', doc(pod({'terminationGracePeriodSeconds': 3601})),
     'spec.terminationGracePeriodSeconds')
case('pod-probe-period-huge', doc(pod(container={'livenessProbe': {
    'exec': {'command': ['true']}, 'periodSeconds': 10 ** 12}})),
    'spec.containers[0].livenessProbe.periodSeconds')
case('pod-probe-failure-threshold', doc(pod(container={'livenessProbe': {
    'exec': {'command': ['true']}, 'failureThreshold': 2 ** 40}})),
    'spec.containers[0].livenessProbe.failureThreshold')
case('pod-cpu-limit-1e15', doc(pod(container={'resources': {
    'limits': {'cpu': '1e15'}}})), 'spec.containers[0].resources.limits[cpu]')
case('pod-memory-limit-huge', doc(pod(container={'resources': {
    'limits': {'memory': '99999999Ei'}}})),
    'spec.containers[0].resources.limits[memory]')
case('pod-docker-options-duplicate', doc(pod(meta={'annotations': {
    'tripleo.org/docker-options': '{"ipc": "host", "ipc": "private"}'}})),
    'metadata.annotations[tripleo.org/docker-options].ipc')
case('pod-docker-options-not-json', doc(pod(meta={'annotations': {
    'tripleo.org/docker-options': '{ipc: host'}})),
    'metadata.annotations[tripleo.org/docker-options]')
case('pod-docker-options-timeout', doc(pod(meta={'annotations': {
    'tripleo.org/docker-options': '{"timeout": "1e30h"}'}})),
    'metadata.annotations[tripleo.org/docker-options].timeout')
case('pod-docker-options-deep', doc(pod(meta={'annotations': {
    'tripleo.org/docker-options': '[' * 50000 + ']' * 50000}})),
    'metadata.annotations[tripleo.org/docker-options]')
case('pod-yaml-duplicate-image', doc(
    'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n'
    f'  - name: c\n    image: {IMAGE}\n    image: tdh/busybox:other\n'),
    'spec.containers[0].image')
case('pod-api-version', doc(dict(pod(), apiVersion='v2')), 'apiVersion')
case('pod-no-containers', doc({'apiVersion': 'v1', 'kind': 'Pod',
                               'metadata': {'name': 'p'}, 'spec': {}}),
     'spec.containers')
case('pod-container-name', doc(pod(container={'name': 'Bad_Name'})),
     'spec.containers[0].name')
case('pod-host-port', doc(pod(container={'ports': [
    {'containerPort': 80, 'hostPort': 70000}]})),
    'spec.containers[0].ports[0].hostPort')
case('pod-secret-missing', doc(pod(container={'env': [
    {'name': 'PW', 'valueFrom': {'secretKeyRef': {'name': 'nope',
                                                  'key': 'pw'}}}]})),
    'spec.containers[0].env[0].valueFrom.secretKeyRef')
case('pod-secret-number', doc(
    J({'apiVersion': 'v1', 'kind': 'Secret', 'metadata': {'name': 's'},
       'stringData': {'password': 987654321012}}) + '\n---\n' +
    J(pod(container={'workingDir': '987654321012'}))),
    'documents[1].spec.containers[0].workingDir')
case('pod-list-bad-item', doc({'apiVersion': 'v1', 'kind': 'List',
                               'items': [{'kind': 'Deployment'}]}),
     'items[0].kind')
case('pod-host-path-relative', doc(pod({'volumes': [
    {'name': 'v', 'hostPath': {'path': 'rel/dir'}}]})),
    'spec.volumes[0].hostPath.path')
case('pod-start-order-huge', doc(pod(meta={'annotations': {
    'tripleo.org/start-order': '9' * 30}})),
    'metadata.annotations[tripleo.org/start-order]')
case('pod-start-order-5000-digits', doc(pod(meta={'annotations': {
    'tripleo.org/start-order': '9' * 5000}})),
    'metadata.annotations[tripleo.org/start-order]')
case('pod-env-name-bad', doc(pod(container={'env': [
    {'name': '1BAD', 'value': 'x'}]})), 'spec.containers[0].env[0].name')

# -- puppet_config ---------------------------------------------------------
PUPPET = 'tdh/puppet:latest'
case('puppet-volume-path', doc({'puppet_config': [{
    'config_volume': '../etc', 'config_image': PUPPET,
    'step_config': 'include tdh'}]}), 'puppet_config[0].config_volume')
case('puppet-volume-reserved', doc({'puppet_config': [{
    'config_volume': 'puppet-generated', 'config_image': PUPPET,
    'step_config': 'include tdh'}]}), 'puppet_config[0].config_volume')
case('puppet-image-missing', doc({'puppet_config': [{
    'config_volume': 'v', 'step_config': 'include tdh'}]}),
    'puppet_config[0].config_image')
case('puppet-step-config-number', doc({'puppet_config': [{
    'config_volume': 'v', 'config_image': PUPPET, 'step_config': 5}]}),
    'puppet_config[0].step_config')
case('puppet-tags-number', doc({'puppet_config': [{
    'config_volume': 'v', 'config_image': PUPPET, 'step_config': 'x',
    'puppet_tags': 5}]}), 'puppet_config[0].puppet_tags')
case('puppet-unknown-key', doc({'puppet_config': [{
    'config_volume': 'v', 'config_image': PUPPET, 'step_config': 'x',
    'bogus': 1}]}), 'puppet_config[0].bogus')
case('puppet-volume-relative', doc({'puppet_config': [{
    'config_volume': 'v', 'config_image': PUPPET, 'step_config': 'x',
    'volumes': ['rel:/x']}]}), 'puppet_config[0].volumes[0]')
case('puppet-not-a-list', doc({'puppet_config': 'include tdh'}),
     'puppet_config')
case('puppet-yaml-duplicate', doc(
    'puppet_config:\n- config_volume: v\n  config_volume: w\n'
    f'  config_image: {PUPPET}\n  step_config: x\n'),
    'puppet_config[0].config_volume')
case('puppet-yaml-alias-bomb-hiera', doc(
    f'_lol:\n{bomb(indent="  ")}\npuppet_config:\n- config_volume: v\n'
    f'  config_image: {PUPPET}\n  step_config: *a8\n'), '_lol.a1[0]')

# -- kolla_config ----------------------------------------------------------
case('kolla-path-relative', doc(kolla({'command': 'x'}, 'rel/path.json')),
     'kolla_config[rel/path.json]')
case('kolla-command-number', doc(kolla({'command': 5})),
     'kolla_config[/var/lib/kolla/config_files/svc.json].command')
case('kolla-source-relative', doc(kolla({'command': 'x', 'config_files': [
    {'source': 'rel', 'dest': '/', 'owner': 'root', 'perm': '0600'}]})),
    'kolla_config[/var/lib/kolla/config_files/svc.json].config_files[0]'
    '.source')
case('kolla-dest-dotdot', doc(kolla({'command': 'x', 'config_files': [
    {'source': '/a', 'dest': '../x', 'owner': 'root', 'perm': '0600'}]})),
    'kolla_config[/var/lib/kolla/config_files/svc.json].config_files[0]'
    '.dest')
case('kolla-perm-three-digits', doc(kolla({'command': 'x', 'permissions': [
    {'path': '/x', 'owner': 'root', 'perm': '600'}]})),
    'kolla_config[/var/lib/kolla/config_files/svc.json].permissions[0].perm')
case('kolla-owner-bad', doc(kolla({'command': 'x', 'permissions': [
    {'path': '/x', 'owner': 'a:b:c', 'perm': '0600'}]})),
    'kolla_config[/var/lib/kolla/config_files/svc.json].permissions[0]'
    '.owner')
case('kolla-unknown-key', doc(kolla({'command': 'x', 'bogus': 1})),
     'kolla_config[/var/lib/kolla/config_files/svc.json].bogus')
case('kolla-yaml-duplicate', doc(
    'kolla_config:\n  /var/lib/kolla/config_files/svc.json:\n'
    '    command: a\n    command: b\n'),
    'kolla_config./var/lib/kolla/config_files/svc.json.command')


def main():
    out = os.path.join(HERE, 'corpus')
    os.makedirs(out, exist_ok=True)
    for name in os.listdir(out):
        os.unlink(os.path.join(out, name))
    expected = {}
    for slug, (stdin, path, status) in sorted(CASES.items()):
        with open(os.path.join(out, f'{slug}.in'), 'wb') as f:
            f.write(stdin)
        expected[slug] = {'status': status, 'path': path}
    with open(os.path.join(out, 'expected.json'), 'w') as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write('\n')
    print(f'{len(expected)} cases in {out}')


if __name__ == '__main__':
    main()
