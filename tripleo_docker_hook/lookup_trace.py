"""Which hiera keys a config run looked up, and in which data files.

A TripleO node's hieradata is a few shared files (``service_configs.json``,
``all_nodes.json``...) that every config volume reads; a render cache that
counts the whole tree renders every volume when one key changes.  Puppet
can tell which keys a run looked up: a small Ruby file loaded into ``puppet
apply`` (``RUBYOPT=-r``, :data:`RUBY`) records every key each data-hash
provider searched and in which file, found or not.  The hook then compares
only those keys' values in those files.

Sound or nothing: whatever the tracer cannot account for makes the trace
*opaque*, and the hook falls back to the whole tree for that volume:

* a read, probe or listing of the hieradata tree by anything but hiera's
  own ``yaml_data``/``json_data`` and path resolution (``file()``,
  ``loadyaml()``, ``find_file()``, a custom function);
* a subprocess started by the run other than Facter's (``generate()``, an
  ``exec``: the tracer cannot see what it reads);
* a lookup through another backend (``lookup_key``, ``data_dig``,
  hiera 3 backends, a data-hash function other than ``yaml_data`` or
  ``json_data``), or a hierarchy level with ``glob(s)``, ``uri(s)`` or
  ``mapped_paths`` (files that appear later would not be in the trace);
* no trace at all (the image's Puppet ignores ``RUBYOPT``, the run did
  not write it), a malformed or oversized one.

The trace comes out of an untrusted container; it can only make the
volume that image renders depend on fewer keys, and that volume's content
is the image's anyway.  Values are compared as parsed *nodes* (tag, style
and text of every scalar, recursively), never as Python values, so a text
Ruby reads differently always counts as a change.
"""

import dataclasses
import hashlib
import json
import os
import posixpath
import re
import stat
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

#: Where the tracer and its output live in the config container.
SCRIPT_TARGET = '/var/lib/tripleo-docker-hook/lookup-trace.rb'
OUTPUT = '/var/lib/tripleo-docker-hook/lookups.json'
#: Bounds of a trace read from the container.
MAX_BYTES = 16 << 20
MAX_LOOKUPS = 100_000
FORMAT = 1
#: data_hash functions whose files this module can read, by format.
UNDERSTOOD = {'yaml_data': 'yaml', 'json_data': 'json'}
PROVIDERS = ('Puppet::Pops::Lookup::DataHashFunctionProvider',
             'Puppet::Pops::Lookup::V3DataHashFunctionProvider')
#: A key not in a file, or in a file that does not exist: the same to
#: hiera (it goes on to the next level either way).
NO_KEY = 'no-key'
#: Ruby's JSON parser refuses deeper nesting (``max_nesting``).
JSON_MAX_NESTING = 100
#: A plain scalar Psych reads as a Date or Time, classes Puppet's
#: ``safe_load`` refuses (the file then fails to load); a superset of
#: Psych's own patterns (any line of a folded scalar, as Ruby's ``^``/``$``).
_RUBY_DATE = re.compile(r'^-?[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:$|[Tt]|\s)',
                        re.M | re.A)
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)

