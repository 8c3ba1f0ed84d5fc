#!/usr/bin/env python3
"""Generate the MPI 5.0 standard-ABI face from our MPICH-ABI header.

    python3 tools/gen-stdabi.py        (from the repository root; needs a C compiler)

Writes:
  include/mpi_abi.h           the standard ABI's header: constants from tools/stdabi/constants.py,
                              prototypes of the standard's functions (reference/mpi-functions.tsv,
                              column in_mpi_5.0_standard) in the spelling of include/mpi.h
  src/abi/std/tables.rs       standard value <-> MPICH value, for every predefined handle and
                              translated constant (MPICH's values read by compiling a probe
                              against include/mpi.h, so the tables follow the header)
  src/abi/std/gen.rs          one wrapper per function whose arguments translate one by one;
                              the others are hand-written in src/abi/std (HAND below)

  src/abi/std/mpich.rs        the extern declarations of the MPICH-ABI implementations, which
                              mpi_fn! exports as OXIMPI_MPICH_PMPI_X in the std-abi build

A wrapper translates each argument by its type and name (the tables below), calls the
MPICH-ABI implementation, and translates outputs and the error code back. Rerun after
changing include/mpi.h.
"""
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'tools', 'stdabi'))
import constants as K  # noqa: E402

HANDLE_TYPES = {
    'MPI_Comm': 'comm', 'MPI_Group': 'group', 'MPI_Datatype': 'dtype', 'MPI_Op': 'op',
    'MPI_Errhandler': 'errh', 'MPI_Request': 'req', 'MPI_Message': 'msg', 'MPI_Info': 'info',
    'MPI_Win': 'win', 'MPI_Session': 'session', 'MPI_File': 'file',
}

# Functions written by hand in src/abi/std (callbacks, arrays of handles or statuses, values
# returned instead of error codes, the ABI queries), or left to another face for now.
HAND = set('''
MPI_Abi_get_version MPI_Abi_get_info MPI_Abi_get_fortran_info MPI_Abi_get_fortran_booleans
MPI_Abi_set_fortran_booleans MPI_Abi_set_fortran_info
MPI_Op_create MPI_Op_create_c MPI_Op_free
MPI_Comm_create_errhandler MPI_Win_create_errhandler MPI_File_create_errhandler
MPI_Session_create_errhandler
MPI_Comm_create_keyval MPI_Type_create_keyval MPI_Win_create_keyval MPI_Keyval_create
MPI_Comm_get_attr MPI_Win_get_attr MPI_Attr_get
MPI_Grequest_start MPI_Register_datarep MPI_Register_datarep_c
MPI_Waitall MPI_Waitany MPI_Waitsome MPI_Testall MPI_Testany MPI_Testsome MPI_Startall
MPI_Request_get_status_all MPI_Request_get_status_any MPI_Request_get_status_some
MPI_Type_create_struct MPI_Type_create_struct_c MPI_Type_get_contents MPI_Type_get_contents_c
MPI_Type_create_darray MPI_Type_create_darray_c
MPI_Alltoallw MPI_Alltoallw_c MPI_Ialltoallw MPI_Ialltoallw_c MPI_Alltoallw_init
MPI_Alltoallw_init_c MPI_Neighbor_alltoallw MPI_Neighbor_alltoallw_c MPI_Ineighbor_alltoallw
MPI_Ineighbor_alltoallw_c MPI_Neighbor_alltoallw_init MPI_Neighbor_alltoallw_init_c
MPI_Comm_spawn_multiple MPI_Group_translate_ranks
MPI_Comm_fromint MPI_Errhandler_fromint MPI_File_fromint MPI_Group_fromint MPI_Info_fromint
MPI_Message_fromint MPI_Op_fromint MPI_Request_fromint MPI_Session_fromint MPI_Type_fromint
MPI_Win_fromint MPI_Comm_toint MPI_Errhandler_toint MPI_File_toint MPI_Group_toint
MPI_Info_toint MPI_Message_toint MPI_Op_toint MPI_Request_toint MPI_Session_toint
MPI_Type_toint MPI_Win_toint
MPI_Pcontrol MPI_Get_version
MPI_Buffer_attach MPI_Buffer_attach_c MPI_Buffer_detach MPI_Buffer_detach_c
MPI_Comm_attach_buffer MPI_Comm_attach_buffer_c MPI_Comm_detach_buffer MPI_Comm_detach_buffer_c
MPI_Session_attach_buffer MPI_Session_attach_buffer_c MPI_Session_detach_buffer
MPI_Session_detach_buffer_c
MPI_T_cvar_handle_alloc MPI_T_pvar_handle_alloc MPI_T_event_handle_alloc MPI_T_event_get_info
MPI_T_event_register_callback MPI_T_event_handle_free MPI_T_event_set_dropped_handler
'''.split())

# Wrappers written to gen_mpit.rs, compiled with the std-abi-mpit feature: in the std-abi
# build abi/mpit.rs still exports the MPICH-face MPI_T functions under their own names
# until its macro follows mpi_fn! (see src/abi/std/mod.rs).
MPIT_PREFIX = 'MPI_T_'
NOT_WRAPPED_PREFIX = ()

