#!/usr/bin/env python3
"""Generates the Fortran face of OxiMPI from include/mpi.h (issue 17).

Writes:
  src/abi/fortran/generated.rs  the `use mpi` / mpif.h bindings (MPICH's libmpifort ABI) of
                                every function whose arguments follow the regular rules; the
                                special cases are written by hand in the other modules of src/abi/fortran
  include/mpif.h                the constants with MPICH's values, fixed/free form compatible
  fortran/mpi_interfaces.h      explicit interfaces of the `mpi` module for the routines
                                without choice buffers (as MPICH's `use mpi` has them)

    tools/gen-fortran.py            regenerate both files
    tools/gen-fortran.py --check    exit 1 if either file is out of date (run by tests-f)
    tools/gen-fortran.py --interface-probe FILE
                                write a program calling every interfaced routine with
                                arguments of our interfaces' types, to compile against
                                MPICH's mpi.mod (its interfaces must accept the same calls)
    tools/gen-fortran.py --f08-probe FILE [SYMBOLS]
                                the same for mpi_f08 (every subroutine without procedure
                                arguments; SYMBOLS: only the specific procedures listed,
                                e.g. those of MPICH's libmpichfort.so.12)
    tools/gen-fortran.py --compare-mpich [mpif.h]
                                    check every PARAMETER of MPICH's mpif.h against ours
    tools/gen-fortran.py --coverage [BUILD_LIB]
                                the Fortran bindings of reference/mpi-functions.tsv that
                                build/lib exports: `use mpi`/mpif.h (mpi_x_ and pmpi_x_),
                                `use mpi_f08` (its specific procedures) and the f08 `_c`
                                forms; lists what is missing, exits 1 if anything is

Rules of the MPICH Fortran ABI (gfortran): every argument by reference, handles are the C
integers, CHARACTER arguments carry a hidden size_t length appended after all the others,
`ierror` is the last argument, MPI_Status is the C struct seen as INTEGER(5), LOGICAL is an
INTEGER (gfortran: .TRUE. = 1), MPI_File goes through MPI_File_f2c/c2f, and the special
addresses (MPI_BOTTOM, MPI_IN_PLACE, MPI_STATUS(ES)_IGNORE, MPI_UNWEIGHTED, ...) are the
addresses of COMMON block members that the glue maps to the C values.
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_fortran_f08 as f08  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEADER = os.path.join(ROOT, "include", "mpi.h")
OUT_RS = os.path.join(ROOT, "src", "abi", "fortran", "generated.rs")
OUT_MPIF = os.path.join(ROOT, "include", "mpif.h")
OUT_IFACE = os.path.join(ROOT, "fortran", "mpi_interfaces.h")
MPICH_MPIF = "/usr/include/x86_64-linux-gnu/mpich/mpif.h"

# Written by hand in src/abi/fortran/ beside generated.rs (callbacks, attributes, argv, index bases,
# functions returning a value, length conventions of their own).
HAND = {
    "init", "init_thread", "wtime", "wtick", "aint_add", "aint_diff", "pcontrol",
    "comm_create_keyval", "type_create_keyval", "win_create_keyval", "keyval_create",
    "comm_set_attr", "type_set_attr", "win_set_attr", "attr_put",
    "comm_get_attr", "type_get_attr", "win_get_attr", "attr_get",
    "op_create", "comm_create_errhandler", "win_create_errhandler",
    "file_create_errhandler", "session_create_errhandler", "errhandler_create",
    "grequest_start", "register_datarep", "register_datarep_c",
    "comm_spawn", "comm_spawn_multiple",
    "waitany", "testany", "waitsome", "testsome",
    "request_get_status_any", "request_get_status_some",
    "address", "type_extent", "type_lb", "type_ub", "type_hvector", "type_hindexed",
    "type_struct",
    "info_create_env", "info_get", "info_get_string", "session_get_nth_pset", "info_get_valuelen", "errhandler_create",
}

# Functions of mpi.h with no Fortran binding: the C/Fortran interoperability helpers, the
# large-count `_c` forms (Fortran reaches them through mpi_f08 only), the tool interface,
# and the ABI-introspection functions of MPI 5.
def has_fortran_binding(name):
    if name.endswith("_c") or name.startswith("t_") or name.startswith("abi_"):
        return False
    if re.search(r"(c2f|f2c|toint|fromint|f082c|f082f|f2f08|c2f08)$", name):
        return False
    return True


SCALAR_INT = {"int", "MPI_Comm", "MPI_Datatype", "MPI_Group", "MPI_Op", "MPI_Errhandler",
              "MPI_Info", "MPI_Request", "MPI_Win", "MPI_Message", "MPI_Session",
              "MPIX_Grequest_class", "MPI_Fint"}
SCALAR_I64 = {"MPI_Aint", "MPI_Offset", "MPI_Count"}
# void * arguments that are not choice buffers.
NOT_BUFFER = {"baseptr", "buffer_addr"}
RUST_KEYWORDS = {"type", "ref", "in", "fn", "match", "loop", "move", "impl", "self", "use",
                 "where", "mod", "box", "const", "static", "struct", "enum", "trait"}


def parse_prototypes(src):
    protos = {}
    for m in re.finditer(r"^(\w[\w \*]*?)\s*\bPMPI_(\w+)\s*\(([^;]*?)\)\s*;", src, re.M | re.S):
        ret, name, params = m.group(1).strip(), m.group(2), " ".join(m.group(3).split())
        plist = []
        if params != "void":
            for p in split_params(params):
                plist.append(parse_param(p))
        protos[name.lower()] = (name, ret, plist)
    return protos


def split_params(s):
    out, depth, cur = [], 0, ""
    for ch in s:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


def parse_param(p):
    """Returns (type, name, is_array). The type keeps `const` and the stars."""
    if p == "...":
        return ("...", "varargs", False)
    arr = p.endswith("]")
    if arr:
        p = p[: p.index("[")].strip()
    m = re.match(r"^(.*?)(\w+)$", p)
    ty, name = m.group(1).strip(), m.group(2)
    ty = re.sub(r"\s*\*", "*", ty)
    return (ty, name, arr)


class Unhandled(Exception):
    pass


def in_place_allowed(lname, n):
    """Whether argument n of MPI_<lname> may be MPI_IN_PLACE: the send buffer of the
    collectives (not of sendrecv, the neighbourhood collectives or scatters, where the
    standard gives it no meaning), the receive buffer of scatters."""
    if n == "sendbuf":
        return not re.match(r"i?(sendrecv|neighbor_|scatter)", lname)
    if n == "recvbuf":
        return re.match(r"i?scatterv?(_init)?$", lname) is not None
    return False


def rust_name(n):
    return n + "_" if n in RUST_KEYWORDS else n


def gen_function(lname, cname, ret, params, names=None):
    """Returns the Rust source of one binding (the fort! invocation): under MPICH's eight
    names, or under `names` (the large-count forms, which only the f08 wrappers call)."""
    rule_name = lname[:-2] if names else lname
    if ret != "int":
        raise Unhandled("returns " + ret)
    fparams, lens, pre, args, post = [], [], [], [], []
    for ty, n, arr in params:
        rn = rust_name(n)
        base = ty.replace("const ", "").strip()
        if not arr and base in SCALAR_INT:
            fparams.append(f"{rn}: *const Fint")
            args.append(f"rt::rd({rn}) as _")
        elif not arr and base in SCALAR_I64:
            fparams.append(f"{rn}: *const i64")
            args.append(f"rt::rd({rn}) as _")
        elif not arr and base == "MPI_File":
            fparams.append(f"{rn}: *const Fint")
            args.append(f"PMPI_File_f2c(rt::rd({rn}))")
        elif not arr and base == "MPI_File*":
            fparams.append(f"{rn}: *mut Fint")
            if lname in ("file_open",):
                pre.append(f"let mut {rn}_c: usize = 0;")
            else:
                pre.append(f"let mut {rn}_c = PMPI_File_f2c(rt::rd({rn}));")
            args.append(f"&mut {rn}_c as *mut usize as _")
            post.append(f"if r == 0 {{ rt::wr({rn}, PMPI_File_c2f({rn}_c)); }}")
        elif base == "MPI_User_function_c*":
            # The f08 MPI_User_function_c has the C calling convention (TYPE(C_PTR) VALUE
            # vectors, the rest by reference): the C layer calls it as it is.
            fparams.append(f"{rn}: *const c_void")
            args.append(f"{rn} as _")
        elif base in ("void*",) and not arr:
            fparams.append(f"{rn}: *mut c_void")
            if n in NOT_BUFFER:
                args.append(f"{rn} as _")
            elif n.startswith("attribute_val") or n == "extra_state":
                raise Unhandled("attribute value / extra state " + n)
            elif in_place_allowed(rule_name, n):
                args.append(f"rt::buf_in_place({rn}) as _")
            else:
                args.append(f"rt::buf({rn}) as _")
        elif base == "MPI_Status*" and not arr and "statuses" not in n:
            fparams.append(f"{rn}: *mut Fint")
            args.append(f"rt::status({rn}) as _")
        elif base in ("MPI_Status", "MPI_Status*") and (arr or "statuses" in n):
            fparams.append(f"{rn}: *mut Fint")
            args.append(f"rt::statuses({rn}) as _")
        elif (base == "char*" and not arr) or (base == "char" and arr and ty.startswith("const")):
            if arr:
                ty = "const char*"
            fparams.append(f"{rn}: *mut c_char")
            lens.append(f"{rn}_len: usize")
            if ty.startswith("const"):
                pre.append(f"let {rn}_s = rt::str_in({rn}, {rn}_len);")
                args.append(f"{rn}_s.as_ptr() as _")
            else:
                pre.append(f"let mut {rn}_b = rt::StrOut::new({rn}_len);")
                args.append(f"{rn}_b.ptr() as _")
                post.append(f"if r == 0 {{ {rn}_b.copy_to({rn}, {rn}_len); }}")
        elif re.match(r"(source|dest)?weights$", n) and base == "int":
            fparams.append(f"{rn}: *mut Fint")
            args.append(f"rt::weights({rn}) as _")
        elif (base.endswith("*") and base.count("*") == 1 and base[:-1] in SCALAR_INT | SCALAR_I64) \
                or (arr and base in SCALAR_INT | SCALAR_I64):
            t = "i64" if base.rstrip("*") in SCALAR_I64 else "Fint"
            fparams.append(f"{rn}: *mut {t}")
            args.append(f"{rn} as _")
        else:
            raise Unhandled(f"parameter {ty} {n}{'[]' if arr else ''}")
    fparams.append("ierror: *mut Fint")
    fparams += lens
    names = names or spellings(lname)
    body = pre + [f"let r = PMPI_{cname}({', '.join(args)});"] + post + ["rt::set_ierr(ierror, r);"]
    body_s = "\n".join("    " + l for l in body)
    return (f"fort! {{ [{', '.join(names[1:])}] {names[0]} ({', '.join(fparams)}) {{\n"
            f"{body_s}\n}} }}\n")


def spellings(lname):
    """MPICH's libmpifort exports each binding under eight names; the implementation is the
    `pmpi_x_` one (gfortran's spelling) and the other seven forward to it, so a profiler
    that interposes `mpi_x_` can still call `pmpi_x_`."""
    return [f"pmpi_{lname}_", f"pmpi_{lname}", f"pmpi_{lname}__", f"PMPI_{lname.upper()}",
            f"mpi_{lname}", f"mpi_{lname}_", f"mpi_{lname}__", f"MPI_{lname.upper()}"]


def c_decl(cname, params):
    """The extern declaration the binding calls: the C prototype with FFI types (pointers
    are untyped; the binding has already given them their meaning)."""
    out = []
    for ty, n, arr in params:
        base = ty.replace("const ", "").strip()
        if arr or "*" in base:
            t = "*mut c_void"
        elif base in SCALAR_INT:
            t = "c_int"
        elif base in SCALAR_I64:
            t = "i64"
        elif base == "MPI_File":
            t = "usize"
        else:
            raise Unhandled(f"C type {ty}")
        out.append(f"{rust_name(n)}: {t}")
    return f"    pub fn PMPI_{cname}({', '.join(out)}) -> c_int;"


def gen_rust(protos):
    out = ["// @generated by tools/gen-fortran.py from include/mpi.h: do not edit by hand.",
           "// The Fortran (`use mpi` / mpif.h) bindings whose arguments follow the regular",
           "// rules; see tools/gen-fortran.py for the rules; the rest is written by hand beside this file.",
           "",
           "use super::fort;",
           "use super::rt::{self, Fint};",
           "use c::*;",
           "use std::os::raw::{c_char, c_void};",
           ""]
    decls = ["/// The C functions, declared from their mpi.h prototypes (the symbols of this library).",
             "pub(super) mod c {",
             "    use std::os::raw::{c_int, c_void};",
             "    extern \"C\" {",
             "        pub fn PMPI_File_f2c(file: c_int) -> usize;",
             "        pub fn PMPI_File_c2f(file: usize) -> c_int;"]
    done, skipped = [], []
    for lname in sorted(protos):
        if not has_fortran_binding(lname) or lname in HAND:
            continue
        cname, ret, params = protos[lname]
        try:
            out.append(gen_function(lname, cname, ret, params))
            decls.append("    " + c_decl(cname, params))
            done.append(lname)
        except Unhandled as e:
            skipped.append((lname, str(e)))
    # The MPI_Count forms of the f08 generics: one name each, pmpi_x_c_ (the f08 wrappers
    # call them; `use mpi` and mpif.h have no large-count routines).
    for lname in f08.large_forms(protos, has_fortran_binding):
        if lname in HAND:
            continue
        cname, ret, params = protos[lname]
        try:
            out.append(gen_function(lname, cname, ret, params, [f"pmpi_{lname}_"]))
            decls.append("    " + c_decl(cname, params))
        except Unhandled as e:
            skipped.append((lname, str(e)))
    if skipped:
        for n, why in skipped:
            print(f"gen-fortran.py: no rule for MPI_{n}: {why} (add it to HAND)", file=sys.stderr)
        sys.exit(1)
    out += decls + ["    }", "}", ""]
    out.append(f"/// The functions bound here (the others are written by hand beside this file).")
    out.append(f"pub const GENERATED: [&str; {len(done)}] = [")
    for n in done:
        out.append(f'    "{n}",')
    out.append("];")
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------------------------------
# Explicit interfaces of the mpi module

LOGICAL_ARGS = {"flag", "commute", "reorder", "periods", "remain_dims", "weighted", "high"}
# Interfaces of hand-written bindings: (name, Fortran type, dims) before ierror.
I, A = "INTEGER", "INTEGER(KIND=MPI_ADDRESS_KIND)"
HAND_INTERFACES = {
    "Init": [],
    "Init_thread": [("required", I, ""), ("provided", I, "")],
    "Address": None,  # choice buffer
    "Type_extent": [("datatype", I, ""), ("extent", I, "")],
    "Type_lb": [("datatype", I, ""), ("displacement", I, "")],
    "Type_ub": [("datatype", I, ""), ("displacement", I, "")],
    "Type_hvector": [("count", I, ""), ("blocklength", I, ""), ("stride", I, ""),
                     ("oldtype", I, ""), ("newtype", I, "")],
    "Type_hindexed": [("count", I, ""), ("array_of_blocklengths", I, "(*)"),
                      ("array_of_displacements", I, "(*)"), ("oldtype", I, ""),
                      ("newtype", I, "")],
    "Type_struct": [("count", I, ""), ("array_of_blocklengths", I, "(*)"),
                    ("array_of_displacements", I, "(*)"), ("array_of_types", I, "(*)"),
                    ("newtype", I, "")],
    "Waitany": [("count", I, ""), ("array_of_requests", I, "(*)"), ("index", I, ""),
                ("status", I, "(MPI_STATUS_SIZE)")],
    "Testany": [("count", I, ""), ("array_of_requests", I, "(*)"), ("index", I, ""),
                ("flag", "LOGICAL", ""), ("status", I, "(MPI_STATUS_SIZE)")],
    "Waitsome": [("incount", I, ""), ("array_of_requests", I, "(*)"), ("outcount", I, ""),
                 ("array_of_indices", I, "(*)"), ("array_of_statuses", I, "(MPI_STATUS_SIZE,*)")],
    "Testsome": [("incount", I, ""), ("array_of_requests", I, "(*)"), ("outcount", I, ""),
                 ("array_of_indices", I, "(*)"), ("array_of_statuses", I, "(MPI_STATUS_SIZE,*)")],
    "Info_get": [("info", I, ""), ("key", "CHARACTER(LEN=*)", ""), ("valuelen", I, ""),
                 ("value", "CHARACTER(LEN=*)", ""), ("flag", "LOGICAL", "")],
    "Info_get_valuelen": [("info", I, ""), ("key", "CHARACTER(LEN=*)", ""),
                          ("valuelen", I, ""), ("flag", "LOGICAL", "")],
    "Info_get_string": [("info", I, ""), ("key", "CHARACTER(LEN=*)", ""), ("buflen", I, ""),
                        ("value", "CHARACTER(LEN=*)", ""), ("flag", "LOGICAL", "")],
    "Comm_get_attr": [("comm", I, ""), ("comm_keyval", I, ""), ("attribute_val", A, ""),
                      ("flag", "LOGICAL", "")],
    "Comm_set_attr": [("comm", I, ""), ("comm_keyval", I, ""), ("attribute_val", A, "")],
    "Type_get_attr": [("datatype", I, ""), ("type_keyval", I, ""), ("attribute_val", A, ""),
                      ("flag", "LOGICAL", "")],
    "Type_set_attr": [("datatype", I, ""), ("type_keyval", I, ""), ("attribute_val", A, "")],
    "Win_get_attr": [("win", I, ""), ("win_keyval", I, ""), ("attribute_val", A, ""),
                     ("flag", "LOGICAL", "")],
    "Win_set_attr": [("win", I, ""), ("win_keyval", I, ""), ("attribute_val", A, "")],
    "Attr_get": [("comm", I, ""), ("keyval", I, ""), ("attribute_val", I, ""),
                 ("flag", "LOGICAL", "")],
    "Attr_put": [("comm", I, ""), ("keyval", I, ""), ("attribute_val", I, "")],
}
# Where MPICH 4.0.2's module differs from the standard and we follow the standard: left out
# of --interface-probe. MPI_PARRIVED: FLAG is LOGICAL (MPI 4.1 section 4.2.2); MPICH 4.0.2
# declares an INTEGER.
PROBE_SKIP = {"parrived"}
KIND_OF = {"MPI_Aint": "MPI_ADDRESS_KIND", "MPI_Offset": "MPI_OFFSET_KIND",
           "MPI_Count": "MPI_COUNT_KIND"}


def fortran_params(params):
    """[(name, declaration-type, dims)] for a routine whose arguments all have a Fortran
    type, or None (choice buffers, addresses, MPI_UNWEIGHTED-able weights: no interface, as
    in MPICH's module, which leaves them to implicit interfaces)."""
    out = []
    for ty, n, arr in params:
        base = ty.replace("const ", "").strip()
        scalar = base.rstrip("*") if base.count("*") <= 1 else None
        if base == "void*" or re.match(r"(source|dest)?weights$", n):
            return None
        if base in ("MPI_Status*", "MPI_Status") and not arr:
            out.append((n, "INTEGER", "(MPI_STATUS_SIZE)"))
        elif base in ("MPI_Status", "MPI_Status*") and (arr or "statuses" in n):
            out.append((n, "INTEGER", "(MPI_STATUS_SIZE,*)"))
        elif base == "char*" or (base == "char" and arr):
            out.append((n, "CHARACTER(LEN=*)", ""))
        elif scalar in SCALAR_INT or scalar == "MPI_File":
            t = "LOGICAL" if n in LOGICAL_ARGS else "INTEGER"
            out.append((n, t, "(*)" if arr else ""))
        elif scalar in SCALAR_I64:
            out.append((n, f"INTEGER(KIND={KIND_OF[scalar]})", "(*)" if arr else ""))
        else:
            return None
    return out


def interfaced(protos, probe=False):
    """{lname: (cname, fortran params)} of the bindings that get an interface."""
    out = {}
    for cname, fp in HAND_INTERFACES.items():
        if fp is not None and cname.lower() in protos:
            out[cname.lower()] = (cname, fp)
    for lname in sorted(protos):
        if not has_fortran_binding(lname) or lname in HAND:
            continue
        cname, ret, params = protos[lname]
        fp = fortran_params(params)
        if ret == "int" and fp is not None and not (probe and lname in PROBE_SKIP):
            out[lname] = (cname, fp)
    return dict(sorted(out.items()))


def fname(n):
    # Fortran names cannot end with an underscore-free keyword clash; C names are fine, but
    # a few collide with Fortran intrinsics users rely on being generic (none do today).
    return n


wrap = f08.wrap


def gen_interfaces(protos):
    lines = ["! @generated by tools/gen-fortran.py from include/mpi.h: do not edit by hand.",
             "! Explicit interfaces of the routines without choice buffers, included by",
             "! fortran/mpi.f90 inside `module mpi`.",
             "interface"]
    for lname, (cname, fp) in interfaced(protos).items():
        args = [fname(n) for n, _, _ in fp] + ["ierror"]
        lines.append(wrap(f"subroutine MPI_{cname}(", args, ")"))
        lines.append("    import")
        lines.append("    implicit none")
        for n, t, dims in fp:
            lines.append(f"    {t} :: {fname(n)}{dims}")
        lines.append("    INTEGER :: ierror")
        lines.append(f"end subroutine MPI_{cname}")
    lines.append("end interface")
    return "\n".join(lines) + "\n"


def gen_probe(protos):
    """A program that calls every interfaced routine with variables of our interfaces' types:
    compiled against MPICH's mpi.mod, it fails where MPICH's interface differs from ours."""
    decls, calls, seen = [], [], {}
    for lname, (cname, fp) in interfaced(protos, probe=True).items():
        args = []
        for n, t, dims in fp:
            shape = {"": "", "(*)": "(4)", "(MPI_STATUS_SIZE)": "(MPI_STATUS_SIZE)",
                     "(MPI_STATUS_SIZE,*)": "(MPI_STATUS_SIZE,4)"}[dims]
            key = (t if t != "CHARACTER(LEN=*)" else "CHARACTER(LEN=64)", shape)
            if key not in seen:
                seen[key] = f"v{len(seen)}"
                decls.append(f"  {key[0]} :: {seen[key]}{shape}")
            args.append(seen[key])
        calls.append(wrap(f"  call MPI_{cname}(", args + ["ierr"], ")"))
    return "\n".join(["program probe", "  use mpi", "  implicit none", "  integer :: ierr"]
                     + decls + calls + ["end program probe"]) + "\n"


# ------------------------------------------------------------------------------------------
# mpif.h

def c_int_value(expr, defs, seen=()):
    e = expr.strip()
    e = re.sub(r"/\*.*?\*/", "", e).strip()
    e = re.sub(r"\(\s*\(\s*MPI?X?_?\w*\s*\)\s*", "(", e)  # drop ((MPI_Comm) casts
    e = re.sub(r"\(\s*(MPI_\w+)\s*\)\s*(?=[0-9(-])", "", e)
    if re.fullmatch(r"[A-Z_][A-Z0-9_]*", e):
        if e in defs and e not in seen:
            return c_int_value(defs[e], defs, seen + (e,))
        raise ValueError(e)
    if not re.fullmatch(r"[0-9a-fA-FxXuUlL()+\-*<>| ]+", e):
        raise ValueError(e)
    e = re.sub(r"(?<=[0-9a-fA-F])[uUlL]+\b", "", e)
    return eval(e, {}, {})


def to_i32(v):
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v >= 1 << 31 else v


# C-only constants: pointers, C types, format strings, the tool interface.
MPIF_SKIP = re.compile(r"^(MPI_(BOTTOM|IN_PLACE|BUFFER_AUTOMATIC|STATUS_IGNORE|STATUSES_IGNORE|"
                       r"ARGV_NULL|ARGVS_NULL|ERRCODES_IGNORE|F_\w+|AINT_FMT\w*|INCLUDED|"
                       r"FILE_DEFINED|T_\w+|\w+_FN|\w+_FN_C|CONVERSION_FN_NULL\w*)|MPIX_GPU\w*)$")
FORTRAN_STRLEN = re.compile(r"^MPI_MAX_(ERROR_STRING|PORT_NAME|OBJECT_NAME|INFO_KEY|INFO_VAL|"
                            r"PROCESSOR_NAME|DATAREP_STRING|LIBRARY_VERSION_STRING)$")
FORTRAN_KEYVAL = re.compile(r"^MPI_(TAG_UB|HOST|IO|WTIME_IS_GLOBAL|UNIVERSE_SIZE|LASTUSEDCODE|"
                            r"APPNUM|WIN_BASE|WIN_SIZE|WIN_DISP_UNIT|WIN_CREATE_FLAVOR|"
                            r"WIN_MODEL)$")
# Differences from MPICH 4.0.2's mpif.h that are deliberate: we implement MPI 4.1.
KNOWN_DIFFERENCES = {"MPI_SUBVERSION"}
INT64_CONSTANTS = {"MPI_DISPLACEMENT_CURRENT"}


def gen_mpif(src):
    defs = {}
    for m in re.finditer(r"^#define\s+(MPIX?_\w+)[ \t]+(.+?)\s*(/\*.*)?$", src, re.M):
        defs[m.group(1)] = m.group(2)
    for m in re.finditer(r"\benum\b[^{]*\{([^}]*)\}", src):
        for n, v in re.findall(r"(MPIX?_\w+)\s*=\s*([^,\n]+)", m.group(1)):
            defs[n] = v
    consts = []
    for n in defs:
        if MPIF_SKIP.match(n):
            continue
        try:
            v = c_int_value(defs[n], defs)
        except (ValueError, SyntaxError):
            continue
        consts.append((n, v))
    lines = [
        "! mpif.h of OxiMPI: the MPI constants with MPICH's values, for Fortran 77 and 90 code.",
        "! @generated by tools/gen-fortran.py from include/mpi.h: do not edit by hand.",
        "! Written to be valid both as fixed form (statements start in column 7, no line",
        "! longer than 72 columns) and as free form; comments use '!'.",
    ]

    def decl(ty, name, value):
        lines.append(f"       {ty} {name}")
        stmt = f"       PARAMETER ({name}={value})"
        assert len(stmt) <= 72, stmt
        lines.append(stmt)

    # The status layout: MPICH's C struct is five ints (count_lo, count_hi_and_cancelled,
    # MPI_SOURCE, MPI_TAG, MPI_ERROR), which Fortran indexes from 1.
    status_size = c_int_value(defs["MPI_F_STATUS_SIZE"], defs)
    decl("INTEGER", "MPI_STATUS_SIZE", status_size)
    decl("INTEGER", "MPI_SOURCE", c_int_value(defs["MPI_F_SOURCE"], defs) + 1)
    decl("INTEGER", "MPI_TAG", c_int_value(defs["MPI_F_TAG"], defs) + 1)
    decl("INTEGER", "MPI_ERROR", c_int_value(defs["MPI_F_ERROR"], defs) + 1)
    for n, v in consts:
        if n in ("MPI_VERSION", "MPI_SUBVERSION") or not n.startswith("MPI"):
            pass
        if FORTRAN_STRLEN.match(n):
            # Fortran strings carry no NUL: MPICH's Fortran lengths are the C ones minus one.
            v -= 1
        elif FORTRAN_KEYVAL.match(n):
            # MPICH gives the predefined attribute keyvals odd Fortran values (C + 1); the
            # glue maps them back and returns the value instead of a pointer to it.
            v += 1
        if n in INT64_CONSTANTS:
            decl("INTEGER*8", n, v)
        else:
            decl("INTEGER", n, to_i32(v))
    # Kinds: MPI_Aint, MPI_Offset, MPI_Count are 8 bytes, MPI_Fint 4 (x86-64 LP64).
    lines.append("       INTEGER MPI_INTEGER16")
    lines.append("       PARAMETER (MPI_INTEGER16=MPI_DATATYPE_NULL)")
    for n, v in (("MPI_ADDRESS_KIND", 8), ("MPI_OFFSET_KIND", 8), ("MPI_COUNT_KIND", 8),
                 ("MPI_INTEGER_KIND", 4)):
        decl("INTEGER", n, v)
    lines += [
        "       LOGICAL MPI_SUBARRAYS_SUPPORTED",
        "       PARAMETER (MPI_SUBARRAYS_SUPPORTED=.FALSE.)",
        "       LOGICAL MPI_ASYNC_PROTECTS_NONBLOCKING",
        "       PARAMETER (MPI_ASYNC_PROTECTS_NONBLOCKING=.FALSE.)",
        "! The special addresses live in COMMON blocks named as MPICH names them, so that",
        "! programs built against MPICH's mpif.h and ours pass the same addresses.",
        "       INTEGER MPI_STATUS_IGNORE(MPI_STATUS_SIZE)",
        "       INTEGER MPI_STATUSES_IGNORE(MPI_STATUS_SIZE,1)",
        "       INTEGER MPI_ERRCODES_IGNORE(1)",
        "       CHARACTER*1 MPI_ARGVS_NULL(1,1)",
        "       CHARACTER*1 MPI_ARGV_NULL(1)",
        "       INTEGER MPI_BOTTOM, MPI_IN_PLACE, MPI_UNWEIGHTED",
        "       INTEGER MPI_WEIGHTS_EMPTY",
        "       COMMON /MPIFCMB5/ MPI_UNWEIGHTED",
        "       COMMON /MPIFCMB9/ MPI_WEIGHTS_EMPTY",
        "       SAVE /MPIFCMB5/",
        "       SAVE /MPIFCMB9/",
        "       COMMON /MPIPRIV1/ MPI_BOTTOM, MPI_IN_PLACE, MPI_STATUS_IGNORE",
        "       COMMON /MPIPRIV2/ MPI_STATUSES_IGNORE, MPI_ERRCODES_IGNORE",
        "       SAVE /MPIPRIV1/,/MPIPRIV2/",
        "       COMMON /MPIPRIVC/ MPI_ARGVS_NULL, MPI_ARGV_NULL",
        "       SAVE /MPIPRIVC/",
        "! Predefined callbacks and the functions that return a value.",
        "       EXTERNAL MPI_DUP_FN, MPI_NULL_DELETE_FN, MPI_NULL_COPY_FN",
        "       EXTERNAL MPI_COMM_DUP_FN, MPI_COMM_NULL_DELETE_FN",
        "       EXTERNAL MPI_COMM_NULL_COPY_FN",
        "       EXTERNAL MPI_WIN_DUP_FN, MPI_WIN_NULL_DELETE_FN",
        "       EXTERNAL MPI_WIN_NULL_COPY_FN",
        "       EXTERNAL MPI_TYPE_DUP_FN, MPI_TYPE_NULL_DELETE_FN",
        "       EXTERNAL MPI_TYPE_NULL_COPY_FN",
        "       EXTERNAL MPI_CONVERSION_FN_NULL",
        "       EXTERNAL MPI_WTIME, MPI_WTICK",
        "       EXTERNAL PMPI_WTIME, PMPI_WTICK",
        "       DOUBLE PRECISION MPI_WTIME, MPI_WTICK",
        "       DOUBLE PRECISION PMPI_WTIME, PMPI_WTICK",
        "       INTEGER(KIND=MPI_ADDRESS_KIND) MPI_AINT_ADD, MPI_AINT_DIFF",
        "       EXTERNAL MPI_AINT_ADD, MPI_AINT_DIFF",
    ]
    return "\n".join(lines) + "\n"


def compare_mpich(ours_text, path):
    """Every PARAMETER of MPICH's mpif.h must have the same value in ours."""
    def params(text):
        d = {}
        for body in re.findall(r"PARAMETER\s*\((.*)\)", text, re.I):
            for item in body.split(","):
                n, v = item.split("=", 1)
                d[n.strip().upper()] = v.strip()
        return d
    theirs, ours = params(open(path).read()), params(ours_text)

    def val(d, n, depth=0):
        v = d[n]
        if v.upper() in d and depth < 5:
            return val(d, v.upper(), depth + 1)
        try:
            return str(eval(v.replace("(", "").replace(")", ""), {}, {}))
        except Exception:
            return v.upper()
    bad = []
    for n in theirs:
        if n in KNOWN_DIFFERENCES:
            continue
        if n not in ours:
            bad.append(f"{n}: missing (MPICH: {theirs[n]})")
        elif val(ours, n) != val(theirs, n):
            bad.append(f"{n}: ours {val(ours, n)}, MPICH {val(theirs, n)}")
    return bad


def coverage(protos, libdir):
    """Counts the Fortran bindings of the reference table that libdir's libraries export
    (see --coverage). Returns the number missing."""
    import subprocess
    syms = set()
    for lib in ("libmpi.so.12", "libmpifort.so.12"):
        out = subprocess.run(["nm", "-D", "--defined-only", os.path.join(libdir, lib)],
                             capture_output=True, text=True, check=True).stdout
        syms |= {line.split()[-1] for line in out.splitlines() if line.strip()}
    table = os.path.join(ROOT, "reference", "mpi-functions.tsv")
    names = [line.split("\t")[0] for line in open(table)
             if line.startswith("MPI_")]
    procs = f08.procedures(protos, has_fortran_binding)
    specifics = {p.lname: "mpi_" + p.specific.lower() + "_" for ps in procs.values() for p in ps}
    rows = {"use mpi": [0, []], "use mpi_f08": [0, []], "mpi_f08 _c forms": [0, []]}
    for name in names:
        lname = name[4:].lower()
        large = lname.endswith("_c") and lname[:-2] in protos
        base = lname[:-2] if large else lname
        if lname not in protos or not has_fortran_binding(base):
            continue
        if not large:
            rows["use mpi"][0] += 1
            if not {f"mpi_{lname}_", f"pmpi_{lname}_"} <= syms:
                rows["use mpi"][1].append(name)
            if base in f08.REMOVED:
                continue
        key = "mpi_f08 _c forms" if large else "use mpi_f08"
        rows[key][0] += 1
        if specifics.get(lname) not in syms:
            rows[key][1].append(name)
    missing = 0
    for what, (total, miss) in rows.items():
        print(f"{what:18} {total - len(miss)}/{total}" + (f"  missing: {' '.join(miss)}" if miss else ""))
        missing += len(miss)
    return missing



def main():
    src = open(HEADER).read()
    protos = parse_prototypes(src)
    rs = gen_rust(protos)
    mpif = gen_mpif(src)
    iface = gen_interfaces(protos)
    status_size = c_int_value(re.search(r"#define MPI_F_STATUS_SIZE\s+(\S+)", src).group(1), {})
    outputs = [(OUT_RS, rs), (OUT_MPIF, mpif), (OUT_IFACE, iface)]
    outputs += [(os.path.join(ROOT, path), text) for path, text in
                f08.generate(protos, has_fortran_binding, src, mpif, status_size).items()]
    if "--interface-probe" in sys.argv:
        with open(sys.argv[sys.argv.index("--interface-probe") + 1], "w") as f:
            f.write(gen_probe(protos))
        return
    if "--f08-probe" in sys.argv:
        i = sys.argv.index("--f08-probe")
        only = None
        if len(sys.argv) > i + 2:
            only = set(open(sys.argv[i + 2]).read().split())
        with open(sys.argv[i + 1], "w") as f:
            f.write(f08.gen_probe(protos, has_fortran_binding, only))
        return
    if "--coverage" in sys.argv:
        i = sys.argv.index("--coverage")
        libdir = sys.argv[i + 1] if len(sys.argv) > i + 1 else os.path.join(ROOT, "build", "lib")
        sys.exit(1 if coverage(protos, libdir) else 0)
    if "--compare-mpich" in sys.argv:
        i = sys.argv.index("--compare-mpich")
        path = sys.argv[i + 1] if len(sys.argv) > i + 1 else MPICH_MPIF
        bad = compare_mpich(mpif, path)
        for b in bad:
            print("mpif.h differs from MPICH's: " + b)
        print(f"gen-fortran.py: {len(bad)} difference(s) from {path}")
        sys.exit(1 if bad else 0)
    if "--check" in sys.argv:
        stale = [p for p, text in outputs
                 if not os.path.exists(p) or open(p).read() != text]
        for p in stale:
            print(f"gen-fortran.py: {os.path.relpath(p, ROOT)} is out of date; "
                  "run tools/gen-fortran.py")
        sys.exit(1 if stale else 0)
    for p, text in outputs:
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
