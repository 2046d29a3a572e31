"""The docker options table (``docker_config.DOCKER_OPTIONS``) is the one
declaration the docker_config parser, the Pod annotation, ``docker_spec``
and the export agree on."""

import json

import pytest

from tripleo_docker_hook import definitions
from tripleo_docker_hook import docker_spec
from tripleo_docker_hook import export
from tripleo_docker_hook.definitions import docker_config
from tripleo_docker_hook.definitions import pod as pod_mod

#: A valid docker_config value of every key of the table.
SAMPLES = {
    'pid': 'container:other', 'ipc': 'shareable', 'uts': 'host',
    'restart': 'unless-stopped',
    'hostname': 'h1', 'volumes_from': ['other'], 'remove': True,
    'log_tag': 'svc', 'ulimit': ['nofile=1024:2048'], 'group_add': ['wheel'],
    'extra_hosts': ['db:192.0.2.1'], 'security_opt': ['label=disable'],
    'cpuset_cpus': '0-1', 'mem_swappiness': 10, 'shm_size': '64m',
    'memswap_limit': '2g', 'mem_reservation': '64m', 'exit_codes': [0, 2],
    'timeout': 30, 'stop_signal': 'SIGINT', 'user': 'nova',
    'healthcheck': {'test': '/bin/true'}, 'memory': '1g', 'mem_limit': '1g',
    'cpu_shares': 512, 'cpu_quota': 50000, 'cpu_period': 100000,
}


def test_every_key_has_a_sample_and_the_table_has_no_duplicate():
    keys = [k for o in docker_config.DOCKER_OPTIONS for k in o.keys]
    assert len(keys) == len(set(keys))
    assert set(keys) == set(SAMPLES) == set(docker_config.POD_EXTRA_KEYS)
    assert set(keys) <= set(docker_config.RUN_KEYS)


def _one(option):
    return definitions.parse({'step_1': {'svc': _spec_of(option)}}
                             ).containers[0]


@pytest.mark.parametrize('option', docker_config.DOCKER_OPTIONS,
                         ids=lambda o: o.name)
def test_docker_spec_sets_the_declared_argument(option):
    c = _one(option)
    kwargs, host = docker_spec.create_args(c, 'svc', {})
    if not option.api:
        assert option.name in ('remove', 'exit_codes', 'timeout')
        return   # the hook's own, never sent to Docker
    where, arg = option.api.split('.')
    assert arg in (host if where == 'host_config' else kwargs), option.api


@pytest.mark.parametrize('option', [o for o in docker_config.DOCKER_OPTIONS
                                    if o.export is not None],
                         ids=lambda o: o.name)
def test_export_writes_what_the_annotation_reads_back(option):
    c = _one(option)
    pods = export.to_pods(definitions.parse(
        {'step_1': {'svc': _spec_of(option)}}))
    ann = json.loads(pods[0]['metadata']['annotations'][
        pod_mod.ANN_DOCKER_OPTIONS])
    assert option.export(c), 'the sample must be exported'
    assert set(option.export(c)) <= set(ann)
    again = definitions.parse(export.dumps(definitions.parse(
        {'step_1': {'svc': _spec_of(option)}}))).containers[0]
    assert option.export(again) == option.export(c)


def _spec_of(option):
    spec = {'image': 'tdh/busybox:latest'}
    for key in option.keys[:1] if option.name == 'memory' else option.keys:
        spec[key] = SAMPLES[key]
    if option.name == 'remove':
        spec['detach'] = False
    if option.name == 'memswap_limit':
        spec['memory'] = '1g'
    return spec