# Exported as they are by the MPICH-ABI face in the std-abi build (a #[no_mangle] outside
# the mpi_fn! macros): not wrapped until their files follow the std-abi feature.
NOT_WRAPPED = {'MPI_Pcontrol'}
# By-value int arguments translated by name.
INT_IN = {
    'source': 'rank_in', 'dest': 'rank_in', 'root': 'rank_in', 'target_rank': 'rank_in',
    'rank': 'rank_in', 'local_leader': 'rank_in', 'remote_leader': 'rank_in',
    'tag': 'tag_in', 'sendtag': 'tag_in', 'recvtag': 'tag_in',
    'required': 'thread_in', 'split_type': 'split_type_in', 'lock_type': 'lock_in',
    'assert': 'win_assert_in', 'amode': 'file_mode_in', 'whence': 'seek_in',
    'order': 'order_in', 'typeclass': 'typeclass_in',
    'var_class': 't_pvar_class_in', 'cb_safety': 't_cb_safety_in',
    'keyval': 'keyval_in', 'comm_keyval': 'keyval_in', 'type_keyval': 'keyval_in',
    'win_keyval': 'keyval_in',
}
# ... except in these functions, where the name means something else.
INT_IN_EXCEPT = {
    ('MPI_Intercomm_create', 'tag'): None,   # a real tag: still tag_in (MPI_ANY_TAG invalid)
}
# Error codes passed in.
ERR_IN = {
    ('MPI_Error_class', 'errorcode'), ('MPI_Error_string', 'errorcode'),
    ('MPI_Add_error_code', 'errorclass'), ('MPI_Add_error_string', 'errorcode'),
    ('MPI_Comm_call_errhandler', 'errorcode'), ('MPI_Win_call_errhandler', 'errorcode'),
    ('MPI_File_call_errhandler', 'errorcode'), ('MPI_Session_call_errhandler', 'errorcode'),
    ('MPI_Remove_error_class', 'errorclass'), ('MPI_Remove_error_code', 'errorcode'),
    ('MPI_Remove_error_string', 'errorcode'), ('MPI_Status_set_error', 'error'),
}
# int * outputs translated back, by (function, name) or by name alone.
INT_OUT = {
    'provided': 'thread_out', 'result': 'compare_out', 'combiner': 'combiner_out',
    'verbosity': 't_verbosity_out', 'bind': 't_bind_out', 'scope': 't_scope_out',
    'var_class': 't_pvar_class_out', 'ordering': 't_source_order_out',
    'rank_source': 'rank_out', 'rank_dest': 'rank_out',
    ('MPI_Topo_test', 'status'): 'topo_out',
    ('MPI_File_get_amode', 'amode'): 'file_mode_out',
    ('MPI_Error_class', 'errorclass'): 'err_out',
    ('MPI_Add_error_class', 'errorclass'): 'err_out',
    ('MPI_Add_error_code', 'errorcode'): 'err_out',
    ('MPI_Comm_free_keyval', 'comm_keyval'): 'keyval_out',
    ('MPI_Type_free_keyval', 'type_keyval'): 'keyval_out',
    ('MPI_Win_free_keyval', 'win_keyval'): 'keyval_out',
    ('MPI_Keyval_free', 'keyval'): 'keyval_out',
    ('MPI_Query_thread', 'provided'): 'thread_out',
    ('MPI_Comm_spawn', 'array_of_errcodes'): None,  # arrays: see ERRCODE_ARRAYS

}
# MPI_Status_get_X: after the call has checked the arguments, the field of the user's own
# (standard) status is the answer, exactly as the user stored it.
STATUS_GET = {'MPI_Status_get_source': 'source', 'MPI_Status_get_tag': 'tag',
              'MPI_Status_get_error': 'error'}

# int * in/out arguments whose input is translated too.
INT_INOUT_IN = {
    ('MPI_Comm_free_keyval', 'comm_keyval'): 'keyval_in',
    ('MPI_Type_free_keyval', 'type_keyval'): 'keyval_in',
    ('MPI_Win_free_keyval', 'win_keyval'): 'keyval_in',
    ('MPI_Keyval_free', 'keyval'): 'keyval_in',
}
# Arrays of error codes filled by the call (length from another argument).
ERRCODE_ARRAYS = {('MPI_Comm_spawn', 'array_of_errcodes'): 'maxprocs'}
# Buffers where MPI_IN_PLACE / MPI_BUFFER_AUTOMATIC may appear.
BUF_NAMES = {'buf', 'sendbuf', 'recvbuf', 'inbuf', 'outbuf', 'inoutbuf', 'origin_addr',
             'result_addr', 'compare_addr', 'buffer', 'inbuf'}
# Weight arrays (MPI_UNWEIGHTED, MPI_WEIGHTS_EMPTY).
WEIGHT_NAMES = {'weights', 'sourceweights', 'destweights'}

SCALAR = {'int': 'c_int', 'double': 'f64', 'MPI_Aint': 'isize', 'MPI_Count': 'i64',
          'MPI_Offset': 'i64', 'MPI_Fint': 'c_int', 'char': 'c_char', 'void': 'c_void',
          'MPI_Status': 'st::Status', 'MPI_T_cb_safety': 'c_int', 'MPI_T_source_order': 'c_int',
          'MPI_T_enum': 'usize', 'MPI_T_cvar_handle': 'usize', 'MPI_T_pvar_handle': 'usize',
          'MPI_T_pvar_session': 'usize', 'MPI_T_event_registration': 'usize',
          'MPI_T_event_instance': 'usize'}


