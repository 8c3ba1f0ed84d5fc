#!/usr/bin/env python3
"""Check the library's exported MPI functions against our header, MPICH's header and the
list of MPI functions (mpi-functions.tsv), and print coverage per chapter.

    python3 tools/export-check.py --lib target/release/libmpi.so --header include/mpi.h \\
        --tsv reference/mpi-functions.tsv \\
        [--mpich-proto /usr/include/x86_64-linux-gnu/mpich/mpi_proto.h] \\
        [--data-symbols reference/mpich-abi-data-symbols.txt] \\
        [--list-missing CHAPTER|all]

Errors (exit status 1), each offender listed:
  * an exported MPI_X without PMPI_X, or PMPI_X without MPI_X;
  * an exported function without a prototype (or function-like macro) in the header;
  * an exported MPI_ function that the tsv does not list (MPIX_ names and the MPI 6 draft's
    ULFM names, ULFM_DRAFT, are reported only);
  * an exported function whose tsv row has an _c variant that is not exported;
  * a data symbol MPICH's header refers to that is not exported (checked once the library
    exports at least one MPI function);
  * with --mpich-proto: an MPIX_ or PMPIX_ function of MPICH's header that is not exported
    (MPIX_ names are not in the tsv; the 676 count is of MPI_ functions only);
  * a header prototype whose return or parameter types differ from MPICH's (a difference in
    const only is a warning: MPI 4 added const in places);
  * a tsv function without a prototype in the header, or a header MPI_ prototype without
    its PMPI_ twin (or with another signature).
Without --lib only the header checks run. Headers are read through the C preprocessor
(--cc, default gcc) when one is available, so conditional blocks and macros count as a
compiler sees them; otherwise they are parsed as text.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

# MPI functions of the standard that the tsv does not list but a library may export:
# the Fortran-2008 status conversions, and the handle conversions that MPICH's header
# defines as macros (MPI 4.1 defines them as functions). Exporting them is not an error.
STANDARD_NOT_IN_TSV = {
    'MPI_Status_f082c', 'MPI_Status_c2f08', 'MPI_Status_f082f', 'MPI_Status_f2f08',
} | {'MPI_%s_%s' % (obj, way)
     for obj in ('Comm', 'Type', 'Group', 'Info', 'Request', 'Op', 'Errhandler', 'Win',
                 'Message', 'Session')
     for way in ('c2f', 'f2c')}

# ULFM's names in the MPI 6 draft (fault tolerance), which mpi4py uses when they exist; an
# extension beyond MPI 4.1, like the MPIX_ names: not in the tsv, not counted in the 676.
ULFM_DRAFT = {'MPI_Comm_%s' % f for f in (
    'revoke', 'is_revoked', 'get_failed', 'ack_failed', 'agree', 'iagree', 'shrink',
    'ishrink')}

C_TYPE_WORDS = {'void', 'char', 'short', 'int', 'long', 'float', 'double', 'signed',
                'unsigned', '_Bool', 'const', 'volatile', 'struct', 'enum', 'union'}

# Attribute macros that may follow a prototype when a header is read as text.
ATTRIBUTE_MACROS = re.compile(
    r'\b(MPICH_API_PUBLIC|ROMIO_API_PUBLIC|MPICH_ATTR_POINTER_WITH_TYPE_TAG\s*\([^)]*\)|'
    r'__attribute__\s*\(\(.*?\)\))')

# Type spellings that name the same type (ROMIO's request alias).
TYPE_ALIASES = {'MPIO_Request': 'MPI_Request'}


# ----------------------------------------------------------------------------------------
# Reading headers
# ----------------------------------------------------------------------------------------

def strip_comments(text):
    text = re.sub(r'/\*.*?\*/', ' ', text, flags=re.S)
    return re.sub(r'//[^\n]*', ' ', text)


def preprocess(cc, header):
    """The header as the compiler sees it, or None when no compiler is available."""
    if not cc or not shutil.which(cc):
        return None
    inc = os.path.dirname(os.path.abspath(header))
    proc = subprocess.run([cc, '-E', '-P', '-DMPICH_SKIP_MPICXX', '-I', inc, '-x', 'c', '-'],
                          input='#include "%s"\n' % os.path.abspath(header),
                          capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit('error: %s cannot preprocess %s:\n%s' % (cc, header, proc.stderr))
    return proc.stdout


def function_macros(cc, header):
    """Names of function-like macros (MPI_Comm_c2f, ...) the header defines."""
    names = set()
    if cc and shutil.which(cc):
        inc = os.path.dirname(os.path.abspath(header))
        out = subprocess.run([cc, '-dM', '-E', '-DMPICH_SKIP_MPICXX', '-I', inc, '-x', 'c', '-'],
                             input='#include "%s"\n' % os.path.abspath(header),
                             capture_output=True, text=True).stdout
    else:
        out = open(header).read()
    for m in re.finditer(r'^\s*#\s*define\s+(P?MPIX?_\w+)\(', out, flags=re.M):
        names.add(m.group(1))
    return names


def split_top(text, sep):
    """Split on `sep` outside parentheses and brackets."""
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch in '([':
            depth += 1
        elif ch in ')]':
            depth -= 1
        if ch == sep and depth == 0:
            parts.append(''.join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append(''.join(cur))
    return parts


def prototypes(text):
    """Function declarations in C source text: name -> (return type, [parameter types])."""
    text = strip_comments(text)
    text = '\n'.join(l for l in text.split('\n') if not l.lstrip().startswith('#'))
    # extern "C" { ... } wraps declarations: keep them (the unmatched closing brace left
    # behind is harmless). Then drop struct and enum bodies: their members are not
    # declarations.
    text = re.sub(r'extern\s+"C"\s*\{', ' ', text)
    while True:
        new = re.sub(r'\{[^{}]*\}', ' ', text)
        if new == text:
            break
        text = new
    result = {}
    for decl in text.split(';'):
        decl = ATTRIBUTE_MACROS.sub(' ', ' '.join(decl.split())).strip()
        m = re.match(r'^(.*?)\b(P?MPIX?_\w+|MPIR_Dup_fn)\s*\((.*)\)$', decl)
        if not m:
            continue
        ret, name, params = m.group(1).strip(), m.group(2), m.group(3)
        if not ret or re.search(r'\b(typedef|extern)\b', ret) or '(' in ret:
            continue
        ret = re.sub(r'\bextern\b', '', ret).strip()
        # The first declaration wins: read as text, a header may also contain declarations
        # in blocks the preprocessor would skip (MPICH's mpio.h has such fallbacks).
        result.setdefault(name, (normalise_type(ret),
                                 [normalise_param(p) for p in split_params(params)]))
    return result


def split_params(params):
    params = params.strip()
    if params in ('', 'void'):
        return []
    return [p.strip() for p in split_top(params, ',')]


def normalise_type(t):
    for alias, real in TYPE_ALIASES.items():
        t = re.sub(r'\b%s\b' % alias, real, t)
    t = re.sub(r'\s*\*\s*', '*', t)
    return ' '.join(t.split()).replace(' *', '*')


def normalise_param(p):
    """A parameter's type without its name: 'const int counts[]' -> 'const int*'."""
    if '(' in p:  # function pointer: drop the name inside (*name)
        p = re.sub(r'\(\s*\*\s*\w*\s*\)', '(*)', p)
        return normalise_type(re.sub(r'\s+', ' ', p))
    tokens = re.findall(r'[A-Za-z_]\w*|\*|\[[^\]]*\]|\.\.\.', p)
    idents = [i for i, t in enumerate(tokens) if re.match(r'[A-Za-z_]', t)]
    # The last identifier is a name when another non-qualifier identifier comes before it,
    # it is not a basic type word, and it is not the tag of a struct/enum.
    if idents:
        last = idents[-1]
        before = [tokens[i] for i in idents[:-1] if tokens[i] not in ('const', 'volatile')]
        if (before and tokens[last] not in C_TYPE_WORDS
                and tokens[last - 1] not in ('struct', 'enum', 'union')):
            del tokens[last]
    # The first array dimension decays to a pointer; inner dimensions stay.
    out, decayed = [], False
    for t in tokens:
        if t.startswith('['):
            if not decayed:
                out.append('*')
                decayed = True
            else:
                out.append(t.replace(' ', ''))
        else:
            out.append(t)
    return normalise_type(' '.join(out))


