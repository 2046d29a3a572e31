"""puppet_config / kolla_config parsing, merging and validation."""

import json
import os
import types

import pytest

from tripleo_docker_hook import errors
from tripleo_docker_hook import model
from tripleo_docker_hook.definitions import config_sections as cs

with open(os.path.join(os.path.dirname(__file__),
                       'config_examples.json')) as _f:
    ex = types.SimpleNamespace(**{k.upper(): v for k, v in
                                  json.load(_f).items()})


def _puppet(data):
    errs = errors.ErrorList()
    result = cs.parse_puppet_config(data, 'puppet_config', errs)
    return result, [str(e) for e in errs.errors]


def _kolla(data):
    errs = errors.ErrorList()
    result = cs.parse_kolla_config(data, 'kolla_config', errs)
    return result, [str(e) for e in errs.errors]


def test_entries_sharing_a_volume_merge_like_docker_puppet():
    result, errs = _puppet(ex.COMPUTE)
    assert errs == []
    assert len(result) == 1
    entry = result[0]
    assert entry.config_volume == 'nova_libvirt'
    assert entry.puppet_tags == ('nova_config', 'nova_paste_api_ini',
                                 'libvirtd_config', 'file',
                                 'libvirt_tls_password')
    assert 'compute::libvirt' in entry.step_config
    assert 'base::nova::libvirt' in entry.step_config
    assert entry.step_config.count('\n') == 4


def test_role_data_mapping_form_and_null_items():
    result, errs = _puppet(ex.KEYSTONE_PUPPET)
    assert errs == [] and result[0].config_volume == 'keystone'
    result, errs = _puppet([None, ex.KEYSTONE_PUPPET, None])
    assert errs == [] and len(result) == 1


def test_merge_concatenates_volumes_and_privileged():
    base = {'config_volume': 'v', 'step_config': 'a',
            'config_image': 'img:1'}
    result, errs = _puppet([
        dict(base, volumes=['/a:/a:ro', ''], puppet_tags=['t1']),
        dict(base, volumes=['/a:/a:ro', '/b:/b'], privileged=True,
             puppet_tags='t1,t2', step_config='b')])
    assert errs == []
    (entry,) = result
    assert [m.source for m in entry.volumes] == ['/a', '/b']
    assert entry.volumes[0].read_only and not entry.volumes[1].read_only
    assert entry.privileged is True
    assert entry.puppet_tags == ('t1', 't2')
    assert entry.step_config == 'a\nb'


def test_differing_images_for_one_volume_are_an_error():
    _, errs = _puppet([
        {'config_volume': 'v', 'step_config': '', 'config_image': 'a:1'},
        {'config_volume': 'v', 'step_config': '', 'config_image': 'b:1'}])
    assert len(errs) == 1
    assert errs[0].startswith('puppet_config[1].config_image: Invalid value:'
                              ' "b:1": entries sharing config_volume "v"')


@pytest.mark.parametrize('name', ['../etc', '/etc', 'a/b', 'a..b', '.hidden',
                                  'puppet-generated', 'x.md5sum', '',
                                  'a b'])
def test_volume_names_are_one_safe_component(name):
    _, errs = _puppet([{'config_volume': name, 'step_config': '',
                        'config_image': 'img'}])
    assert len(errs) == 1
    assert errs[0].startswith('puppet_config[0].config_volume: ')


def test_puppet_required_fields_types_and_unknown_keys():
    _, errs = _puppet([{'puppet_tags': 'a b', 'volumes': ['rel:/x', 'x'],
                        'privileged': 'yes', 'keep_container': True}])
    assert 'puppet_config[0].config_volume: Required value' in errs
    assert 'puppet_config[0].config_image: Required value' in errs
    assert 'puppet_config[0].step_config: Required value' in errs
    assert any(e.startswith('puppet_config[0].puppet_tags: Invalid value: '
                            '"a b"') for e in errs)
    assert any(e.startswith('puppet_config[0].volumes[0]: Invalid value: '
                            '"rel:/x": the host path must be absolute')
               for e in errs)
    assert any(e.startswith('puppet_config[0].volumes[1]: ') for e in errs)
    assert any(e.startswith('puppet_config[0].privileged: Invalid value')
               for e in errs)
    assert any(e.startswith('puppet_config[0].keep_container: Unsupported')
               for e in errs)
    _, errs = _puppet('nope')
    assert errs[0].startswith('puppet_config: Invalid value: "nope"')