# ----------------------------------------------------------------------------------------
# Reading include/mpi.h
# ----------------------------------------------------------------------------------------

def read_prototypes():
    text = open(os.path.join(ROOT, 'include', 'mpi.h')).read()
    text = re.sub(r'/\*.*?\*/', ' ', text, flags=re.S)
    protos = {}
    for m in re.finditer(r'(?m)^([A-Za-z_][\w \*]*?)\b(MPI_\w+)\s*\(([^;{]*?)\)\s*'
                         r'(?:MPICH_\w+(?:\([^)]*\))?\s*)*;', text):
        ret, name, params = m.group(1).strip(), m.group(2), ' '.join(m.group(3).split())
        protos.setdefault(name, (ret, params))
    return protos


def standard_functions():
    rows = [l.rstrip('\n').split('\t') for l in open(os.path.join(ROOT, 'reference',
                                                                  'mpi-functions.tsv'))
            if not l.startswith('#')]
    return [r[0] for r in rows if r[3].strip() == 'yes']


def parse_param(p):
    p = p.strip()
    if p in ('void', ''):
        return None
    if p == '...':
        return {'name': '...', 'base': '...', 'const': False, 'ptr': 0, 'array': False,
                'text': p}
    m = re.match(r'^(.*?)(\w+)\s*((?:\[\s*\d*\s*\])*)$', p)
    head, name, arr = m.group(1), m.group(2), m.group(3)
    const = 'const' in head.split()
    stars = head.count('*')
    base = ' '.join(w for w in head.replace('*', ' ').split() if w != 'const')
    return {'name': name, 'base': base, 'const': const, 'ptr': stars + arr.count('['),
            'array': bool(arr), 'text': p}


def split_params(params):
    return [x for x in (parse_param(p) for p in params.split(',')) if x is not None]


# ----------------------------------------------------------------------------------------
# MPICH's values (probe compiled against include/mpi.h)
# ----------------------------------------------------------------------------------------

def mpich_values(names):
    """MPICH's value of each name that include/mpi.h defines (names it lacks are left out:
    the face treats their standard values as invalid)."""
    names = list(names)
    for _ in range(3):
        src = ['#include <stdio.h>', '#include <stdint.h>', '#include "mpi.h"',
               'int main(void) {']
        for n in names:
            src.append('    printf("%%s %%lld\\n", "%s", (long long)(intptr_t)(%s));' % (n, n))
        src.append('    return 0;\n}')
        with tempfile.TemporaryDirectory() as d:
            c = os.path.join(d, 'probe.c')
            open(c, 'w').write('\n'.join(src) + '\n')
            exe = os.path.join(d, 'probe')
            r = subprocess.run([os.environ.get('CC', 'cc'), '-w', '-I',
                                os.path.join(ROOT, 'include'), c, '-o', exe],
                               capture_output=True, text=True)
            if r.returncode != 0:
                missing = set(re.findall(r"'(MPI_\w+)' undeclared|‘(MPI_\w+)’ undeclared",
                                         r.stderr))
                missing = {a or b for a, b in missing}
                if not missing:
                    sys.exit(r.stderr)
                names = [n for n in names if n not in missing]
                continue
            out = subprocess.check_output([exe]).decode()
        return {a: int(b) for a, b in (l.split() for l in out.splitlines())}
    sys.exit('gen-stdabi: the probe of include/mpi.h does not compile')


def all_translated_names():
    names = [n for kind in K.HANDLES.values() for n, _ in kind if n != 'MPI_FILE_NULL']
    names += [n for n, _ in K.ERROR_CLASSES]
    for _, how, pairs in K.GROUPS:
        if how in ('map', 'bits', 'hand'):
            names += [n for n, _ in pairs]
    for _, pairs in K.TYPED_GROUPS:
        names += [n for n, _ in pairs]
    names += ['MPI_DISTRIBUTE_DFLT_DARG', 'MPI_DISPLACEMENT_CURRENT']
    return names


# ----------------------------------------------------------------------------------------
# include/mpi_abi.h
# ----------------------------------------------------------------------------------------

HEADER_TOP = '''\
/* mpi_abi.h: the MPI 5.0 standard ABI (MPI_ABI_VERSION 1.0) of OxiMPI.
 *
 * Programs compiled against this header run on any MPI library that provides the standard
 * ABI (libmpi_abi.so.1): handles are pointer-sized, and every constant, type and structure
 * layout is the one the MPI 5.0 standard fixes. Build with `mpicc -mpi-abi` or `mpicc_abi`.
 * Written by tools/gen-stdabi.py from tools/stdabi/constants.py and include/mpi.h: edit
 * those, not this file. */
#ifndef MPI_ABI_H_INCLUDED
#define MPI_ABI_H_INCLUDED

#include <stdint.h>

#if defined(__cplusplus)
extern "C" {
#endif

#define MPI_VERSION    5
#define MPI_SUBVERSION 0
#define MPI_ABI_VERSION    1
#define MPI_ABI_SUBVERSION 0
#define OXIMPI_STANDARD_ABI 1

/* Integer types: MPI_Aint is as wide as a pointer; MPI_Offset and MPI_Count are 64 bits. */
typedef intptr_t MPI_Aint;
typedef int64_t MPI_Offset;
typedef int64_t MPI_Count;
typedef int MPI_Fint;

/* MPI_Status: three public fields, then room for the implementation (8 ints in all). */
typedef struct MPI_Status {
    int MPI_SOURCE;
    int MPI_TAG;
    int MPI_ERROR;
    int MPI_internal[5];
} MPI_Status;
'''