RUBY = r'''
# Loaded into `puppet apply` by tripleo-docker-hook (RUBYOPT=-r) to learn
# which hiera keys a config run looks up, and in which data files, so a
# later change of other keys need not render this volume again.  Anything
# it cannot account for is reported as "opaque"; the hook then treats the
# whole hieradata tree as read.  Output: JSON at $TDH_LOOKUP_TRACE.
if $PROGRAM_NAME.end_with?('puppet') && ENV['TDH_LOOKUP_TRACE'] &&
   ENV['TDH_HIERADATA']
  module TDHLookupTrace
    OUT = ENV.delete('TDH_LOOKUP_TRACE')
    ROOT = File.expand_path(ENV.delete('TDH_HIERADATA'))
    ROOT_NAME = File.basename(ROOT)
    ENV.delete('RUBYOPT')
    # Reads by these files of Puppet's own lib dir are hiera's (data
    # files, path probes); set once puppet is loaded.
    HIERA_CODE = ['/puppet/functions/yaml_data.rb',
                  '/puppet/functions/json_data.rb',
                  '/puppet/pops/lookup/location_resolver.rb',
                  '/puppet/pops/lookup/hiera_config.rb'].freeze
    # Programs that read hieradata without naming it.
    HIERA_READERS = %w[puppet hiera facter ruby irb erb].freeze
    MAX = 100_000
    @lookups = []
    @opaque = []
    @hiera_files = []
    @facter_lib = nil
    @real = {}

    class << self
      attr_reader :lookups, :opaque
      attr_accessor :hiera_files

      def lookup(root_key, location, provider)
        path = location && location.location
        if @lookups.size >= MAX
          opaque!('too many lookups')
          return
        end
        row = [root_key.to_s, path && path.to_s,
               provider.function_name.to_s, provider.class.name]
        @lookups << row
        # A data file reached through a symlink: its target counts too.
        real = path && quiet { realpath(File.expand_path(path.to_s)) }
        @lookups << [row[0], real, row[2], row[3]] if real &&
                                                     real != row[1]
      end

      def opaque!(why)
        why = why.to_s[0, 300]
        @opaque << why if @opaque.size < 20 && !@opaque.include?(why)
      end

      # The real path of an absolute path (nil: unknown): its directory's,
      # kept per directory, and its own name unless that is a symlink.
      def realpath(full)
        return @real[full] if @real.key?(full)
        @real.clear if @real.size > 50_000
        @real[full] = begin
          dir = File.dirname(full)
          if dir == full
            full
          else
            up = realpath(dir)
            own = up && File.join(up, File.basename(full))
            own && File.symlink?(own) ? File.realpath(own) : own
          end
        rescue StandardError
          nil
        end
      end

      # The tree, or (for a glob, which may reach into it) its ancestors.
      # A probe or listing of /etc/puppet depends on no hieradata: Puppet
      # and Facter probe /etc and /etc/puppet in every run.
      def within?(full, ancestors = false)
        full == ROOT || full.start_with?(ROOT + '/') ||
          (ancestors && ROOT.start_with?(full == '/' ? '/' : full + '/'))
      end

      # ``deep``: also through symlinks (a module's data dir linked to
      # the tree, /proc/self/root...): costly, so only for reads.
      def under?(path, deep = false, ancestors = false)
        path = path.to_path if path.respond_to?(:to_path)
        return false unless path.is_a?(String)
        full = File.expand_path(path) rescue (return false)
        return true if within?(full, ancestors)
        return false unless deep
        real = realpath(full)
        !real.nil? && real != full && within?(real, ancestors)
      end

      def hiera_caller?
        caller_locations.any? { |l| @hiera_files.include?(l.path.to_s) }
      end

      # The tracer's own file calls are not the run's.
      def quiet
        return if Thread.current[:tdh_lookup_trace]
        Thread.current[:tdh_lookup_trace] = true
        begin
          yield
        ensure
          Thread.current[:tdh_lookup_trace] = nil
        end
      end

      # A path the run touched: under the hieradata tree and not by hiera.
      def touch(what, path)
        quiet do
          if under?(path, READS.include?(what), GLOBS.include?(what)) &&
             !hiera_caller?
            opaque!("#{what} #{path}")
          end
        end
      end

      def glob(what, pattern, base = nil)
        touch(what, base) if base
        Array(pattern).each do |pat|
          pat = pat.to_path if pat.respond_to?(:to_path)
          next unless pat.is_a?(String)
          pat = File.join(base.to_s, pat) if base && !pat.start_with?('/')
          # The directory part before the first special character.
          prefix = pat[/\A[^*?\[{\\]*/]
          prefix = prefix.include?('/') ? prefix[0..prefix.rindex('/')] : ''
          touch(what, prefix.empty? ? '.' : prefix)
        end
      end

      def spawn!(what, args)
        words = args.flatten.reject { |a| a.is_a?(Hash) }.map(&:to_s)
        text = words.join(' ')
        program = File.basename(words.first.to_s.split(' ').first.to_s)
        # Facter's own commands (uname, lsblk...) and custom facts' read
        # no hieradata: unless they name it, run a hiera reader, or are
        # an executable external fact.
        @facter_lib ||= $LOADED_FEATURES.find do |f|
          f.end_with?('/facter.rb')
        end&.sub(/\.rb\z/, '/')
        facter = @facter_lib && caller_locations.any? do |l|
          l.path.to_s.start_with?(@facter_lib)
        end
        if facter && !text.include?(ROOT_NAME) &&
           !HIERA_READERS.include?(program) &&
           caller_locations.none? do |l|
             l.path.to_s.end_with?('/custom_facts/util/parser.rb')
           end
          return
        end
        # The program's name only: its arguments may hold a secret, and
        # the reason reaches deploy_stdout.
        opaque!("#{what} #{program[0, 100]}")
      end

      def write
        require 'json'
        File.write(OUT, JSON.generate('format' => 1, 'root' => ROOT,
                                      'lookups' => @lookups.uniq,
                                      'opaque' => @opaque))
      rescue StandardError => e
        warn "tripleo-docker-hook: lookup trace not written: #{e}"
      end
    end

    # Every class method of these that takes a path, but pure ones;
    # arguments that are paths, by position (default: the first).
    PURE = %i[absolute_path absolute_path? basename dirname expand_path
              extname join path split fnmatch fnmatch? umask pipe select
              try_convert popen glob [] getwd pwd home new open
              for_fd].freeze
    # Reads and listings (not mere probes): checked through symlinks too.
    READS = %i[open read readlines foreach binread copy_stream sysopen
               entries children each_child glob [] fd reopen].freeze
    GLOBS = %i[glob []].freeze
    PATHS = {identical?: 0..1, link: 0..1, rename: 0..1, symlink: 0..1,
             copy_stream: 0..1, chmod: 1.., lchmod: 1.., chown: 2..,
             lchown: 2.., utime: 2.., lutime: 2..}.freeze
    PIPES = %i[read readlines foreach binread write binwrite].freeze
    [File, IO, Dir, FileTest].each do |klass|
      names = klass.singleton_methods(false) - PURE
      klass.singleton_class.prepend(Module.new do
        names.each do |name|
          where = PATHS.fetch(name, 0..0)
          define_method(name) do |*args, **kw, &blk|
            if self == IO && PIPES.include?(name) &&
               args[0].is_a?(String) && args[0].start_with?('|')
              TDHLookupTrace.spawn!(name, [args[0][1..]])
            end
            Array(args[where]).each { |a| TDHLookupTrace.touch(name, a) }
            super(*args, **kw, &blk)
          end
        end
      end)
    end
    Dir.singleton_class.prepend(Module.new do
      %i[glob []].each do |name|
        define_method(name) do |*args, **kw, &blk|
          TDHLookupTrace.glob(name, args[0], kw[:base])
          super(*args, **kw, &blk)
        end
      end

      def open(*args, **kw, &blk)
        TDHLookupTrace.touch(:entries, args[0])
        super
      end
    end)
    Dir.prepend(Module.new do
      def initialize(path, *rest, **kw)
        TDHLookupTrace.touch(:entries, path)
        super
      end
    end)
    # However a File is opened (Kernel#open, open-uri, Pathname...).
    File.prepend(Module.new do
      def initialize(path, *rest, **kw, &blk)
        TDHLookupTrace.touch(:open, path) unless path.is_a?(Integer)
        super
      end
    end)
    IO.prepend(Module.new do
      # A descriptor from anywhere (IO.sysopen, syscall): what it is.
      def initialize(fd, *rest, **kw, &blk)
        if fd.is_a?(Integer)
          target = File.readlink("/proc/self/fd/#{fd}") rescue nil
          TDHLookupTrace.touch(:fd, target) if target&.start_with?('/')
        end
        super
      end

      def reopen(*args, **kw)
        TDHLookupTrace.touch(:reopen, args[0]) if args[0].is_a?(String)
        super
      end
    end)
    File::Stat.prepend(Module.new do
      def initialize(path, *rest)
        TDHLookupTrace.touch(:stat, path)
        super
      end
    end)
    # Kernel's are private instance methods (public ones would make every
    # object respond_to?(:open), which open-uri and others test) and
    # public module functions.
    def self.spawning(private)
      names = %i[system spawn exec ` fork syscall]
      Module.new do
        names.each do |name|
          define_method(name) do |*args, **kw, &blk|
            TDHLookupTrace.spawn!(name, args)
            super(*args, **kw, &blk)
          end
        end
        private(*names) if private
      end
    end

    def self.opening(private)
      Module.new do
        define_method(:open) do |*args, **kw, &blk|
          a = args[0]
          a = a.to_path if a.respond_to?(:to_path)
          if a.is_a?(String) && a.start_with?('|')
            TDHLookupTrace.spawn!(:open, [a[1..]])
          elsif !args.empty?
            TDHLookupTrace.touch(:open, a)
          end
          super(*args, **kw, &blk)
        end
        private(:open) if private
      end
    end
    Kernel.prepend(spawning(true), opening(true))
    Process.singleton_class.prepend(spawning(false))
    Kernel.singleton_class.prepend(spawning(false), opening(false))
    IO.singleton_class.prepend(Module.new do
      def popen(*args, **kw, &blk)
        TDHLookupTrace.spawn!(:popen, args)
        super(*args, **kw, &blk)
      end
    end)

    require 'puppet'
    lib = $LOADED_FEATURES.find { |f| f.end_with?('/puppet.rb') }
    self.hiera_files = HIERA_CODE.map { |c| File.dirname(lib) + c }
    L = Puppet::Pops::Lookup
    L::DataHashFunctionProvider.prepend(Module.new do
      private def invoke_with_location(lookup_invocation, location, root_key,
                                       *rest)
        TDHLookupTrace.lookup(root_key, location, self)
        super
      end
    end)
    [L::LookupKeyFunctionProvider, L::DataDigFunctionProvider].each do |k|
      k.prepend(Module.new do
        def unchecked_key_lookup(key, lookup_invocation, merge)
          TDHLookupTrace.opaque!(
            "#{self.class.name.split('::').last} #{function_name}")
          super
        end
      end)
    end
    L::LocationResolver.prepend(Module.new do
      %i[expand_globs expand_uris expand_mapped_paths].each do |name|
        define_method(name) do |*args|
          TDHLookupTrace.opaque!("hiera #{name.to_s.sub('expand_', '')}")
          super(*args)
        end
      end
    end)
    at_exit { TDHLookupTrace.write }
  end
end
'''