def without_const(sig):
    ret, params = sig
    strip = lambda t: normalise_type(re.sub(r'\bconst\b', ' ', t))
    return strip(ret), [strip(p) for p in params]


def render(sig):
    return '%s (%s)' % (sig[0], ', '.join(sig[1]) or 'void')


def read_header(cc, path):
    text = preprocess(cc, path)
    return prototypes(text if text is not None else open(path).read())


def read_mpich(cc, proto_path):
    """MPICH's prototypes: through its mpi.h (which includes mpi_proto.h and mpio.h) when a
    compiler is available, else the text of mpi_proto.h and mpio.h."""
    d = os.path.dirname(os.path.abspath(proto_path))
    mpi_h = os.path.join(d, 'mpi.h')
    if cc and shutil.which(cc) and os.path.exists(mpi_h):
        return prototypes(preprocess(cc, mpi_h))
    text = open(proto_path).read()
    mpio = os.path.join(d, 'mpio.h')
    if os.path.exists(mpio):
        text += '\n' + open(mpio).read()
    protos = prototypes(text)
    # mpi_proto.h declares MPI_DUP_FN, a macro for MPIR_Dup_fn
    if 'MPI_DUP_FN' in protos:
        protos['MPIR_Dup_fn'] = protos.pop('MPI_DUP_FN')
    return protos