HEADER_TYPES = '''
/* Fortran status layout (MPI_Status as MPI_F_STATUS_SIZE Fortran INTEGERs). */
enum { MPI_F_STATUS_SIZE = 8, MPI_F_SOURCE = 0, MPI_F_TAG = 1, MPI_F_ERROR = 2 };

#define MPI_BOTTOM           ((void *)0)
#define MPI_IN_PLACE         ((void *)1)
#define MPI_BUFFER_AUTOMATIC ((void *)2)
#define MPI_ARGV_NULL        ((char **)0)
#define MPI_ARGVS_NULL       ((char ***)0)
#define MPI_ERRCODES_IGNORE  ((int *)0)
#define MPI_STATUS_IGNORE    ((MPI_Status *)0)
#define MPI_STATUSES_IGNORE  ((MPI_Status *)0)
#define MPI_UNWEIGHTED       ((int *)10)
#define MPI_WEIGHTS_EMPTY    ((int *)11)
#define MPI_DISPLACEMENT_CURRENT ((MPI_Offset)-1)

/* Callback types. */
typedef void (MPI_User_function)(void *invec, void *inoutvec, int *len, MPI_Datatype *datatype);
typedef void (MPI_User_function_c)(void *invec, void *inoutvec, MPI_Count *len,
                                   MPI_Datatype *datatype);
typedef int (MPI_Grequest_query_function)(void *extra_state, MPI_Status *status);
typedef int (MPI_Grequest_free_function)(void *extra_state);
typedef int (MPI_Grequest_cancel_function)(void *extra_state, int complete);
typedef int (MPI_Copy_function)(MPI_Comm oldcomm, int keyval, void *extra_state,
                                void *attribute_val_in, void *attribute_val_out, int *flag);
typedef int (MPI_Delete_function)(MPI_Comm comm, int keyval, void *attribute_val,
                                  void *extra_state);
typedef int (MPI_Comm_copy_attr_function)(MPI_Comm oldcomm, int comm_keyval, void *extra_state,
                                          void *attribute_val_in, void *attribute_val_out,
                                          int *flag);
typedef int (MPI_Comm_delete_attr_function)(MPI_Comm comm, int comm_keyval, void *attribute_val,
                                            void *extra_state);
typedef int (MPI_Type_copy_attr_function)(MPI_Datatype oldtype, int type_keyval,
                                          void *extra_state, void *attribute_val_in,
                                          void *attribute_val_out, int *flag);
typedef int (MPI_Type_delete_attr_function)(MPI_Datatype datatype, int type_keyval,
                                            void *attribute_val, void *extra_state);
typedef int (MPI_Win_copy_attr_function)(MPI_Win oldwin, int win_keyval, void *extra_state,
                                         void *attribute_val_in, void *attribute_val_out,
                                         int *flag);
typedef int (MPI_Win_delete_attr_function)(MPI_Win win, int win_keyval, void *attribute_val,
                                           void *extra_state);
typedef int (MPI_Datarep_extent_function)(MPI_Datatype datatype, MPI_Aint *extent,
                                          void *extra_state);
typedef int (MPI_Datarep_conversion_function)(void *userbuf, MPI_Datatype datatype, int count,
                                              void *filebuf, MPI_Offset position,
                                              void *extra_state);
typedef int (MPI_Datarep_conversion_function_c)(void *userbuf, MPI_Datatype datatype,
                                                MPI_Count count, void *filebuf,
                                                MPI_Offset position, void *extra_state);
typedef void (MPI_Comm_errhandler_function)(MPI_Comm *comm, int *error_code, ...);
typedef void (MPI_File_errhandler_function)(MPI_File *file, int *error_code, ...);
typedef void (MPI_Win_errhandler_function)(MPI_Win *win, int *error_code, ...);
typedef void (MPI_Session_errhandler_function)(MPI_Session *session, int *error_code, ...);
typedef MPI_Comm_errhandler_function MPI_Comm_errhandler_fn;
typedef MPI_File_errhandler_function MPI_File_errhandler_fn;
typedef MPI_Win_errhandler_function MPI_Win_errhandler_fn;
typedef MPI_Session_errhandler_function MPI_Session_errhandler_fn;

/* Predefined attribute callbacks: small integers the library recognises. */
#define MPI_NULL_COPY_FN         ((MPI_Copy_function *)0)
#define MPI_DUP_FN               ((MPI_Copy_function *)1)
#define MPI_NULL_DELETE_FN       ((MPI_Delete_function *)0)
#define MPI_COMM_NULL_COPY_FN    ((MPI_Comm_copy_attr_function *)0)
#define MPI_COMM_DUP_FN          ((MPI_Comm_copy_attr_function *)1)
#define MPI_COMM_NULL_DELETE_FN  ((MPI_Comm_delete_attr_function *)0)
#define MPI_TYPE_NULL_COPY_FN    ((MPI_Type_copy_attr_function *)0)
#define MPI_TYPE_DUP_FN          ((MPI_Type_copy_attr_function *)1)
#define MPI_TYPE_NULL_DELETE_FN  ((MPI_Type_delete_attr_function *)0)
#define MPI_WIN_NULL_COPY_FN     ((MPI_Win_copy_attr_function *)0)
#define MPI_WIN_DUP_FN           ((MPI_Win_copy_attr_function *)1)
#define MPI_WIN_NULL_DELETE_FN   ((MPI_Win_delete_attr_function *)0)
#define MPI_CONVERSION_FN_NULL   ((MPI_Datarep_conversion_function *)0)
#define MPI_CONVERSION_FN_NULL_C ((MPI_Datarep_conversion_function_c *)0)

/* The tool information interface. */
typedef struct MPI_T_enum_t *MPI_T_enum;
typedef struct MPI_T_cvar_handle_t *MPI_T_cvar_handle;
typedef struct MPI_T_pvar_handle_t *MPI_T_pvar_handle;
typedef struct MPI_T_pvar_session_t *MPI_T_pvar_session;
typedef struct MPI_T_event_registration_t *MPI_T_event_registration;
typedef struct MPI_T_event_instance_t *MPI_T_event_instance;
#define MPI_T_ENUM_NULL         ((MPI_T_enum)0)
#define MPI_T_CVAR_HANDLE_NULL  ((MPI_T_cvar_handle)0)
#define MPI_T_PVAR_SESSION_NULL ((MPI_T_pvar_session)0)
#define MPI_T_PVAR_HANDLE_NULL  ((MPI_T_pvar_handle)0)
#define MPI_T_PVAR_ALL_HANDLES  ((MPI_T_pvar_handle)1)
@TYPED_GROUPS@
typedef void (MPI_T_event_cb_function)(MPI_T_event_instance event_instance,
                                       MPI_T_event_registration event_registration,
                                       MPI_T_cb_safety cb_safety, void *user_data);
typedef void (MPI_T_event_free_cb_function)(MPI_T_event_registration event_registration,
                                            MPI_T_cb_safety cb_safety, void *user_data);
typedef void (MPI_T_event_dropped_cb_function)(MPI_Count count,
                                               MPI_T_event_registration event_registration,
                                               int source_index, MPI_T_cb_safety cb_safety,
                                               void *user_data);
'''


