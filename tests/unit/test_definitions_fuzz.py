"""Property tests: the parser raises nothing but ValidationError."""

import copy
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tripleo_docker_hook import definitions
from tripleo_docker_hook import errors
from tripleo_docker_hook import model

KEYS = ['image', 'net', 'pid', 'ipc', 'uts', 'privileged', 'restart', 'user',
        'volumes', 'environment', 'env_file', 'command', 'detach',
        'exit_codes', 'start_order', 'healthcheck', 'action', 'ulimit',
        'security_opt', 'cap_add', 'cap_drop', 'memory', 'cpu_shares',
        'stop_grace_period', 'timeout', 'labels', 'test', 'interval',
        'apiVersion', 'kind', 'metadata', 'spec', 'containers', 'name',
        'initContainers', 'volumeMounts', 'hostPath', 'emptyDir', 'path',
        'type', 'env', 'value', 'valueFrom', 'fieldRef', 'fieldPath',
        'resources', 'limits', 'requests', 'cpu', 'securityContext',
        'livenessProbe', 'exec', 'ports', 'containerPort', 'hostPort',
        'annotations', 'tripleo.org/step', 'tripleo.org/docker-options',
        'tripleo.org/kind', 'step_1', 'step_7', 'docker_config', 'items',
        'version', 'v1beta2', 'mountPath', 'subPath', 'args', 'Pod', 'List',
        'ConfigMap', 'Secret', 'data', 'stringData', 'envFrom',
        'configMapRef', 'secretKeyRef', 'configMapKeyRef', 'key', 'prefix']

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-2 ** 70, 2 ** 70),
    st.floats(allow_nan=True), st.text(max_size=12),
    st.sampled_from(KEYS + ['host', 'exec', '/a:/b:ro', '1Gi', '10s', 'v1',
                            'Directory', '$(A)', 'busybox', 'NONE']))
keys = st.one_of(st.sampled_from(KEYS), st.text(max_size=8),
                 st.integers(-3, 3), st.none(), st.booleans())
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(keys, inner, max_size=5)),
    max_leaves=30)


def check(config):
    try:
        result = definitions.parse(config)
    except errors.ValidationError as exc:
        assert exc.errors and all(str(e) for e in exc.errors)
        return
    assert isinstance(result, model.Deployment)


@settings(max_examples=400, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(values)
def test_arbitrary_data(config):
    check(config)
    definitions.environment_values(config)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text(text):
    check(text)
    definitions.environment_values(text)


POD = {'apiVersion': 'v1', 'kind': 'Pod', 'metadata': {'name': 'web'},
       'spec': {'volumes': [{'name': 'v', 'hostPath': {'path': '/a'}}],
                'containers': [{'name': 'app', 'image': 'busybox:1',
                                'volumeMounts': [{'name': 'v',
                                                  'mountPath': '/v'}],
                                'env': [{'name': 'A', 'value': 'x'}],
                                'resources': {'limits': {'cpu': '1'}}}]}}
DOCKER = {'step_1': {'svc': {'image': 'busybox', 'volumes': ['/a:/a'],
                             'environment': ['A=1'], 'healthcheck': {
                                 'test': 'true'}}}}
LIST = {'apiVersion': 'v1', 'kind': 'List', 'items': [
    {'apiVersion': 'v1', 'kind': 'ConfigMap', 'metadata': {'name': 'c'},
     'data': {'K': 'v'}},
    {'apiVersion': 'v1', 'kind': 'Secret', 'metadata': {'name': 's'},
     'data': {'P': 'eA=='}},
    {'apiVersion': 'v1', 'kind': 'Pod', 'metadata': {'name': 'p'},
     'spec': {'containers': [{'name': 'a', 'image': 'x', 'envFrom': [
         {'configMapRef': {'name': 'c'}}], 'env': [{'name': 'P',
                                                    'valueFrom': {
             'secretKeyRef': {'name': 's', 'key': 'P'}}}]}]}}]}


def paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from paths(v, prefix + (i,))


@settings(max_examples=400, deadline=None)
@given(st.sampled_from([POD, DOCKER, LIST]), st.data())
def test_mutated_valid_documents(base, data):
    """Replace one node of a valid document with anything."""
    doc = copy.deepcopy(base)
    where = data.draw(st.sampled_from(list(paths(doc))[1:]))
    node = doc
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = data.draw(values)
    check(doc)
    check(json.dumps(doc, default=str))
