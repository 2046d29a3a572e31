"""Sentinel secrets, after successes and failures, everywhere they could
leak.

Sentinels (:mod:`tests.reliability.sentinels`) sit in every credential
input, a container environment, an env file, a Kubernetes Secret (a string
and a number), hieradata and a task's output.  After each run:

* the answer (stdout, declared outputs included), the process's stderr,
  the log file, every container label and every world-readable file under
  ``state_dir``, ``config_data_dir`` and ``kolla_config_dir`` hold none of
  them, in any encoding;
* ``state_dir`` never holds a credential input; whatever holds a
  definition's own secrets there is private (0600 files in 0700 dirs);
* ``config_data_dir`` holds the hieradata secret only in the file the
  manifest renders it into, and that file is not world-readable.
"""

import json
import os
import stat

import pytest

from tests import helpers
from tests.reliability import sentinels as S

CREDENTIALS = (S.PASSWORD, 'Snt-Sig-4b2e9d', S.TOKEN, S.JSON_SECRET)

MANIFEST = """file { '/etc/tdh': ensure => directory }
file { '/etc/tdh/secret.conf': content => lookup('tdh::secret'),
       mode => '0640' }
file { '/etc/tdh/public.conf': content => "public\\n", mode => '0644' }
"""


@pytest.fixture
def env(hook_env, tmp_path):
    log = tmp_path / 'hook.log'
    helpers.write_puppet_conf(tmp_path, hook_env,
                              f'tdh::secret: "{S.HIERA}"\n', log_file=log,
                              debug=True, start_settle=0)
    env_file = tmp_path / 'svc.env'
    env_file.write_text(f'API_TOKEN={S.ENV_FILE}\nPLAIN=1\n')
    return hook_env, log, env_file


def _docker_config(dep, env_file, fail=False):
    echo = ('echo "pw=$TASK_SECRET file=$API_TOKEN db=$DB_PASSWORD"; '
            'echo "$TASK_SECRET" | od -c | head -1' +
            ('; exit 3' if fail else ''))
    return {
        'puppet_config': [{
            'config_volume': f'{dep}-cfg', 'config_image': helpers.PUPPET,
            'puppet_tags': '', 'step_config': MANIFEST}],
        'docker_config': {
            'step_1': {f'{dep}-svc': {
                'image': helpers.BUSYBOX, 'net': 'host', 'restart': 'always',
                'command': helpers.SLEEP_FOREVER, 'env_file': str(env_file),
                'environment': {'DB_PASSWORD': S.ENV, 'LEVEL': 'info'},
                'volumes': [f'/var/lib/config-data/puppet-generated/'
                            f'{dep}-cfg:/config:ro']}},
            'step_2': {f'{dep}-task': {
                'image': helpers.BUSYBOX, 'net': 'host', 'detach': False,
                'env_file': str(env_file),
                'environment': {'TASK_SECRET': S.TASK_OUTPUT,
                                'DB_PASSWORD': S.ENV},
                'command': ['sh', '-c', echo]}}}}


def _pod_config(dep, fail=False):
    secret = {'apiVersion': 'v1', 'kind': 'Secret',
              'metadata': {'name': f'{dep}-s'},
              'stringData': {'password': S.SECRET,
                             'number': str(S.SECRET_NUMBER)}}
    pod = {'apiVersion': 'v1', 'kind': 'Pod',
           'metadata': {'name': f'{dep}-pod',
                        'annotations': {'tripleo.org/kind': 'task'}},
           'spec': {'restartPolicy': 'Never', 'containers': [{
               'name': 'job', 'image': helpers.BUSYBOX,
               'imagePullPolicy': 'IfNotPresent',
               'command': ['sh', '-c', 'echo "s=$PW n=$NUM"' +
                           ('; exit 4' if fail else '')],
               'env': [{'name': 'PW', 'valueFrom': {'secretKeyRef': {
                   'name': f'{dep}-s', 'key': 'password'}}},
                       {'name': 'NUM', 'valueFrom': {'secretKeyRef': {
                           'name': f'{dep}-s', 'key': 'number'}}}]}]}}
    return json.dumps(secret) + '\n---\n' + json.dumps(pod)


def _doc(dep, config, task):
    doc = helpers.make_doc(dep, config, inputs=[dict(i) for i in S.INPUTS])
    doc['outputs'] = [{'name': task}, {'name': 'failed',
                                       'error_output': True}]
    return doc