# Where include/mpi.h keeps MPICH 4.0.2's spelling (its ABI) and the standard's differs only
# in const: the standard-ABI header takes the standard's.
STANDARD_SPELLING = {
    'MPI_Pready_list': ('int array_of_partitions[]', 'const int array_of_partitions[]'),
}


def write_header(protos, funcs):
    out = [HEADER_TOP, '/* Handles: opaque pointers; the predefined ones are small integers. */']
    for ctype, pairs in K.HANDLES.items():
        out.append('typedef struct MPI_ABI_%s *%s;' % (ctype[4:], ctype))
        for name, value in pairs:
            out.append('#define %-30s ((%s)0x%08x)' % (name, ctype, value))
        for kind, alias, target in K.HANDLE_ALIASES:
            if kind == ctype:
                out.append('#define %-30s %s' % (alias, target))
        out.append('')
    out.append('/* Error classes (MPI_ERR_LASTCODE: the last predefined code). */')
    out.append('enum {')
    for name, value in K.ERROR_CLASSES:
        out.append('    %s = %d,' % (name, value))
    out.append('    MPI_ERR_LASTCODE = 0x3fff\n};\n')
    for group, _, pairs in K.GROUPS:
        out.append('/* %s */' % group.replace('_', ' '))
        out.append('enum {')
        out.append(',\n'.join('    %s = %d' % (n, v) for n, v in pairs))
        out.append('};')
    out.append('#define MPI_LONG_LONG_INT_IS_MPI_LONG_LONG 1')
    out.append('')
    out.append('/* String sizes and buffer overhead. */')
    for name, value in K.STRING_SIZES:
        out.append('#define %-32s %d' % (name, value))
    typed = []
    for group, pairs in K.TYPED_GROUPS:
        tname = {'t_cb_safety': 'MPI_T_cb_safety', 't_source_order': 'MPI_T_source_order'}[group]
        typed.append('typedef enum %s {\n%s\n} %s;' % (
            tname, ',\n'.join('    %s = %d' % (n, v) for n, v in pairs), tname))
    out.append(HEADER_TYPES.replace('@TYPED_GROUPS@', '\n'.join(typed)))
    out.append('/* Functions (MPI_X) and their profiling twins (PMPI_X). */')
    for prefix in ('MPI_', 'PMPI_'):
        for f in funcs:
            ret, params = protos[f]
            if f in STANDARD_SPELLING:
                params = params.replace(*STANDARD_SPELLING[f])
            out.append('%s %s%s(%s);' % (ret, prefix, f[4:], params))
        out.append('')
    out.append('''/* The MPI_Wtime / MPI_Wtick / MPI_Aint_add / MPI_Aint_diff functions are real
 * functions in this ABI (no macros), as are the handle conversions MPI_X_toint/fromint. */

#if defined(__cplusplus)
}
#endif
#endif /* MPI_ABI_H_INCLUDED */''')
    text = '\n'.join(out) + '\n'
    # Lines of the prototypes can be long; the header is generated, not read line by line.
    open(os.path.join(ROOT, 'include', 'mpi_abi.h'), 'w').write(text)