# ----------------------------------------------------------------------------------------
# Reading the library and the reference lists
# ----------------------------------------------------------------------------------------

def exports(lib):
    """(functions, all defined symbols) exported by the shared library."""
    proc = subprocess.run(['nm', '-D', '--defined-only', lib], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit('error: nm cannot read %s: %s' % (lib, proc.stderr.strip()))
    functions, symbols = set(), set()
    for line in proc.stdout.splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        kind, name = parts[-2], parts[-1].split('@')[0]
        symbols.add(name)
        if kind in 'TtWwi' and not re.fullmatch(r'P?MPIX?_[A-Z0-9_]*', name):
            functions.add(name)
    return functions, symbols


def read_tsv(path, standard_only=False):
    """Ordered {function: chapter} from mpi-functions.tsv; with standard_only, only the
    functions of the MPI 5.0 standard (its last column), which is what the standard ABI's
    library must export (the MPICH ABI also has functions MPI 4 removed)."""
    chapters = {}
    for line in open(path):
        if line.startswith('#') or not line.strip():
            continue
        fields = line.rstrip('\n').split('\t')
        if standard_only and fields[-1] != 'yes':
            continue
        chapters[fields[0]] = fields[1]
    return chapters


def read_list(path):
    return [l.strip() for l in open(path) if l.strip() and not l.startswith('#')]


# ----------------------------------------------------------------------------------------
# The checks
# ----------------------------------------------------------------------------------------

class Report:
    def __init__(self):
        self.errors, self.warnings = 0, 0

    def section(self, title, items, kind):
        if not items:
            return
        print('\n%s: %s (%d)' % (kind.upper(), title, len(items)))
        for item in items:
            print('  ' + item)
        if kind == 'error':
            self.errors += len(items)
        elif kind == 'warning':
            self.warnings += len(items)


def mpi_name(name):
    return name[1:] if name.startswith('PMPI') else name


def check_library(rep, funcs, symbols, header, macros, tsv, data_symbols):
    mpi = {f for f in funcs if re.match(r'P?MPIX?_', f)}
    base = {f for f in mpi if not f.startswith('P')}
    prof = {f[1:] for f in mpi if f.startswith('P')}
    rep.section('exported MPI_X without PMPI_X', sorted(base - prof), 'error')
    rep.section('exported PMPI_X without MPI_X', sorted('P' + f for f in prof - base), 'error')
    rep.section('exported functions without a prototype in the header',
                sorted(f for f in mpi if f not in header and f not in macros), 'error')
    rep.section('exported MPI_ functions not in the tsv',
                sorted(f for f in base if f.startswith('MPI_') and f not in tsv
                       and f not in STANDARD_NOT_IN_TSV and f not in ULFM_DRAFT), 'error')
    rep.section('exported MPI 6 draft ULFM functions (allowed, beyond the 676)',
                sorted(f for f in base if f in ULFM_DRAFT), 'info')
    rep.section('exported standard functions the tsv does not list (allowed)',
                sorted(f for f in base if f in STANDARD_NOT_IN_TSV), 'info')
    rep.section('exported MPIX_ extensions (allowed)',
                sorted(f for f in base if f.startswith('MPIX_')), 'info')
    rep.section('exported functions whose large-count _c variant is not exported',
                sorted('%s (needs %s_c)' % (f, f) for f in mpi
                       if mpi_name(f) in tsv and mpi_name(f) + '_c' in tsv
                       and f + '_c' not in mpi), 'error')
    if any(f.startswith('MPI_') for f in base):
        rep.section('data symbols of the MPICH ABI not exported',
                    [s for s in data_symbols if s not in symbols], 'error')


def check_header(rep, header, macros, tsv, mpich):
    rep.section('tsv functions without a prototype in the header',
                [f for f in tsv if f not in header and f not in macros], 'error')
    twins, differ = [], []
    for name, sig in sorted(header.items()):
        if name.startswith('MPI_'):
            if 'P' + name not in header and 'P' + name not in macros:
                twins.append(name)
            elif 'P' + name in header and header['P' + name] != sig:
                differ.append('%s: %s vs %s' % (name, render(sig), render(header['P' + name])))
    rep.section('header MPI_ prototypes without a PMPI_ prototype', twins, 'error')
    rep.section('header MPI_/PMPI_ prototypes that differ', differ, 'error')
    if mpich is None:
        return
    errors, warnings = [], []
    for name in sorted(set(header) & set(mpich)):
        ours, theirs = header[name], mpich[name]
        if ours == theirs:
            continue
        line = '%s\n      ours:  %s\n      MPICH: %s' % (name, render(ours), render(theirs))
        (warnings if without_const(ours) == without_const(theirs) else errors).append(line)
    rep.section('prototypes whose types differ from MPICH', errors, 'error')
    rep.section('prototypes that differ from MPICH in const only', warnings, 'warning')
    print('\ncompared %d prototypes with MPICH\'s; %d of ours are not in MPICH\'s header'
          % (len(set(header) & set(mpich)), len(set(header) - set(mpich))))


def coverage(funcs, tsv):
    chapters = {}
    for name, chapter in tsv.items():
        total, done = chapters.get(chapter, (0, 0))
        chapters[chapter] = (total + 1, done + (name in funcs))
    print('\n%-10s %11s %8s' % ('chapter', 'exported', 'percent'))
    all_total = all_done = 0
    for chapter in sorted(chapters):
        total, done = chapters[chapter]
        all_total += total
        all_done += done
        print('%-10s %5d/%-5d %7.1f%%' % (chapter, done, total, 100.0 * done / total))
    print('%-10s %5d/%-5d %7.1f%%' % ('total', all_done, all_total,
                                        100.0 * all_done / max(all_total, 1)))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--lib', help='the shared library (libmpi.so); omit for header checks only')
    ap.add_argument('--header', default=os.path.join(here, '..', 'include', 'mpi.h'))
    ap.add_argument('--tsv', required=True, help='mpi-functions.tsv')
    ap.add_argument('--mpich-proto', help="MPICH's mpi_proto.h (mpio.h is read beside it)")
    ap.add_argument('--data-symbols',
                    help='data symbols that must be exported (default: '
                         'mpich-abi-data-symbols.txt beside the tsv)')
    ap.add_argument('--list-missing', metavar='CHAPTER',
                    help='print the tsv functions of CHAPTER (or "all") that the library '
                         'does not export, and exit')
    ap.add_argument('--cc', default='gcc', help='C compiler used as preprocessor')
    ap.add_argument('--standard-only', action='store_true',
                    help='check against the MPI 5.0 standard\'s functions only (the standard '
                         'ABI library, libmpi_abi.so.1, with --header include/mpi_abi.h); no '
                         'MPICH data symbols are expected')
    args = ap.parse_args()

    tsv = read_tsv(args.tsv, args.standard_only)
    funcs, symbols = exports(args.lib) if args.lib else (set(), set())

    if args.list_missing:
        if args.list_missing != 'all' and args.list_missing not in set(tsv.values()):
            sys.exit('error: no chapter %r; chapters: %s'
                     % (args.list_missing, ' '.join(sorted(set(tsv.values())))))
        for name, chapter in tsv.items():
            if args.list_missing in ('all', chapter) and name not in funcs:
                print(name if args.list_missing != 'all' else '%s\t%s' % (name, chapter))
        return 0

    header = read_header(args.cc, args.header)
    macros = function_macros(args.cc, args.header)
    mpich = read_mpich(args.cc, args.mpich_proto) if args.mpich_proto else None
    data_path = args.data_symbols or os.path.join(os.path.dirname(args.tsv),
                                                  'mpich-abi-data-symbols.txt')
    data_symbols = read_list(data_path) if os.path.exists(data_path) else []
    if args.standard_only:
        data_symbols = []

    rep = Report()
    print('header %s: %d prototypes, %d function-like macros'
          % (args.header, len(header), len(macros)))
    if args.lib:
        mpi_funcs = [f for f in funcs if re.match(r'P?MPIX?_', f)]
        print('library %s: %d MPI functions exported (%d MPI_, %d PMPI_)'
              % (args.lib, len(mpi_funcs), sum(f.startswith('MPI') for f in mpi_funcs),
                 sum(f.startswith('PMPI') for f in mpi_funcs)))
        check_library(rep, funcs, symbols, header, macros, tsv, data_symbols)
        if mpich is not None:
            # MPICH's MPIX_ extensions are not in the tsv: checked against its header.
            want = sorted(f for f in mpich if re.match(r'P?MPIX_', f))
            rep.section("MPICH's MPIX_/PMPIX_ functions not exported",
                        [f for f in want if f not in funcs], 'error')
            print("MPICH's MPIX_ functions: %d of %d exported (with PMPIX_ twins)"
                  % (sum(f in funcs for f in want if f.startswith('MPIX_')),
                     sum(f.startswith('MPIX_') for f in want)))
    check_header(rep, header, macros, tsv, mpich)
    if args.lib:
        coverage(funcs, tsv)
    print('\n%d error(s), %d warning(s)' % (rep.errors, rep.warnings))
    return 1 if rep.errors else 0


if __name__ == '__main__':
    sys.exit(main())