@dataclasses.dataclass(frozen=True)
class Trace:
    """What one config run read of the hieradata tree.

    ``files`` maps a path relative to the hieradata directory to
    ``(format, root keys)``; ``opaque`` is why the trace cannot be used
    ('' when it can).
    """

    files: Dict[str, Tuple[str, Tuple[str, ...]]]
    opaque: str = ''


def opaque(why: str) -> Trace:
    """A trace the render cache cannot use, and why (said in the next
    hieradata render's reason)."""
    return Trace({}, why)


def environment(hieradata_dir: str) -> Tuple[Tuple[str, str], ...]:
    """The config container's environment that loads the tracer."""
    return (('RUBYOPT', f'-r{SCRIPT_TARGET}'),
            ('TDH_LOOKUP_TRACE', OUTPUT),
            ('TDH_HIERADATA', hieradata_dir))


def script_path(state_dir: str) -> str:
    """Host path of the tracer: named by its content, so the config
    container's spec (part of the render cache's inputs) is stable."""
    digest = hashlib.sha256(RUBY.encode()).hexdigest()[:16]
    return os.path.join(state_dir, 'puppet', f'lookup-trace-{digest}.rb')


def ensure_script(state_dir: str) -> str:
    """Write the tracer if it is not there yet (atomically); its path."""
    path = script_path(state_dir)
    try:
        with open(path, 'rb') as f:
            if f.read() == RUBY.encode():
                return path
    except OSError:
        pass
    from tripleo_docker_hook import atomicfile
    atomicfile.write(path, RUBY.encode(), mode=0o644)
    return path