# ----------------------------------------------------------------------------------------
# src/abi/std/tables.rs
# ----------------------------------------------------------------------------------------

def write_tables(mv):
    o = ['//! Standard-ABI value <-> MPICH-ABI value, for every predefined handle and every',
         '//! constant the face translates. Generated by tools/gen-stdabi.py from',
         '//! tools/stdabi/constants.py and include/mpi.h: do not edit.',
         '#![allow(unreachable_patterns, dead_code, clippy::match_single_binding)]',
         '', 'use std::os::raw::c_int;', '']
    for ctype, pairs in K.HANDLES.items():
        kind = HANDLE_TYPES[ctype]
        if kind == 'file':
            continue
        o.append('/// `%s`: the standard handle of a predefined MPICH handle, if it is one.' % ctype)
        o.append('pub fn %s_std(h: c_int) -> Option<usize> {' % kind)
        o.append('    Some(match h {')
        for name, value in pairs:
            if name in mv:
                o.append('        %d => 0x%x, // %s' % (mv[name], value, name))
        o.append('        _ => return None,\n    })\n}')
        o.append('/// `%s`: the MPICH handle of a predefined standard handle, if it is one.' % ctype)
        o.append('pub fn %s_mpich(h: usize) -> Option<c_int> {' % kind)
        o.append('    Some(match h {')
        for name, value in pairs:
            if name in mv:
                o.append('        0x%x => %d, // %s' % (value, mv[name], name))
        o.append('        _ => return None,\n    })\n}\n')
    o.append('/// Error class: standard value -> MPICH value.')
    o.append('pub fn class_mpich(c: c_int) -> Option<c_int> {\n    Some(match c {')
    for name, value in K.ERROR_CLASSES:
        o.append('        %d => %d, // %s' % (value, mv[name], name))
    o.append('        _ => return None,\n    })\n}')
    o.append('/// Error class: MPICH value -> standard value.')
    o.append('pub fn class_std(c: c_int) -> Option<c_int> {\n    Some(match c {')
    for name, value in K.ERROR_CLASSES:
        o.append('        %d => %d, // %s' % (mv[name], value, name))
    o.append('        _ => return None,\n    })\n}\n')
    for group, how, pairs in K.GROUPS + [(g, 'map', p) for g, p in K.TYPED_GROUPS]:
        if how == 'map':
            o.append('/// %s: standard value -> MPICH value (others unchanged).' % group)
            o.append('pub fn %s_in(v: c_int) -> c_int {\n    match v {' % group)
            for name, value in pairs:
                o.append('        %d => %d, // %s' % (value, mv[name], name))
            o.append('        _ => v,\n    }\n}')
            o.append('/// %s: MPICH value -> standard value (others unchanged).' % group)
            o.append('pub fn %s_out(v: c_int) -> c_int {\n    match v {' % group)
            for name, value in pairs:
                o.append('        %d => %d, // %s' % (mv[name], value, name))
            o.append('        _ => v,\n    }\n}\n')
        elif how == 'bits':
            o.append('/// %s flags: (standard bit, MPICH bit).' % group)
            o.append('pub const %s_BITS: &[(c_int, c_int)] = &[' % group.upper())
            for name, value in pairs:
                o.append('    (%d, %d), // %s' % (value, mv[name], name))
            o.append('];\n')
    o.append('/// MPICH\'s values of the standard\'s special integers.')
    for name in ('MPI_ANY_SOURCE', 'MPI_ANY_TAG', 'MPI_PROC_NULL', 'MPI_ROOT', 'MPI_UNDEFINED',
                 'MPI_DISTRIBUTE_DFLT_DARG'):
        o.append('pub const MPICH_%s: c_int = %d;' % (name[4:], mv[name]))
    o.append('pub const MPICH_DISPLACEMENT_CURRENT: i64 = %d;' % mv['MPI_DISPLACEMENT_CURRENT'])
    o.append('/// The standard\'s MPI_BSEND_OVERHEAD.')
    o.append('pub const STD_BSEND_OVERHEAD: i32 = %d;' % dict(K.STRING_SIZES)['MPI_BSEND_OVERHEAD'])
    o.append('/// Standard values of the same.')
    for group, how, pairs in K.GROUPS:
        if group == 'rank':
            for name, value in pairs:
                o.append('pub const STD_%s: c_int = %d;' % (name[4:], value))
    for name, value in K.GROUPS[[g[0] for g in K.GROUPS].index('distribute')][2]:
        if name == 'MPI_DISTRIBUTE_DFLT_DARG':
            o.append('pub const STD_DISTRIBUTE_DFLT_DARG: c_int = %d;' % value)
    path = os.path.join(ROOT, 'src', 'abi', 'std', 'tables.rs')
    open(path, 'w').write('\n'.join(o) + '\n')


