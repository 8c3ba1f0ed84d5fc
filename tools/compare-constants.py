#!/usr/bin/env python3
"""Compare the constants and type layouts of our mpi.h with MPICH's.

Usage: python3 tools/compare-constants.py [--ours include/mpi.h]
                                          [--mpich /usr/include/x86_64-linux-gnu/mpich/mpi.h]
                                          [--cc gcc]

Every object-like MPI_/MPIX_/MPIO_ macro and every MPI_ enumerator of MPICH's header is looked
up in ours. The values are not compared as text: for each header a small C program is compiled
and run that prints every value (integers, handles, pointer constants and string constants)
and the size and field offsets of the ABI types (MPI_Status, MPI_Aint, ...). Macros whose
value is the address of a function (MPI_DUP_FN, ...) are compared by their expansion.

Exit status 1 if a constant of MPICH is missing from ours or has another value, or a layout
differs. Constants only we define are listed for information.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

NAME_RE = re.compile(r'^(MPI|MPIX|MPIO)_[A-Za-z0-9_]+$')

# Names whose value is (or involves) the address of a function: compared by expansion.
FUNCTION_VALUED = {'MPI_DUP_FN', 'MPI_COMM_DUP_FN', 'MPI_TYPE_DUP_FN', 'MPI_WIN_DUP_FN'}

# Names that MPICH defines but that are not constants (macros for types or functions, and
# include guards of headers we do not have).
NOT_VALUES = {'MPIO_Request', 'MPIO_Wait', 'MPIO_Test', 'MPIO_INCLUDE', 'MPI_PROTO_H_INCLUDED'}

# Deliberate differences, each explained in include/mpi.h. Reported, but not failures.
INTENTIONAL = {
    'MPI_SUBVERSION': 'we implement MPI 4.1, MPICH 4.0.2 implements 4.0',
    'MPIX_COMM_TYPE_NEIGHBORHOOD': 'MPI 4.1 gave 4 to MPI_COMM_TYPE_RESOURCE_GUIDED; '
                                   'later MPICH moved this to 5',
}

LAYOUT_EXPRS = [
    'sizeof(MPI_Aint)', 'sizeof(MPI_Count)', 'sizeof(MPI_Offset)', 'sizeof(MPI_Fint)',
    'sizeof(MPI_Comm)', 'sizeof(MPI_Datatype)', 'sizeof(MPI_File)', 'sizeof(MPI_Status)',
    'offsetof(MPI_Status, count_lo)', 'offsetof(MPI_Status, count_hi_and_cancelled)',
    'offsetof(MPI_Status, MPI_SOURCE)', 'offsetof(MPI_Status, MPI_TAG)',
    'offsetof(MPI_Status, MPI_ERROR)', 'sizeof(MPI_F08_status)',
    'sizeof(MPI_T_enum)', 'sizeof(enum MPIR_Combiner_enum)',
]


def macros(cc, header):
    """Object-like macros defined after including `header`: name -> expansion."""
    inc = os.path.dirname(os.path.abspath(header))
    out = subprocess.run([cc, '-dM', '-E', '-DMPICH_SKIP_MPICXX', '-I', inc, '-x', 'c', '-'],
                         input='#include "%s"\n' % os.path.abspath(header),
                         capture_output=True, text=True, check=True).stdout
    result = {}
    for line in out.splitlines():
        m = re.match(r'#define (\w+)(\(?)\s*(.*)$', line)
        if m and not m.group(2):
            result[m.group(1)] = m.group(3).strip()
    return result


def enumerators(cc, header):
    """Enumerator names declared by `header`."""
    inc = os.path.dirname(os.path.abspath(header))
    text = subprocess.run([cc, '-E', '-P', '-DMPICH_SKIP_MPICXX', '-I', inc, '-x', 'c', '-'],
                          input='#include "%s"\n' % os.path.abspath(header),
                          capture_output=True, text=True, check=True).stdout
    names = set()
    for tag, body in re.findall(r'\benum\b([^{;]*)\{([^}]*)\}', text):
        if 'QMPI' in tag:  # MPICH's QMPI function table: not part of our interface
            continue
        for item in body.split(','):
            name = item.split('=')[0].strip()
            if name:
                names.add(name)
    return names


def values(cc, header, names):
    """Compile and run a program printing each name's value; returns name -> printed value."""
    lines = ['#include <stdio.h>', '#include <stddef.h>', '#include <stdint.h>',
             '#include "%s"' % os.path.abspath(header), 'int main(void) {']
    for name, kind in names:
        if kind == 'flag':  # defined empty: presence is all there is to compare
            continue
        if kind == 'string':
            lines.append('    printf("%%s=\\"%%s\\"\\n", "%s", %s);' % (name, name))
        elif kind == 'pointer':
            lines.append('    printf("%%s=%%lld\\n", "%s", (long long)(intptr_t)(%s));'
                         % (name, name))
        else:
            lines.append('    printf("%%s=%%lld\\n", "%s", (long long)(%s));' % (name, name))
    for expr in LAYOUT_EXPRS:
        lines.append('    printf("%%s=%%lld\\n", "%s", (long long)(%s));' % (expr, expr))
    lines += ['    return 0;', '}']
    inc = os.path.dirname(os.path.abspath(header))
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, 'v.c')
        exe = os.path.join(tmp, 'v')
        with open(src, 'w') as f:
            f.write('\n'.join(lines) + '\n')
        subprocess.run([cc, '-w', '-DMPICH_SKIP_MPICXX', '-I', inc, src, '-o', exe], check=True)
        out = subprocess.run([exe], capture_output=True, text=True, check=True).stdout
    return dict(line.split('=', 1) for line in out.splitlines())


