"""Configuration options (oslo.config).

Every option lives in ``[DEFAULT]`` so that oslo.config's environment source
can set it as ``OS_DEFAULT__<NAME>`` (e.g. ``OS_DEFAULT__STATE_DIR``); the
``[puppet]`` group holds config-rendering options.  The sample file in
``etc/`` is generated from :func:`list_opts` by ``oslo-config-generator``.
"""

import os

from oslo_config import cfg

from tripleo_docker_hook import confcache

DEFAULT_CONFIG_FILE = confcache.DEFAULT_CONFIG_FILE


def _seconds(name: str, default: int, help: str, least: int = 1):
    """A timeout option: whole seconds, at least ``least``."""
    return cfg.IntOpt(name, default=default, min=least, help=help)

default_opts = [
    cfg.StrOpt('docker_url',
               help='URL of the Docker Engine API. Empty means the '
                    'DOCKER_HOST environment variable, else '
                    'unix:///var/run/docker.sock.'),
    cfg.StrOpt('docker_api_version', default='1.41',
               help='Docker Engine API version to speak. A fixed version '
                    'saves a version negotiation round trip on every run; '
                    '"auto" negotiates.'),
    _seconds('docker_timeout', 120,
             help='Timeout in seconds of a single Docker API call.'),
    cfg.StrOpt('state_dir', default='/var/lib/tripleo-docker-hook',
               help='Directory for the hook\'s own state: the apply lock and '
                    'the current and previous definition of each '
                    'deployment (for rollback).'),
    cfg.StrOpt('config_data_dir', default='/var/lib/config-data',
               help='Host directory that receives puppet-generated config, '
                    'one sub-directory per config volume. It must be the '
                    'same path inside the agents container and on the host.'),
    cfg.StrOpt('kolla_config_dir', default='/var/lib/kolla/config_files',
               help='Host directory where Kolla config.json files are '
                    'written.'),
    cfg.IntOpt('workers', default=8, min=1,
               help='Maximum number of containers created, started or '
                    'stopped in parallel.'),
    _seconds('lock_timeout', 600, least=0,
             help='Seconds to wait for another apply on this host to '
                  'finish before failing.'),
    _seconds('task_timeout', 3600,
             help='Seconds a one-shot task (init container, detach: false, '
                  'action: exec) may run before it is failed.'),
    _seconds('start_timeout', 120,
             help='Seconds a new container may take to be running (and '
                  'healthy, when it has a health check) before a replace '
                  'is rolled back.'),
    cfg.FloatOpt('start_settle', default=0.0, min=0.0,
                 help='Seconds to wait after starting a container before '
                      'checking that it still runs (a replace is rolled '
                      'back otherwise). 0 checks at once: a container '
                      'without a health check that dies a moment later '
                      'is caught by the next apply; give services a health '
                      'check, or set this, to be stricter.'),
    cfg.ListOpt('hook_groups',
                default=['tripleo-docker-hook', 'docker-cmd', 'kubelet'],
                help='heat-config groups (hook names) whose deployments '
                     'this hook applies; the cleanup script keeps the '
                     'deployments of these groups that are still listed. '
                     'The agents image installs the hook under all three '
                     '(templates written for the docker-cmd and kubelet '
                     'hooks run unchanged): a group missing here would '
                     'make the cleanup remove its running deployments.'),
    cfg.IntOpt('pull_retries', default=3, min=0,
               help='Extra attempts to pull a missing image.'),
    cfg.BoolOpt('recreate_on_image_change', default=True,
                help='Recreate a container when the image its tag resolves '
                     'to locally differs from the image it runs.'),
    cfg.StrOpt('host_root', default='/',
               help='Where the host\'s root file system is visible to the '
                    'hook, for Pod hostPath type checks and '
                    'DirectoryOrCreate/FileOrCreate. "/" when the hook runs '
                    'on the host; the agents container mounts the host\'s / '
                    'at /host and sets this to /host.'),
    cfg.StrOpt('host_dbus_address',
               default='unix:path=/run/dbus/system_bus_socket',
               help='D-Bus address of the host\'s system bus, through which '
                    'the hook stops and disables the host systemd units '
                    'that containers replace (host_services). The agents '
                    'container mounts the host\'s /run/dbus at the same '
                    'path.'),
    _seconds('host_unit_timeout', 120,
             help='Seconds one stop or start of a host systemd unit may '
                  'take (a packaged service\'s own stop timeout is '
                  'usually 90 s).'),
    cfg.IntOpt('max_output_bytes', default=262144, min=1024,
               help='Cap on deploy_stdout and deploy_stderr each; the head '
                    'of a longer text is cut so the signal stays below '
                    'Heat\'s 1 MiB body limit.'),
]