# ----------------------------------------------------------------------------------------
# src/abi/std/gen.rs
# ----------------------------------------------------------------------------------------

class Skip(Exception):
    pass


def rust_type(p, mpich=False):
    base, ptr = p['base'], p['ptr']
    if base in HANDLE_TYPES:
        t = 'c_int' if mpich and base != 'MPI_File' else 'usize'
    elif mpich and base == 'MPI_Status':
        t = 'Mpich'
    elif base in SCALAR:
        t = SCALAR[base]
    else:
        raise Skip('type %s' % p['text'])
    for i in range(ptr):
        t = ('*const ' if p['const'] and i == ptr - 1 else '*mut ') + t
    return t


def wrapper(f, ret, params):
    """The Rust text of the wrapper of f, or Skip."""
    if ret != 'int':
        raise Skip('returns %s' % ret)
    ps = split_params(params)
    sig, pre, args, post = [], [], [], []
    for p in ps:
        n, base, ptr = p['name'], p['base'], p['ptr']
        if n == '...':
            raise Skip('varargs')
        rn = 'r#' + n if n in ('type', 'in', 'ref', 'match', 'loop') else n
        sig.append('%s: %s' % (rn, rust_type(p)))
        if base in HANDLE_TYPES:
            k = HANDLE_TYPES[base]
            if ptr == 0:
                args.append('h::%s_in(%s)' % (k, rn))
            elif ptr == 1 and not p['array'] and not p['const']:
                mt = 'usize' if k == 'file' else 'c_int'
                pre.append('let mut %s_m: %s = if %s.is_null() { h::%s_in(0) } else { h::%s_in(*%s) };'
                           % (n, mt, rn, k, k, rn))
                args.append('if %s.is_null() { std::ptr::null_mut() } else { &mut %s_m }' % (rn, n))
                post.append('if !%s.is_null() { *%s = h::%s_out(%s_m); }' % (rn, rn, k, n))
            else:
                raise Skip('handle array %s' % p['text'])
        elif base == 'MPI_Status':
            if ptr != 1 or p['array'] or 'statuses' in n:
                raise Skip('status array')
            pre.append('let mut %s_m = st::Mpich::default();' % n)
            pre.append('let %s_p = st::mpich_ptr(%s, &mut %s_m);' % (n, rn, n))
            args.append('%s_p as _' % n)
            if not p['const']:
                keep = 'write_std_keep' if f.startswith('MPI_Status_set_') else 'write_std'
                post.append('st::%s(%s as *mut st::Status, &%s_m);' % (keep, rn, n))
            if f in STATUS_GET:
                field = STATUS_GET[f]
                post.append('if rc == 0 { *%s = (*%s).%s; }' % (field, rn, field))
        elif base == 'MPI_T_pvar_handle' and ptr == 0:
            args.append('v::pvar_handle_in(%s) as _' % rn)
        elif base in ('int', 'MPI_T_cb_safety', 'MPI_T_source_order') and ptr == 0:
            key = (f, n)
            if key in ERR_IN:
                args.append('v::err_in(%s)' % rn)
            elif n in INT_IN:
                args.append('v::%s(%s)' % (INT_IN[n], rn))
            else:
                args.append('%s as _' % rn)
        elif base in ('int', 'MPI_T_source_order') and ptr == 1 and not p['const']:
            conv = INT_OUT.get((f, n), INT_OUT.get(n) if (f, n) not in INT_OUT else None)
            if (f, n) in ERRCODE_ARRAYS:
                post.append('v::errcodes_out(%s, %s);' % (rn, ERRCODE_ARRAYS[(f, n)]))
                args.append('%s as _' % rn)
            elif n in WEIGHT_NAMES:
                args.append('v::weights_in(%s as *const c_int) as *mut c_int' % rn)
            elif conv:
                inconv = INT_INOUT_IN.get((f, n))
                if inconv:
                    pre.append('if !%s.is_null() { *%s = v::%s(*%s); }' % (rn, rn, inconv, rn))
                args.append('%s as _' % rn)
                post.append('if !%s.is_null() { *%s = v::%s(*%s); }' % (rn, rn, conv, rn))
            else:
                args.append('%s as _' % rn)
        elif base == 'int' and ptr == 1 and p['const'] and n in WEIGHT_NAMES:
            args.append('v::weights_in(%s)' % rn)
        elif base == 'void' and ptr == 1 and n in BUF_NAMES:
            args.append('v::buf_in(%s as *const c_void) as _' % rn)
        elif base == 'MPI_Offset' and ptr == 0 and f == 'MPI_File_set_view' and n == 'disp':
            args.append('v::disp_in(%s)' % rn)
        elif base == 'MPI_Offset' and ptr == 1 and f == 'MPI_File_get_view' and n == 'disp':
            args.append('%s as _' % rn)
            post.append('if !%s.is_null() { *%s = v::disp_out(*%s); }' % (rn, rn, rn))
        else:
            args.append('%s as _' % rn)
    pm = 'P' + f
    body = []
    body.extend(pre)
    body.append('let rc = m::%s(%s);' % (pm, ', '.join(args)))
    body.extend(post)
    body.append('v::err_out(rc)')
    sigs = ', '.join(sig)
    names = ', '.join(s.split(':')[0] for s in sig)
    return (
        '#[no_mangle]\npub unsafe extern "C" fn %s(%s) -> c_int {\n'
        '    // SAFETY: the caller passes what the standard-ABI prototype of %s asks for;\n'
        '    // every pointer is handed on unchanged or replaced by one to a local.\n'
        '    unsafe {\n        %s\n    }\n}\n'
        '#[no_mangle]\npub unsafe extern "C" fn %s(%s) -> c_int {\n'
        '    // SAFETY: same contract as %s.\n    unsafe { %s(%s) }\n}\n'
        % (pm, sigs, f, '\n        '.join(body), f, sigs, pm, pm, names))


