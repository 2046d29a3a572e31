"""The heat-config item: fields, derived inputs, credentials."""

import json
import os

import pytest

from tripleo_docker_hook import document
from tripleo_docker_hook import errors

EXAMPLES = os.path.join(os.path.dirname(__file__), '..', '..', '..',
                        'shared', 'reference', 'examples')


def _example(name):
    path = os.path.join(EXAMPLES, name)
    if not os.path.exists(path):
        pytest.skip(f'{name}: shared/reference is not beside the checkout')
    with open(path) as f:
        return json.load(f)


def test_docker_cmd_example_with_heat_signal_credentials():
    doc = document.parse(
        _example('heat-docker-cmd-keystone-step3-update.json'))
    assert doc.action == 'UPDATE'
    assert doc.name
    assert doc.inputs['deploy_password'] in doc.secrets
    assert doc.resource_name and doc.stack_id and doc.server_id


def test_tempurl_signal_id_is_a_secret():
    doc = document.parse(_example('heat-hook-io-docker-cmd-tempurl.json')
                         ['stdin_example'])
    assert doc.inputs['deploy_signal_id'] in doc.secrets


def test_options_null_and_outputs():
    doc = document.parse({'id': 'i', 'name': 'n', 'group': 'g',
                          'options': None, 'inputs': [],
                          'outputs': [{'name': 'result'},
                                      {'name': 'err', 'error_output': True}],
                          'config': '{}'})
    assert doc.options == {}
    assert doc.action == 'CREATE'
    assert doc.outputs == (document.Output('result'),
                           document.Output('err', True))


def test_name_falls_back_to_resource_name():
    doc = document.parse({'id': 'i', 'inputs': [
        {'name': 'deploy_resource_name', 'value': 'Step1'}]})
    assert doc.name == 'Step1'


def test_every_bad_field_is_named_at_once():
    with pytest.raises(errors.ValidationError) as exc:
        document.parse({'inputs': [{'value': 1}, {'name': 'deploy_action',
                                                  'value': 'REBOOT'}],
                        'outputs': 'x', 'options': [1]})
    text = exc.value.message
    for expected in ('id: Required value', 'name: Required value',
                     'inputs[0]: Invalid value',
                     'inputs.deploy_action: Unsupported value: "REBOOT"',
                     'outputs: Invalid value', 'options: Invalid value'):
        assert expected in text


def test_nested_json_input_secrets():
    doc = document.parse({'id': 'i', 'name': 'n', 'inputs': [
        {'name': 'service_passwords', 'type': 'Json',
         'value': {'nova': 'p1', 'glance': ['p2']}},
        {'name': 'enable_debug', 'value': True}]})
    assert {'p1', 'p2'} <= doc.secrets
    assert 'True' not in doc.secrets


def test_not_json():
    with pytest.raises(errors.ValidationError, match='not a JSON document'):
        document.loads('{')