def kind_of(expansion):
    if expansion == '':
        return 'flag'
    if expansion.startswith('"'):
        return 'string'
    if '*' in expansion or 'NULL' in expansion:
        return 'pointer'
    return 'int'


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument('--ours', default=os.path.join(here, '..', 'include', 'mpi.h'))
    ap.add_argument('--mpich', default='/usr/include/x86_64-linux-gnu/mpich/mpi.h')
    ap.add_argument('--cc', default='gcc')
    args = ap.parse_args()

    theirs_m, ours_m = macros(args.cc, args.mpich), macros(args.cc, args.ours)
    theirs_e, ours_e = enumerators(args.cc, args.mpich), enumerators(args.cc, args.ours)
    theirs = {n for n in theirs_m if NAME_RE.match(n)} | {n for n in theirs_e if NAME_RE.match(n)}
    ours = {n for n in ours_m if NAME_RE.match(n)} | {n for n in ours_e if NAME_RE.match(n)}
    theirs -= NOT_VALUES
    ours -= NOT_VALUES

    errors = []
    missing = sorted(theirs - ours)
    for n in missing:
        errors.append('missing in ours: %s (MPICH: %s)' % (n, theirs_m.get(n, 'enumerator')))

    common = sorted((theirs & ours) - FUNCTION_VALUED)
    for n in sorted((theirs & ours) & FUNCTION_VALUED):
        if theirs_m[n].replace(' ', '') != ours_m[n].replace(' ', ''):
            errors.append('%s: MPICH %s, ours %s' % (n, theirs_m[n], ours_m[n]))

    def kinds(m):
        # enumerators are not macros: they are ints
        return [(n, kind_of(m[n]) if n in m else 'int') for n in common]
    tv = values(args.cc, args.mpich, kinds(theirs_m))
    ov = values(args.cc, args.ours, kinds(theirs_m))
    notes = []
    for key in tv:
        if tv[key] != ov.get(key) and key in INTENTIONAL:
            notes.append('%s: MPICH %s, ours %s (intentional: %s)'
                         % (key, tv[key], ov.get(key), INTENTIONAL[key]))
        elif tv[key] != ov.get(key):
            errors.append('%s: MPICH %s, ours %s' % (key, tv[key], ov.get(key)))

    extra = sorted(ours - theirs)
    print('compared %d constants and %d layout facts; %d only in ours:'
          % (len(common), len(LAYOUT_EXPRS), len(extra)))
    for n in extra:
        print('  + %s = %s' % (n, ours_m.get(n, 'enumerator')))
    for n in notes:
        print('  ' + n)
    if errors:
        print('%d difference(s):' % len(errors))
        for e in errors:
            print('  ' + e)
        return 1
    print('OK: every MPICH constant has the same value and every layout matches')
    return 0


if __name__ == '__main__':
    sys.exit(main())