def mpich_decl(f, ret, params):
    """The extern declaration of the MPICH-ABI implementation of f (symbol
    OXIMPI_MPICH_PMPI_X in the std-abi build: see mpi_fn! in src/abi/mod.rs)."""
    args = []
    for p in split_params(params):
        if p['name'] == '...':
            continue
        n = 'r#' + p['name'] if p['name'] in ('type', 'in', 'ref', 'match', 'loop') else p['name']
        if p['ptr'] > 0 and (p['base'] in HANDLE_TYPES or p['base'] in SCALAR):
            t = rust_type(p, mpich=True)
        elif 'function' in p['base'] or p['base'].endswith('_fn'):
            # A callback: its address.
            t = 'usize'
        elif p['ptr'] > 0:
            t = '*mut c_void'
        elif p['base'] == 'MPI_File':
            t = 'usize'
        elif p['base'] in HANDLE_TYPES:
            t = 'c_int'
        elif p['base'] in SCALAR:
            t = SCALAR[p['base']]
        else:
            # A callback (function pointer type): its address.
            t = 'usize'
        args.append('%s: %s' % (n, t))
    r = {'int': 'c_int', 'double': 'f64', 'MPI_Aint': 'isize', 'MPI_File': 'usize'}.get(ret)
    if r is None:
        r = 'c_int' if ret in HANDLE_TYPES else None
    if r is None:
        raise Skip('return type %s' % ret)
    return ('    #[link_name = "OXIMPI_MPICH_P%s"]\n    pub fn P%s(%s) -> %s;'
            % (f, f, ', '.join(args), r))


def write_gen(protos, funcs):
    o = ['//! The standard-ABI wrappers that translate argument by argument. Generated by',
         '//! tools/gen-stdabi.py from include/mpi.h: do not edit.',
         '#![allow(clippy::all, unused_unsafe, unused_mut, unused_parens, unused_imports)]',
         '', 'use super::handles as h;', 'use super::mpich as m;', 'use super::status as st;',
         'use super::values as v;', 'use std::os::raw::{c_char, c_int, c_void};', '']
    decls = ['//! The MPICH-ABI implementations, by the names mpi_fn! gives them in the std-abi',
             '//! build. Generated by tools/gen-stdabi.py from include/mpi.h: do not edit.',
             '#![allow(clippy::all, dead_code)]', '',
             'use super::status::Mpich;',
             'use std::os::raw::{c_char, c_int, c_void};', '', 'extern "C" {']
    mpit = list(o)
    mpit[0] = '//! The standard-ABI wrappers of the MPI_T functions that translate argument by argument.'
    mpit[1] = '//! Generated by tools/gen-stdabi.py from include/mpi.h: do not edit.'
    done, skipped = [], []
    for f in funcs:
        if f.startswith(NOT_WRAPPED_PREFIX) or f in NOT_WRAPPED or f.startswith('MPI_Abi_'):
            continue
        ret, params = protos[f]
        try:
            decls.append(mpich_decl(f, ret, params))
        except Skip as e:
            skipped.append((f, str(e)))
            continue
        if f in HAND:
            continue
        try:
            (mpit if f.startswith(MPIT_PREFIX) else o).append(wrapper(f, ret, params))
            done.append(f)
        except Skip as e:
            skipped.append((f, str(e)))
    decls.append('}')
    open(os.path.join(ROOT, 'src', 'abi', 'std', 'gen.rs'), 'w').write('\n'.join(o))
    open(os.path.join(ROOT, 'src', 'abi', 'std', 'gen_mpit.rs'), 'w').write('\n'.join(mpit))
    open(os.path.join(ROOT, 'src', 'abi', 'std', 'mpich.rs'), 'w').write('\n'.join(decls) + '\n')
    return done, skipped


def main():
    protos = read_prototypes()
    funcs = standard_functions()
    mv = mpich_values(all_translated_names())
    write_header(protos, funcs)
    write_tables(mv)
    done, skipped = write_gen(protos, funcs)
    # As `cargo fmt` would leave them, so a regeneration shows only real changes.
    subprocess.call(['rustfmt', '--edition', '2021'] +
                    [os.path.join(ROOT, 'src', 'abi', 'std', f)
                     for f in ('gen.rs', 'gen_mpit.rs', 'mpich.rs', 'tables.rs')])
    print('gen-stdabi: %d wrappers generated, %d hand-written or not wrapped'
          % (len(done), len(funcs) - len(done)))
    for f, why in skipped:
        print('  not generated (needs a hand-written wrapper): %s: %s' % (f, why))


if __name__ == '__main__':
    main()