def parse(raw: Optional[bytes], hieradata_dir: str) -> Trace:
    """The trace a config run wrote, checked: any doubt is opaque."""
    if raw is None:
        return opaque('no lookup trace')
    try:
        data = json.loads(raw.decode('utf-8'))
    except (UnicodeDecodeError, ValueError, RecursionError):
        # RecursionError: arrays nested deeper than the interpreter's
        # recursion limit (the trace is untrusted input)
        return opaque('lookup trace is not JSON')
    root = posixpath.normpath(hieradata_dir)
    if not isinstance(data, dict) or data.get('format') != FORMAT or \
            data.get('root') != root:
        return opaque('lookup trace of another format or directory')
    why = data.get('opaque')
    lookups = data.get('lookups')
    if not isinstance(why, list) or not isinstance(lookups, list) or \
            len(lookups) > MAX_LOOKUPS:
        return opaque('malformed lookup trace')
    if why:
        return opaque(str(why[0])[:200])
    files: Dict[str, Tuple[str, set]] = {}
    for item in lookups:
        if not (isinstance(item, list) and len(item) == 4 and
                isinstance(item[0], str) and
                all(isinstance(x, str) for x in item[2:]) and
                (item[1] is None or isinstance(item[1], str))):
            return opaque('malformed lookup trace')
        key, path, function, provider = item
        if not (_encodable(key) and (path is None or (
                _encodable(path) and '\0' not in path))):
            # a path no file can have: os.lstat raised ValueError out of
            # the render cache, after the volume was published
            return opaque('malformed lookup trace')
        fmt = UNDERSTOOD.get(function)
        if fmt is None or provider not in PROVIDERS or path is None:
            return opaque(f'lookup through {(function or provider)[:100]}')
        if path.startswith('/proc/'):
            # /proc/self/root/...: the tree under another name
            return opaque(f'lookup in {path[:100]}')
        raw_path = path
        # '//x' is '/x' to the kernel (posixpath keeps a leading '//')
        path = posixpath.normpath('/' + path.lstrip('/'))
        if not path.startswith(root + '/'):
            continue  # module or image data: covered by other inputs
        if '..' in raw_path.split('/'):
            # 'nodes/../x.yaml' is no file while nodes/ does not exist:
            # what Puppet found is not what normpath says
            return opaque(f'lookup in {raw_path[:100]}')
        rel = path[len(root) + 1:]
        old = files.setdefault(rel, (fmt, set()))
        if old[0] != fmt:
            return opaque(f'{rel} read as both yaml and json')
        old[1].add(key)
    return Trace({rel: (fmt, tuple(sorted(keys)))
                  for rel, (fmt, keys) in sorted(files.items())})