def test_kolla_examples_parse():
    for name, body in ex.KOLLA.items():
        result, errs = _kolla({f'/var/lib/kolla/config_files/{name}.json':
                               body})
        assert errs == [], name
        assert result[0].command == body['command']
    result, errs = _kolla(ex.BLUEPRINT_KOLLA)
    assert errs == [] and len(result) == 3
    nova = [r for r in result if r.path.endswith('nova-compute.json')][0]
    assert nova.config_files[0] == model.KollaConfigFile(
        source='/var/lib/kolla/config_files/nova.conf',
        dest='/etc/nova/nova.conf', owner='nova', perm='0600')


def test_kolla_validation_errors_name_the_field():
    key = '/var/lib/kolla/config_files/x.json'
    _, errs = _kolla({key: {
        'config_files': [
            {'source': 'relative', 'dest': '/etc/x', 'owner': 'x',
             'perm': '600'},
            {'source': '/a', 'dest': '/b', 'owner': 'x', 'perm': 384},
            {'source': '/a', 'dest': 'etc/'},
            {'source': '/a', 'dest': '/b', 'preserve_properties': True,
             'merge': 'yes', 'extra': 1}],
        'permissions': [{'path': '/var/log/x', 'perm': '0755'}]}})
    at = f'kolla_config[{key}]'
    assert f'{at}.command: Required value' in errs
    assert any(e.startswith(f'{at}.config_files[0].source: Invalid value: '
                            '"relative"') for e in errs)
    assert any(e.startswith(f'{at}.config_files[0].perm: Invalid value: '
                            '"600": must be a 4-digit octal string')
               for e in errs)
    assert any(e.startswith(f'{at}.config_files[1].perm: Invalid value: 384')
               for e in errs)
    assert any(e.startswith(f'{at}.config_files[2].dest: Invalid value: '
                            '"etc/"') for e in errs)
    assert f'{at}.config_files[2].owner: Required value' in errs
    assert any(e.startswith(f'{at}.config_files[2].perm: Required value')
               for e in errs)
    assert any(e.startswith(f'{at}.config_files[3].merge: Invalid value')
               for e in errs)
    assert any(e.startswith(f'{at}.config_files[3].extra: Unsupported value')
               for e in errs)
    assert f'{at}.permissions[0].owner: Required value' in errs


@pytest.mark.parametrize('key', ['relative.json', '/a/../b.json',
                                 '/a//b.json', '/dir/', '/a/./b.json'])
def test_kolla_keys_are_normalised_absolute_files(key):
    _, errs = _kolla({key: {'command': 'x'}})
    assert len(errs) == 1 and errs[0].startswith(f'kolla_config[{key}]: ')


def test_merge_all_across_documents():
    a = model.PuppetConfig('v', 'a', 'img', ('t1',))
    b = model.PuppetConfig('v', 'b', 'img', ('t2',))
    (merged,) = cs.merge_all([a, b])
    assert merged.step_config == 'a\nb' and merged.puppet_tags == ('t1', 't2')
    with pytest.raises(errors.ValidationError):
        cs.merge_all([a, model.PuppetConfig('v', 'b', 'other')])


def test_definitions_parse_carries_the_sections():
    from tripleo_docker_hook import definitions
    config = {'puppet_config': ex.KEYSTONE_PUPPET,
              'kolla_config': ex.KEYSTONE_KOLLA}
    desired = definitions.parse(config)
    assert [p.config_volume for p in desired.puppet_config] == ['keystone']
    assert len(desired.kolla_config) == 2


def test_config_volumes_are_capped():
    """Each config volume is one config container run: a deployment may
    name at most MAX_CONFIG_VOLUMES (entries sharing one volume count
    once), so bad input costs bounded time."""
    def entries(n, repeat=1):
        return [{'config_volume': f'vol{i}', 'step_config': 'include x',
                 'config_image': 'tdh/puppet:latest'}
                for i in range(n) for _ in range(repeat)]

    result, errs = _puppet(entries(cs.MAX_CONFIG_VOLUMES, repeat=2))
    assert errs == [] and len(result) == cs.MAX_CONFIG_VOLUMES
    result, errs = _puppet(entries(cs.MAX_CONFIG_VOLUMES + 1))
    assert result == ()
    assert errs == [f'puppet_config: Too many: {cs.MAX_CONFIG_VOLUMES + 1} '
                    f'config volumes; at most {cs.MAX_CONFIG_VOLUMES} in '
                    'one deployment']
