"""Stacks written for the old docker-cmd and kubelet hooks run unchanged.

The agents image links the hook under both group names; each small stack
(etc/heat/docker-cmd-group.yaml, etc/heat/kubelet-group.yaml) gets its own
node, is created, and deleted (its deployment has a DELETE action).
"""

import os

import pytest

from tests import helpers
from tests.e2e_heat.conftest import TEMPLATES, failure_details


@pytest.mark.parametrize('group, template, container', [
    ('docker-cmd', 'docker-cmd-group.yaml', 'docker_cmd_web'),
    ('kubelet', 'kubelet-group.yaml', 'kubelet-web'),
])
def test_old_group_stack(cloud, docker_api, make_node, stacks, phases,
                         group, template, container):
    assert not docker_api.containers(all=True, filters={
        'name': f'^/{container}$'}), f'a container {container} exists'
    node = make_node(group)
    deployment = helpers.unique(f'tdh-e2e-{group}')
    stack_name = helpers.unique(f'tdh-e2e-{group}')
    with phases(f'{group}: create -> CREATE_COMPLETE'):
        stack_id = cloud.cli_value(
            'stack', 'create', '-t', os.path.join(TEMPLATES, template),
            '--timeout', '10', '--parameter', f'name={deployment}',
            stack_name, '-c', 'id')
        ident = f'{stack_name}/{stack_id}'
        stacks.append(ident)
        cloud.wait_resource(ident, 'server', 'CREATE_COMPLETE', 120)
        node.configure(cloud.node_credentials(ident))
        node.start()
        stack = cloud.wait_stack(ident, 'CREATE', 300)
    assert stack['stack_status'] == 'CREATE_COMPLETE', \
        failure_details(cloud, ident, node)
    [found] = docker_api.containers(filters={
        'label': f'deployment={deployment}'})
    assert found['Names'] == [f'/{container}']
    assert found['State'] == 'running'
    assert found['Labels']['managed_by'] == 'tripleo-docker-hook'
    dep = cloud.cli_json('software', 'deployment', 'show', '--long',
                         cloud.deployment_id(ident, 'deployment'))
    assert dep['status'] == 'COMPLETE', dep
    # The hook under this group name ran (not some other hook).
    log = node.log()
    assert f'/usr/libexec/heat-config/hooks/{group}' in log, log[-3000:]

    with phases(f'{group}: delete -> DELETE_COMPLETE'):
        cloud.cli('stack', 'delete', '--yes', ident)
        stack = cloud.wait_stack(ident, 'DELETE', 300)
    assert stack['stack_status'] == 'DELETE_COMPLETE', \
        failure_details(cloud, ident, node)
    assert docker_api.containers(all=True, filters={
        'label': f'deployment={deployment}'}) == []
