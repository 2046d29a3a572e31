"""Helpers shared by the tests: deployment documents and the hook process."""

import contextlib
import json
import os
import shutil
import subprocess
import sys
import uuid

BUSYBOX = os.environ.get('TDH_BUSYBOX_IMAGE', 'tdh/busybox:latest')
BUSYBOX_OTHER = os.environ.get('TDH_BUSYBOX_OTHER_IMAGE', 'tdh/busybox:other')
FAKE_PUPPET = os.environ.get('TDH_FAKE_PUPPET_IMAGE', 'tdh/fake-puppet:latest')
PUPPET = os.environ.get('TDH_PUPPET_IMAGE', 'tdh/puppet:latest')
#: The engine behind DOCKER_HOST: 'docker', or 'podman' (tox -e
#: functional-podman); the docker_api fixture checks it is right.
ENGINE = os.environ.get('TDH_ENGINE', 'docker')

#: A command that runs until stopped and exits at once on SIGTERM (plain
#: ``sleep`` as PID 1 ignores SIGTERM and costs the full stop timeout).
SLEEP_FOREVER = ['sh', '-c', "trap 'exit 0' TERM; sleep 3600 & wait"]


def unique(prefix: str = 'tdh-test') -> str:
    return f'{prefix}-{uuid.uuid4().hex[:8]}'


@contextlib.contextmanager
def new_dir(path: str, parents=()):
    """A directory that did not exist (FileExistsError if it does), with
    each of ``parents`` that is missing; afterwards ``path`` and all below
    it are removed, and each parent made here if it is empty again:
    nothing that was there before is touched (``/etc/puppet`` on a host
    that has one)."""
    made = []
    try:
        for parent in parents:
            if not os.path.isdir(parent):
                os.mkdir(parent, 0o755)
                made.append(parent)
        os.mkdir(path, 0o755)
        try:
            yield path
        finally:
            shutil.rmtree(path)
    finally:
        for parent in reversed(made):
            try:
                os.rmdir(parent)
            except OSError:
                pass  # something else was put there meanwhile


def hook_command():
    """The installed console script, else the module."""
    script = shutil.which('tripleo-docker-hook',
                          path=os.path.dirname(sys.executable))
    return [script] if script else [sys.executable, '-m',
                                    'tripleo_docker_hook.hook']


def make_doc(name, config, action='CREATE', doc_id=None, inputs=(),
             outputs=(), options=None, group='tripleo-docker-hook'):
    """A heat-config item as 55-heat-config passes it."""
    derived = [
        {'name': 'deploy_server_id', 'value': 'server-' + name},
        {'name': 'deploy_action', 'value': action},
        {'name': 'deploy_stack_id', 'value': f'overcloud/{uuid.uuid4()}'},
        {'name': 'deploy_resource_name', 'value': name},
        {'name': 'deploy_signal_transport', 'value': 'NO_SIGNAL'},
    ]
    return {
        'id': doc_id or str(uuid.uuid4()),
        'name': name,
        'group': group,
        'creation_time': '2026-11-24T00:00:00Z',
        'inputs': list(inputs) + derived,
        'outputs': list(outputs),
        'options': options,
        'config': config,
    }


def write_conf(path, **options):
    """An oslo.config file with ``[DEFAULT]`` options (and ``group__opt``)."""
    groups = {}
    for key, value in options.items():
        group, _, opt = key.rpartition('__')
        groups.setdefault(group or 'DEFAULT', {})[opt] = value
    lines = []
    for group, opts in groups.items():
        lines.append(f'[{group}]')
        lines.extend(f'{k} = {v}' for k, v in opts.items())
    path.write_text('\n'.join(lines) + '\n')
    return path


def run_hook(doc, env=None, timeout=300, args=()):
    """Run the hook as heat-config does; ``(answer, returncode, stderr)``.

    Asserts the contract that holds for every run: stdout is exactly one
    JSON object and the exit status equals ``deploy_status_code``.
    """
    stdin = doc if isinstance(doc, str) else json.dumps(doc)
    proc = subprocess.run(hook_command() + list(args), input=stdin,
                          capture_output=True, text=True, timeout=timeout,
                          env=env)
    answer = json.loads(proc.stdout)
    assert isinstance(answer, dict), proc.stdout
    assert proc.stdout.count('\n') == 1 and proc.stdout.endswith('\n'), \
        proc.stdout
    assert answer['deploy_status_code'] == proc.returncode, answer
    return answer, proc.returncode, proc.stderr


def signalled(doc, server, token):
    """Give ``doc`` TEMP_URL_SIGNAL inputs pointing at a local ``server``."""
    doc['inputs'] += [
        {'name': 'deploy_signal_id', 'value':
         f'http://127.0.0.1:{server.server_port}/v1/AUTH_x/c/{doc["id"]}'
         f'?temp_url_sig={token}&temp_url_expires=2147483647'},
        {'name': 'deploy_signal_verb', 'value': 'PUT'}]
    for item in doc['inputs']:
        if item['name'] == 'deploy_signal_transport':
            item['value'] = 'TEMP_URL_SIGNAL'
    return doc


HIERA_CONFIG = """---
version: 5
defaults:
  datadir: {datadir}
  data_hash: yaml_data
hierarchy:
  - name: common
    path: common.yaml
"""


def write_puppet_conf(tmp_path, hook_env, common_yaml, **options):
    """The hook's config file for hook_env's directories plus hieradata
    (``common_yaml``) and an empty modules dir on the "host"."""
    hiera_dir = tmp_path / 'hieradata'
    hiera_dir.mkdir()
    (hiera_dir / 'common.yaml').write_text(common_yaml)
    hiera = tmp_path / 'hiera.yaml'
    hiera.write_text(HIERA_CONFIG.format(datadir=hiera_dir))
    modules = tmp_path / 'modules'
    modules.mkdir()
    return write_conf(
        tmp_path / 'hook.conf', state_dir=hook_env['TDH_STATE_DIR'],
        config_data_dir=hook_env['TDH_CONFIG_DATA_DIR'],
        kolla_config_dir=hook_env['TDH_KOLLA_CONFIG_DIR'],
        puppet__modules_dir=modules, puppet__hieradata_dir=hiera_dir,
        puppet__hiera_config=hiera, **options)