puppet_opts = [
    cfg.IntOpt('workers', default=3, min=1,
               help='Config volumes rendered in parallel.'),
    cfg.StrOpt('modules_dir', default='/etc/puppet/modules',
               help='Host directory of puppet modules, mounted read-only '
                    'into config containers.'),
    cfg.StrOpt('hieradata_dir', default='/etc/puppet/hieradata',
               help='Host directory of hieradata, mounted read-only into '
                    'config containers.'),
    cfg.StrOpt('hiera_config', default='/etc/puppet/hiera.yaml',
               help='Host hiera.yaml, mounted read-only when it exists.'),
    cfg.ListOpt('config_dirs',
                default=['/etc', '/root', '/var/lib/kolla/config_files',
                         '/var/www', '/var/spool/cron'],
                help='Directories of the config container that hold config '
                     'and are copied out into the config volume.'),
    cfg.ListOpt('tags', default=['file', 'file_line', 'concat', 'augeas',
                                 'cron'],
                help='Puppet tags always applied, besides each entry\'s '
                     'puppet_tags.'),
    _seconds('timeout', 1800,
             help='Seconds one puppet run may take.'),
    cfg.BoolOpt('render_cache', default=True,
                help='Skip the puppet run of a config volume when every '
                     'input it reads (config image ID, manifest, tags and '
                     'puppet options, extra volumes and their content, '
                     'hieradata, hiera.yaml, modules, host facts) is '
                     'unchanged since its last successful render and the '
                     'published config is intact. The deployment input '
                     'force_render (or ctl apply --force-render) renders '
                     'anyway; false always renders.'),
    cfg.BoolOpt('trace_lookups', default=True,
                help='With render_cache: load a tracer into each config '
                     'run (RUBYOPT) that records the hiera keys it looks '
                     'up, so that a hieradata change renders only the '
                     'volumes that read a changed key. Anything the tracer '
                     'cannot account for (file() or loadyaml() of a '
                     'hieradata file, a subprocess, a backend other than '
                     'yaml_data/json_data, globs) makes that volume depend '
                     'on the whole hieradata tree. false: every hieradata '
                     'change renders every volume.'),
    cfg.StrOpt('image_modulepath',
               default='/etc/puppet/modules:/etc/puppet/code/modules:'
                       '/usr/share/puppet/modules:'
                       '/usr/share/openstack-puppet/modules:'
                       '/etc/puppetlabs/code/modules:'
                       '/opt/puppetlabs/puppet/modules',
               help='Module directories inside config images, searched '
                    'after modules_dir (puppet skips the missing ones): '
                    'Debian, RDO and Puppet AIO locations.'),
    cfg.ListOpt('hash_exclude',
                default=['*/swift/backups/*', '*.ring.gz', '*.builder',
                         '*/libvirt/passwd.db'],
                help='Glob patterns (relative to the config volume) of '
                     'volatile files left out of the config hash, so that '
                     'they never restart containers.'),
    cfg.IntOpt('copy_out_max_mib', default=1024, min=1,
               help='Most MiB of file content one config volume may copy '
                    'out of its config container; more fails the '
                    'deployment (the config image is untrusted input).'),
    cfg.IntOpt('copy_out_max_entries', default=200000, min=1,
               help='Most files, directories and links one config volume '
                    'may copy out.'),
    cfg.IntOpt('copy_out_max_depth', default=64, min=4, max=512,
               help='Deepest directory nesting a copied-out config tree '
                    'may have.'),
]


def list_opts():
    """Options for oslo-config-generator."""
    return [('DEFAULT', default_opts), ('puppet', puppet_opts)]


def register(conf):
    conf.register_opts(default_opts)
    conf.register_opts(puppet_opts, group='puppet')


def load(argv=(), conf=None):
    """Register options and parse the config file and the environment.

    The config file is optional: a node without one runs on defaults.
    ``TRIPLEO_DOCKER_HOOK_CONFIG`` names another file (tests, the demo).
    """
    conf = conf if conf is not None else cfg.ConfigOpts()
    register(conf)
    from oslo_log import log as oslo_logging
    oslo_logging.register_options(conf)
    path = confcache.config_file()
    files = [path] if os.path.exists(path) else []
    conf(list(argv), project='tripleo-docker-hook',
         default_config_files=files, default_config_dirs=[])
    return conf