def _files(*dirs):
    for d in dirs:
        for root, subdirs, names in os.walk(d):
            for name in names + subdirs:
                yield os.path.join(root, name)


def _world_readable(path):
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return False
    return stat.S_ISREG(mode) and bool(mode & stat.S_IROTH)


def _read(path):
    try:
        with open(path, 'rb') as f:
            return f.read().decode('utf-8', 'replace')
    except (IsADirectoryError, FileNotFoundError):
        return ''


def _scan_all(docker_api, dep, env, log, answer_text, stderr):
    found = {}
    found['stdout'] = S.scan(answer_text)
    found['stderr'] = S.scan(stderr)
    found['log'] = S.scan(_read(log))
    labels = [c['Labels'] for c in docker_api.containers(
        all=True, filters={'label': f'deployment={dep}'})]
    assert labels, 'no containers to check'
    found['labels'] = S.scan(json.dumps(labels))
    dirs = [env['TDH_STATE_DIR'], env['TDH_CONFIG_DATA_DIR'],
            env['TDH_KOLLA_CONFIG_DIR']]
    for path in _files(*dirs):
        if _world_readable(path):
            found[path] = S.scan(_read(path))
    # state_dir: never a credential input; definitions are private.
    for path in _files(env['TDH_STATE_DIR']):
        text = _read(path)
        hits = [s for s in CREDENTIALS if s in text or
                json.dumps(s)[1:-1] in text]
        if hits:
            found[f'credential in {path}'] = hits
        mode = os.lstat(path).st_mode
        if stat.S_ISDIR(mode) and mode & 0o077:
            found[f'open dir {path}'] = [oct(mode)]
        elif stat.S_ISREG(mode) and S.scan(text) and mode & 0o077:
            found[f'open file {path}'] = [oct(mode)]
    # config-data: the hiera secret only where the manifest put it
    for path in _files(env['TDH_CONFIG_DATA_DIR']):
        if S.HIERA in _read(path) and not path.endswith('secret.conf'):
            found[f'hiera in {path}'] = [S.HIERA]
    return {k: v for k, v in found.items() if v}


@pytest.fixture
def deps(docker_api):
    names = [helpers.unique('tdh-snt'), helpers.unique('tdh-snt')]
    yield names
    for name in names:
        for c in docker_api.containers(
                all=True, filters={'label': f'deployment={name}'}):
            docker_api.remove_container(c['Id'], force=True)


def test_no_sentinel_leaks(docker_api, deps, env, figures):
    hook_env, log, env_file = env
    dep, pod_dep = deps
    runs = [
        ('docker_config success', _doc(dep, _docker_config(dep, env_file),
                                       f'{dep}-task'), 0),
        ('docker_config task fails',
         _doc(dep, _docker_config(dep, env_file, fail=True), f'{dep}-task'),
         1),
        ('docker_config invalid', _doc(dep, dict(
            _docker_config(dep, env_file), docker_config={'step_1': {
                f'{dep}-svc': {'image': helpers.BUSYBOX,
                               'working_dir': S.ENV,
                               'environment': {'DB_PASSWORD': S.ENV}}}}),
            f'{dep}-task'), 2),
        ('pod success', _doc(pod_dep, _pod_config(pod_dep),
                             f'{pod_dep}-pod-job'), 0),
        ('pod task fails', _doc(pod_dep, _pod_config(pod_dep, fail=True),
                                f'{pod_dep}-pod-job'), 1),
    ]
    outputs_seen = 0
    for what, doc, status in runs:
        answer, rc, stderr = helpers.run_hook(doc, hook_env, timeout=300)
        assert rc == status, (what, answer)
        text = json.dumps(answer)
        task = doc['outputs'][0]['name']
        if status != 2 and task in answer:
            # the task's output is there, masked
            assert '***' in answer[task], (what, answer[task])
            outputs_seen += 1
        if status:
            assert answer['failed'], (what, answer)
        leaks = _scan_all(docker_api, doc['name'], hook_env, log, text,
                          stderr)
        assert leaks == {}, (what, leaks)
    # the task output was checked as a declared output at least once per
    # format
    assert outputs_seen >= 2
    figures['sentinels'] = {
        'runs': len(runs), 'sentinels': len(S.ALL),
        'places': ['stdout', 'declared outputs', 'stderr', 'log file',
                   'labels', 'state_dir', 'config_data_dir',
                   'kolla_config_dir', 'world-readable files'],
        'statuses': sorted({r[2] for r in runs})}
