#!/usr/bin/env python3
"""Self-test of export-check.py: builds small shared libraries and headers with known faults
and checks that each fault is reported (and that a clean case passes).

    python3 tools/test-export-check.py        (needs gcc and nm; about 2 seconds)
"""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CHECK = os.path.join(HERE, 'export-check.py')
HEADER = os.path.join(HERE, '..', 'include', 'mpi.h')
MPICH_PROTO = '/usr/include/x86_64-linux-gnu/mpich/mpi_proto.h'

TSV = """# function\tchapter\tin_mpich\tin_mpi5
MPI_Send\tpt2pt\tyes\tyes
MPI_Send_c\tpt2pt\tyes\tyes
MPI_Recv\tpt2pt\tyes\tyes
MPI_Recv_c\tpt2pt\tyes\tyes
MPI_Barrier\tcoll\tyes\tyes
MPI_Comm_toint\tabi\tno\tyes
"""
DATA = "# data\nMPI_UNWEIGHTED\nMPIR_Dup_fn\n"

failures = 0


def run(tmp, lib_src=None, header=HEADER, extra=()):
    args = [sys.executable, CHECK, '--header', header, '--tsv', os.path.join(tmp, 'f.tsv')]
    if lib_src is not None:
        src, lib = os.path.join(tmp, 'lib.c'), os.path.join(tmp, 'libfake.so')
        with open(src, 'w') as f:
            f.write(lib_src)
        subprocess.run(['gcc', '-shared', '-fPIC', '-w', src, '-o', lib], check=True)
        args += ['--lib', lib]
    proc = subprocess.run(args + list(extra), capture_output=True, text=True)
    return proc.returncode, proc.stdout + proc.stderr


def expect(name, rc, out, want_rc, must=(), must_not=()):
    global failures
    bad = [m for m in must if m not in out] + ['(unexpected) ' + m for m in must_not if m in out]
    if rc != want_rc or bad:
        failures += 1
        print('FAIL %s: exit %d (want %d); missing/unexpected: %s\n%s'
              % (name, rc, want_rc, bad, out))
    else:
        print('ok   %s' % name)


def fn(name):
    return 'int %s(void) { return 0; }\n' % name


def main():
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, 'f.tsv'), 'w') as f:
            f.write(TSV)
        with open(os.path.join(tmp, 'mpich-abi-data-symbols.txt'), 'w') as f:
            f.write(DATA)

        # A clean library: pairs, _c variants and data symbols all present.
        clean = ''.join(fn(p + n) for p in ('MPI_', 'PMPI_')
                        for n in ('Send', 'Send_c', 'Barrier'))
        clean += 'int *const MPI_UNWEIGHTED = 0;\n' + fn('MPIR_Dup_fn')
        rc, out = run(tmp, clean)
        expect('clean library passes', rc, out, 0,
               must=['pt2pt          2/4 ', 'coll           1/1 ', 'total          3/6 '])

        # Each fault on its own.
        rc, out = run(tmp, clean + fn('MPI_Recv'))
        expect('MPI_X without PMPI_X', rc, out, 1,
               must=['exported MPI_X without PMPI_X (1)', '  MPI_Recv\n'])
        rc, out = run(tmp, clean + fn('PMPI_Recv'))
        expect('PMPI_X without MPI_X', rc, out, 1,
               must=['exported PMPI_X without MPI_X (1)', '  PMPI_Recv\n'])
        rc, out = run(tmp, clean + fn('MPI_Recv') + fn('PMPI_Recv'))
        expect('missing _c variant', rc, out, 1,
               must=['MPI_Recv (needs MPI_Recv_c)', 'PMPI_Recv (needs PMPI_Recv_c)'])
        rc, out = run(tmp, clean + fn('MPI_Frobnicate') + fn('PMPI_Frobnicate'))
        expect('not in tsv and no prototype', rc, out, 1,
               must=['exported MPI_ functions not in the tsv (1)',
                     'exported functions without a prototype in the header (2)'])
        rc, out = run(tmp, clean + fn('MPIX_Thing') + fn('PMPIX_Thing'))
        expect('MPIX_ reported, needs prototype', rc, out, 1,
               must=['exported MPIX_ extensions (allowed) (1)', '  MPIX_Thing\n'],
               must_not=['not in the tsv'])
        rc, out = run(tmp, clean.replace('int *const MPI_UNWEIGHTED = 0;\n', ''))
        expect('missing data symbol', rc, out, 1,
               must=['data symbols of the MPICH ABI not exported (1)', '  MPI_UNWEIGHTED'])
        rc, out = run(tmp, fn('foo'))
        expect('no MPI exports: data symbols not required', rc, out, 0,
               must=['total          0/6 '])

        # --list-missing
        rc, out = run(tmp, clean, extra=['--list-missing', 'pt2pt'])
        expect('--list-missing pt2pt', rc, out, 0,
               must=['MPI_Recv\nMPI_Recv_c\n'], must_not=['MPI_Send\n'])
        rc, out = run(tmp, clean, extra=['--list-missing', 'nosuch'])
        expect('--list-missing unknown chapter', rc, out, 1, must=['no chapter'])

        # Header faults, compared with MPICH's prototypes.
        if os.path.exists(MPICH_PROTO):
            text = open(HEADER).read()
            bad = text.replace('int MPI_Send(const void *buf, int count,',
                               'int MPI_Send(void *buf, int count,', 1)
            bad = bad.replace('int MPI_Barrier(MPI_Comm comm);', 'int MPI_Barrier(int comm, int x);', 1)
            bad = bad.replace('int PMPI_Comm_toint(MPI_Comm comm);', '', 1)
            bad = bad.replace('int MPI_Comm_toint(MPI_Comm comm);', '', 1)
            path = os.path.join(tmp, 'mpi.h')
            with open(path, 'w') as f:
                f.write(bad)
            assert bad.count('MPI_Barrier(int comm') == 1, 'test edit did not apply'
            rc, out = run(tmp, header=path, extra=['--mpich-proto', MPICH_PROTO])
            expect('header vs MPICH and tsv', rc, out, 1,
                   must=['prototypes whose types differ from MPICH (1)',
                         'MPI_Barrier\n      ours:  int (int, int)',
                         'prototypes that differ from MPICH in const only (1)',
                         'MPI_Send\n      ours:  int (void*, int,',
                         'tsv functions without a prototype in the header (1)',
                         '  MPI_Comm_toint\n',
                         'header MPI_/PMPI_ prototypes that differ (2)'])
            rc, out = run(tmp, extra=['--mpich-proto', MPICH_PROTO])
            expect('our header is clean', rc, out, 0, must=['0 error(s), 0 warning(s)'])

    print('%d failure(s)' % failures)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
