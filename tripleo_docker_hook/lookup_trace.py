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
from typing import Dict, Optional, Sequence, Tuple

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


# -- values ------------------------------------------------------------------
def fingerprints(hieradata_dir: str,
                 files: Dict[str, Tuple[str, Sequence[str]]]
                 ) -> Dict[str, Dict[str, str]]:
    """rel path → root key → fingerprint of that key's value now.

    A fingerprint is ``no-key`` (no such key or no such file) or a
    digest of the value's node (32 hex digits).  A file this module
    cannot split into keys the way Puppet does (not a mapping, does not
    parse, a top-level YAML merge key, not a regular file) gives every
    key the digest of the whole file.
    """
    return {rel: _file_fingerprints(os.path.join(hieradata_dir, rel), fmt,
                                    keys)
            for rel, (fmt, keys) in files.items()}


def _file_fingerprints(path: str, fmt: str, keys: Sequence[str]
                       ) -> Dict[str, str]:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return {k: NO_KEY for k in keys}
    except OSError as exc:
        return {k: f'unreadable:{exc.errno}' for k in keys}
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except OSError as exc:
        return {k: f'unreadable:{exc.errno}' for k in keys}
    whole = 'file:' + hashlib.sha256(data).hexdigest()[:32]
    if not stat.S_ISREG(st.st_mode):
        whole += ':link:' + _readlink(path)
        return {k: whole for k in keys}
    split = _json_values(data, keys) if fmt == 'json' else \
        _yaml_values(data, keys)
    if split is None:
        return {k: whole for k in keys}
    return split


def _readlink(path: str) -> str:
    try:
        return os.readlink(path)
    except OSError:
        return '?'


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode('utf-8', 'surrogateescape')
                          ).hexdigest()[:32]


def _json_values(data: bytes, keys: Sequence[str]
                 ) -> Optional[Dict[str, str]]:
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
    pairs = top['']
    out = {}
    for k in keys:
        # every occurrence: duplicate keys count, whichever Ruby keeps
        found = [v for name, v in pairs if name == k]
        out[k] = _sha(json.dumps(found, sort_keys=False)) if found \
            else NO_KEY
    return out


def _yaml_values(data: bytes, keys: Sequence[str]
                 ) -> Optional[Dict[str, str]]:
    import yaml
    loader = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)
    try:
        node = yaml.compose(data, Loader=loader)
    except (yaml.YAMLError, RecursionError, ValueError):
        return None  # Puppet fails on it too, or reads it another way
    if node is None:
        return {k: NO_KEY for k in keys}
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
    out = {}
    try:
        for k in keys:
            found = [_node_digest(kn, memo) + _node_digest(vn, memo)
                     for kn, vn in pairs if _key_matches(kn, k)]
            out[k] = _sha('\n'.join(found)) if found else NO_KEY
    except RecursionError:
        return None
    return out


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


def _key_matches(node, key: str) -> bool:
    """Whether Puppet may read ``key`` from this key node: a string, or a
    Ruby symbol (``:key``, ``:"key"``), which ``yaml_data`` turns into a
    string.  Matching too much only makes a change count more often."""
    import yaml
    if not isinstance(node, yaml.ScalarNode):
        return False
    if node.tag == 'tag:yaml.org,2002:binary':
        return True  # Ruby decodes it: any key may be behind it
    text = node.value
    return text == key or (text.startswith(':') and
                           text[1:].strip('"\'') == key)


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
