"""The hook's stdin/stdout contract, without an engine."""

import json

from tests import helpers


def test_not_json_gives_one_json_answer():
    answer, rc, _ = helpers.run_hook('this is not json')
    assert rc == 2
    assert 'not a JSON document' in answer['deploy_stderr']


def test_missing_fields_are_named():
    answer, rc, _ = helpers.run_hook({'config': {}})
    assert rc == 2
    assert 'id: Required value' in answer['deploy_stderr']
    assert 'name: Required value' in answer['deploy_stderr']


def test_secrets_masked_in_validation_errors():
    config = {'step_1': {'x': {'image': 'busybox',
                               'environment': ['X=SENTINEL-value-1'],
                               'privileged': 'SENTINEL-value-1'}}}
    doc = helpers.make_doc('d', config, inputs=[
        {'name': 'deploy_password', 'value': 'SENTINEL-pw'}])
    answer, rc, stderr = helpers.run_hook(json.dumps(doc))
    assert rc == 2
    assert 'step_1.x.privileged' in answer['deploy_stderr']
    assert 'SENTINEL' not in json.dumps(answer) + stderr