def _encodable(text: str) -> bool:
    """Whether ``text`` is valid Unicode (JSON allows a lone surrogate
    escape; no file name or hiera key from Ruby can hold one)."""
    try:
        text.encode('utf-8')
    except UnicodeEncodeError:
        return False
    return True


# -- values ------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class FileValues:
    """One data file as read now, for the keys a run looked up.

    ``content`` names the bytes the fingerprints come from, in the terms
    of :class:`render_cache.TreeCache`: the sha256 hex digest of a regular
    file, ``link:<text>`` of a symlink, ``absent`` or ``unreadable:<errno>``
    (so a caller can tell whether the tree walk saw the same bytes).
    ``keys`` maps each root key to its fingerprint.
    """

    content: str
    keys: Dict[str, str]


class Values:
    """Fingerprints of data files, memoised by content for one run.

    A controller's 40 config volumes all read the same MB-sized
    ``service_configs.json``: each distinct content is parsed once, and
    every top-level key's fingerprint is computed in that one pass, so a
    lookup is a dict access (the former per-key scan of every pair cost
    O(keys x pairs): 3.4 s per volume for 3 000 keys of a 6 000-key YAML
    file).  Keyed by content, not path: a file rewritten mid-run is read
    again.  Holds one fingerprint per distinct top-level key per content.
    """

    def __init__(self) -> None:
        self._by_content: Dict[Tuple[str, str], Tuple[Dict[str, str],
                                                      str]] = {}

    def read(self, hieradata_dir: str, rel: str, fmt: str,
             keys: Sequence[str]) -> FileValues:
        """The fingerprints of ``keys`` in ``hieradata_dir/rel`` now.

        A fingerprint is ``no-key`` (no such key or no such file), a
        digest of the value's node (32 hex digits), or, for a file this
        module cannot split into keys the way Puppet does (not a mapping,
        does not parse, a top-level YAML merge key, not a regular file),
        the digest of the whole file for every key.  Never blocks on a
        FIFO or reads a device a symlink points at.
        """
        path = os.path.join(hieradata_dir, rel)
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            return FileValues('absent', {k: NO_KEY for k in keys})
        except (OSError, ValueError) as exc:  # ValueError: a NUL byte
            return _unreadable(exc, keys)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as exc:  # a dangling link too: not silent
            return _unreadable(exc, keys)
        try:
            regular = stat.S_ISREG(os.fstat(fd).st_mode)
            with open(fd, 'rb', closefd=False) as f:
                data = f.read() if regular else None
        except OSError as exc:
            return _unreadable(exc, keys)
        finally:
            os.close(fd)
        digest = hashlib.sha256(data or b'').hexdigest()
        if not stat.S_ISREG(st.st_mode):
            text = _readlink(path)
            whole = f'file:{digest[:32]}:link:{text}' if data is not None \
                else f'file:other:link:{text}'
            return FileValues(f'link:{text}', {k: whole for k in keys})
        if data is None:  # raced into something else
            return FileValues('other', {k: 'file:other' for k in keys})
        memo = (fmt, digest)
        if memo not in self._by_content:
            split = _json_values(data) if fmt == 'json' else \
                _yaml_values(data)
            self._by_content[memo] = split or ({}, f'file:{digest[:32]}')
        by_key, default = self._by_content[memo]
        return FileValues(digest, {k: by_key.get(k, default) for k in keys})


