"""Provenance of the learned tables and constants (shared by tools/train_rhythm and tools/train_key).

Every generated table carries a comment block, after its first line, that says how it was made:

    // provenance: checked by tests/unit/learned_tables_test.cpp (fields present, body sha256 matches)
    // script: tools/train_rhythm/fit_octave_gbdt.py
    // command: --train ... (the script's arguments)
    // data: POP909 songs ..., renders of ../shared/corpus/render.py --per-song 1 --seed ...
    // random seed: ...
    // libraries: python ..., numpy ..., scikit-learn ...
    // date: YYYY-MM-DD ...
    // reproduce: how to check the table (byte-identical or not, and how long it takes)
    // body sha256: SHA-256 of every byte after the '// end of provenance' line
    // end of provenance

A field value longer than a line goes on in lines that start with '//   ' (three spaces). Constants
that live inside analyzer sources (not in a generated file) are described the same way, one block per
constant, in a manifest (src/analyzers/rhythm/learned_constants.provenance), with 'constant:' and
'file:' fields and a 'values sha256': the SHA-256 of the constant's initializer as canonical text (the
comma-separated tokens between '=' and ';' without whitespace and braces, e.g. '0.605,0.44696,...').
"""
import datetime
import hashlib
import os
import re
import subprocess
import sys
import textwrap

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
END = '// end of provenance'
HEAD = '// provenance: checked by tests/unit/learned_tables_test.cpp (fields present, body sha256 matches)'
FIELDS = ('script', 'command', 'data', 'random seed', 'libraries', 'date', 'reproduce')
WIDTH = 116  # clang-format's column limit is 120: the block must survive a format pass unchanged


def sha256(text):
    return hashlib.sha256(text.encode('utf-8')).hexdigest()


def libraries(*modules):
    """'python 3.11.2, numpy 1.24.2, ...' for the modules given by name (as imported now)."""
    out = ['python %s' % sys.version.split()[0]]
    for name in modules:
        mod = sys.modules.get(name) or __import__(name)
        out.append('%s %s' % ({'sklearn': 'scikit-learn'}.get(name, name), getattr(mod, '__version__', '?')))
    return ', '.join(out)


def today():
    return datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d')


def command():
    """The script's arguments, with the home directory written as ~."""
    home = os.path.expanduser('~')
    return ' '.join(a.replace(home, '~') for a in sys.argv[1:])


def script_path():
    return os.path.relpath(os.path.abspath(sys.argv[0]), REPO)


def field_lines(fields):
    lines = []
    for key, value in fields:
        wrapped = textwrap.wrap('%s: %s' % (key, value), WIDTH - 3, subsequent_indent='  ',
                                break_long_words=True, break_on_hyphens=False)
        lines += ['// ' + w for w in wrapped]
    return lines


def clang_format(text, assume_name):
    """The body as clang-format (the repository's .clang-format) writes it."""
    r = subprocess.run(['clang-format', '--assume-filename=' + os.path.join(REPO, assume_name)], input=text,
                       capture_output=True, text=True, cwd=REPO, check=True)
    return r.stdout


def write_table(path, first_line, fields, body):
    """Writes first_line, the provenance block (fields + the body's hash) and the body."""
    missing = [f for f in FIELDS if f not in dict(fields)]
    assert not missing, missing
    lines = [first_line, HEAD] + field_lines(fields) + ['// body sha256: ' + sha256(body), END]
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n' + body)


def canonical_values(initializer):
    """'{0.605, 0.44696,\\n -1.2}' -> '0.605,0.44696,-1.2' (what the manifest's hash is taken of)."""
    return ','.join(t for t in re.sub(r'[\s{}]', '', initializer).split(',') if t)


def update_manifest(path, constant, source_file, fields, values):
    """Replaces (or appends) the block of `constant` in the manifest at path. values: the constant's
    initializer text as the script prints it for pasting into source_file."""
    blocks = []
    if os.path.exists(path):
        with open(path) as f:
            text = f.read()
        head, _, rest = text.partition('\n\n')
        blocks = [b for b in rest.split('\n\n') if b.strip()]
    else:
        head = ('# Provenance of learned constants that live inside analyzer sources (tools/provenance.py).\n'
                '# One block per constant; tests/unit/learned_tables_test.cpp checks the fields and that the\n'
                '# values sha256 matches the constant in its file.')
    mine = '\n'.join(l[3:] for l in field_lines([('constant', constant), ('file', source_file)] + list(fields) +
                                                [('values sha256', sha256(canonical_values(values)))]))
    blocks = [b for b in blocks if not b.startswith('constant: %s\n' % constant)] + [mine]
    with open(path, 'w') as f:
        f.write(head.rstrip('\n') + '\n\n' + '\n\n'.join(b.strip('\n') for b in blocks) + '\n')


def ranges(nums):
    """[201, 202, 203, 210] -> '201-203, 210'."""
    nums, out = sorted(set(nums)), []
    for n in nums:
        if out and n == out[-1][1] + 1:
            out[-1][1] = n
        else:
            out.append([n, n])
    return ', '.join('%d-%d' % (a, b) if a != b else '%d' % a for a, b in out)


def describe_renders(names):
    """Training data from render names 'pop909-NNN-sS-rK...': songs, seeds and the count."""
    songs, seeds = set(), set()
    for n in names:
        parts = os.path.basename(n).split('-')
        songs.add(int(parts[1]))
        seeds.add(int(parts[2][1:]))
    return ('POP909 songs %s (%d songs), ../shared/corpus/render.py --per-song 1 --seed %s: %d renders'
            % (ranges(songs), len(songs), ' and '.join(map(str, sorted(seeds))), len(names)))
