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
    assert option.values(c), 'the sample must set the declared fields'
    kwargs, host = docker_spec.create_args(c, 'svc', {})
    if not option.api:
        assert option.name in ('remove', 'exit_codes', 'timeout')
        for field in option.fields:
            assert field not in host and field not in kwargs
        return   # the hook's own, never sent to Docker
    if option.api in (docker_config.HOST_CONFIG,
                      docker_config.CREATE_CONTAINER):
        # Sent as declared: every set field under its own name, as is.
        sent = host if option.api == docker_config.HOST_CONFIG else kwargs
        for field, value in option.values(c).items():
            assert sent[field] == value, field
        return
    where, arg = option.api.split('.')
    assert arg in (host if where == 'host_config' else kwargs), option.api


@pytest.mark.parametrize('option', docker_config.DOCKER_OPTIONS,
                         ids=lambda o: o.name)
def test_every_option_declares_model_fields_its_parser_sets(option):
    c = _one(option)
    kw = docker_config.extra_options(
        _fields(_spec_of(option)), _errs(), option.keys)
    set_by_parser = set(kw['resources'] if option.resource else kw) - {
        'resources'}
    assert set_by_parser <= set(option.fields)
    source = c.resources if option.resource else c
    for field in option.fields:
        assert hasattr(source, field), field


@pytest.mark.parametrize('option', [o for o in docker_config.DOCKER_OPTIONS
                                    if o.export is docker_config.AS_IS],
                         ids=lambda o: o.name)
def test_as_is_export_uses_the_option_keys(option):
    # Exported as is, the entries must be keys the parser reads back.
    assert set(option.fields) <= set(option.keys)


@pytest.mark.parametrize('option', [o for o in docker_config.DOCKER_OPTIONS
                                    if o.export is not None],
                         ids=lambda o: o.name)
def test_export_writes_what_the_annotation_reads_back(option):
    c = _one(option)
    pods = export.to_pods(definitions.parse(
        {'step_1': {'svc': _spec_of(option)}}))
    ann = json.loads(pods[0]['metadata']['annotations'][
        pod_mod.ANN_DOCKER_OPTIONS])
    assert option.exported(c), 'the sample must be exported'
    assert option.exported(c).items() <= ann.items()
    again = definitions.parse(export.dumps(definitions.parse(
        {'step_1': {'svc': _spec_of(option)}}))).containers[0]
    assert option.exported(again) == option.exported(c)


@pytest.mark.parametrize('option', [o for o in docker_config.DOCKER_OPTIONS
                                    if o.resource and o.export is None],
                         ids=lambda o: o.name)
def test_docker_config_resources_exported_as_written(option):
    # memory, memswap_limit, cpu_*: a docker_config container keeps its
    # cgroup values in the annotation, read back to the same model.
    dep = definitions.parse({'step_1': {'svc': _spec_of(option)}})
    ann = json.loads(export.to_pods(dep)[0]['metadata']['annotations'][
        pod_mod.ANN_DOCKER_OPTIONS])
    assert option.values(dep.containers[0]).items() <= ann.items()
    again = definitions.parse(export.dumps(dep)).containers[0]
    assert again.resources == dep.containers[0].resources


def _fields(spec):
    from tripleo_docker_hook.definitions import common
    return common.Fields(spec, 'svc', _errs(), tuple(spec))


def _errs():
    from tripleo_docker_hook import errors
    return errors.ErrorList()


def _spec_of(option):
    spec = {'image': 'tdh/busybox:latest'}
    for key in option.keys[:1] if option.name == 'memory' else option.keys:
        spec[key] = SAMPLES[key]
    if option.name == 'remove':
        spec['detach'] = False
    if option.name == 'memswap_limit':
        spec['memory'] = '1g'
    return spec