def _unreadable(exc: Exception, keys: Sequence[str]) -> FileValues:
    why = f'unreadable:{getattr(exc, "errno", None) or "invalid"}'
    return FileValues(why, {k: why for k in keys})


def _readlink(path: str) -> str:
    try:
        return os.readlink(path)
    except OSError:
        return '?'


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode('utf-8', 'surrogateescape')
                          ).hexdigest()[:32]


def _json_values(data: bytes) -> Optional[Tuple[Dict[str, str], str]]:
    """(fingerprint of every top-level key, of any other key), or None
    when the file is not split into keys (the whole file counts)."""
    try:
        text = data.decode('utf-8')
        # Every object becomes {'': [[key, value]...]}: duplicates kept,
        # and no array can digest like an object (``[["a", 1]]`` is not
        # ``{"a": 1}`` to Ruby, nor ``[]`` the same as ``{}``).  NaN and
        # Infinity, which Ruby refuses, fail here too.
        top = json.loads(text, object_pairs_hook=lambda p: {'': p},
                         parse_constant=_refuse)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(top, dict) or _ruby_refuses_json(text):
        # a top-level array or scalar, or what Ruby's parser refuses: a
        # change of any key may fail the lookup
        return None
    # every occurrence: duplicate keys count, whichever Ruby keeps
    found: Dict[str, list] = {}
    for name, value in top['']:
        found.setdefault(name, []).append(value)
    return {name: _sha(json.dumps(values, sort_keys=False))
            for name, values in found.items()}, NO_KEY


def _yaml_values(data: bytes) -> Optional[Tuple[Dict[str, str], str]]:
    """(fingerprint of every key name Puppet may read from the top-level
    mapping, of any other key), or None when the file is not split into
    keys (the whole file counts)."""
    import yaml
    loader = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)
    try:
        node = yaml.compose(data, Loader=loader)
    except (yaml.YAMLError, RecursionError, ValueError):
        return None  # Puppet fails on it too, or reads it another way
    if node is None:
        return {}, NO_KEY
    if not isinstance(node, yaml.MappingNode):
        return None
    pairs = node.value
    if any(k.tag == 'tag:yaml.org,2002:merge' or (
            isinstance(k, yaml.ScalarNode) and k.value == '<<')
           for k, _ in pairs):
        # keys from an anchor: not split.  Ruby's Psych merges a quoted
        # '<<' too (PyYAML only a plain one).
        return None
    if _ruby_refuses_yaml(node):
        return None  # Puppet may fail on the file: every change counts
    memo: Dict[int, str] = {}
    # Pair indices by the key names each may be read as, in file order
    # (a binary key may be any name: it is in every key's list).
    by_name: Dict[str, List[int]] = {}
    anywhere: List[int] = []
    digests = []
    try:
        for i, (kn, vn) in enumerate(pairs):
            digests.append(_node_digest(kn, memo) + _node_digest(vn, memo))
            names = _key_names(kn)
            if names is None:
                anywhere.append(i)
            for name in names or ():
                by_name.setdefault(name, []).append(i)
    except RecursionError:
        return None

    def fingerprint(indices: Iterable[int]) -> str:
        return _sha('\n'.join(digests[i] for i in sorted(set(indices))))

    default = fingerprint(anywhere) if anywhere else NO_KEY
    return {name: fingerprint(indices + anywhere)
            for name, indices in by_name.items()}, default


def _refuse(name: str):
    raise ValueError(name)


def _ruby_refuses_json(text: str) -> bool:
    """Whether Ruby's JSON parser may refuse what Python's read: nesting
    deeper than ``max_nesting``, or a ``\\uD800``-``\\uDFFF`` escape (Ruby
    refuses a lone surrogate; a pair is flagged too, which only counts
    more changes)."""
    if re.search(r'\\u[dD][89a-fA-F]', text):
        return True
    depth = 0
    for c in re.sub(r'[^][{}]', '', _JSON_STRING.sub('', text)):
        depth += 1 if c in '[{' else -1
        if depth > JSON_MAX_NESTING:
            return True
    return False


def _ruby_refuses_yaml(root) -> bool:
    """Whether Puppet's ``safe_load`` may refuse a file PyYAML composes:
    a plain scalar Psych reads as a Date or Time, or any explicit tag
    (``!!set``, ``!ruby/object``, ``!!float abc``, ``!!str {}``... a tag
    this module does not model; a harmless one only counts more
    changes).  Each node once (aliases), no recursion."""
    import yaml
    resolve = yaml.resolver.Resolver().resolve  # what an untagged one is
    str_tag = 'tag:yaml.org,2002:str'
    seen = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            if node.style:  # quoted or block: a string unless tagged
                if node.tag != str_tag:
                    return True
            elif node.tag != resolve(yaml.ScalarNode, node.value,
                                     (True, False)) or \
                    _RUBY_DATE.search(node.value):
                return True
        elif isinstance(node, yaml.SequenceNode):
            if node.tag != 'tag:yaml.org,2002:seq':
                return True
            stack.extend(node.value)
        else:
            if node.tag != 'tag:yaml.org,2002:map':
                return True
            for k, v in node.value:
                stack.append(k)
                stack.append(v)
    return False


def _key_names(node) -> Optional[Tuple[str, ...]]:
    """The key names Puppet may read from this key node (None: any): a
    string, or a Ruby symbol (``:key``, ``:"key"``), which ``yaml_data``
    turns into a string; a binary key Ruby decodes.  Too many names only
    make a change count more often."""
    import yaml
    if not isinstance(node, yaml.ScalarNode):
        return ()
    if node.tag == 'tag:yaml.org,2002:binary':
        return None  # Ruby decodes it: any key may be behind it
    text = node.value
    if text.startswith(':'):
        return (text, text[1:].strip('"\''))
    return (text,)


def _node_digest(node, memo: Dict[int, str]) -> str:
    """Digest of a node: tag, style and text of every scalar, the order of
    sequences and mappings; each node once (aliases cost nothing more, a
    recursive alias is marked, not followed)."""
    import yaml
    done = memo.get(id(node))
    if done is not None:
        return done
    memo[id(node)] = 'cycle'
    if isinstance(node, yaml.ScalarNode):
        text = f's\0{node.tag}\0{node.style or ""}\0{node.value}'
    elif isinstance(node, yaml.SequenceNode):
        text = f'q\0{node.tag}\0' + ','.join(
            _node_digest(n, memo) for n in node.value)
    else:
        text = f'm\0{node.tag}\0' + ','.join(
            _node_digest(k, memo) + ':' + _node_digest(v, memo)
            for k, v in node.value)
    memo[id(node)] = digest = _sha(text)
    return digest
