"""The `use mpi_f08` part of tools/gen-fortran.py (issue 17 phase 2), imported by it.

Writes, from the prototypes of include/mpi.h and the constants of the generated mpif.h:
  fortran/mpi_f08_types.f90      module mpi_f08_types: the handle types (one INTEGER
                                 MPI_VAL, bind(C)), TYPE(MPI_Status) with the C layout,
                                 ==/ /= on handles, MPI_Sizeof, MPI_Status_f2f08/f082f
  fortran/mpi_f08_constants.f90  modules mpi_f08_compile_constants (every constant, the
                                 handles typed) and mpi_f08_link_constants (MPI_BOTTOM,
                                 MPI_STATUS_IGNORE, ... as variables whose address the
                                 library recognises)
  fortran/mpi_f08.f90            modules mpi_f08 and pmpi_f08: a generic interface per
                                 routine, with the specific procedures MPICH's modules name
                                 (MPI_X_f08, MPI_X_f08ts with choice buffers, + `_large` for
                                 the MPI_Count forms; PMPIR_X_... for the PMPI_X generics)
  fortran/mpi_f08_wrappers.f90   those specific procedures: PMPIR_X_* converts the f08
                                 arguments and calls the `use mpi` binding (pmpi_x_, Rust,
                                 src/abi/fortran), MPI_X_* calls PMPI_X (so a profiler that
                                 replaces MPI_X_f08 still reaches the library)

Module, type and procedure names are MPICH's (4.0.2, `nm -D libmpichfort.so.12`), so that
gfortran gives them the same symbols and programs compiled against MPICH's mpi_f08.mod run
on our libmpifort.so.12.

Rules: an f08 handle is the `use mpi` INTEGER in a one-component type, TYPE(MPI_Status) is
the C struct (which is also the INTEGER(MPI_STATUS_SIZE) of `use mpi`), LOGICAL, CHARACTER
(hidden lengths) and callbacks have the `use mpi` ABI, so a wrapper passes its arguments on
unchanged (`comm%MPI_VAL` for a handle). Choice buffers are `TYPE(*), DIMENSION(..)`: the
wrapper gives each to oxif08_buf (src/abi/fortran/f08.rs), which returns the address and,
for a non-contiguous section, a datatype describing it.
"""
import re

HANDLES = ["Comm", "Datatype", "Errhandler", "File", "Group", "Info", "Message", "Op",
           "Request", "Session", "Win"]
HANDLE_TYPES = {"MPI_" + h for h in HANDLES}
# Routines of `use mpi` that MPI-3 removed from mpi_f08 (MPICH's module has none of them).
REMOVED = {"address", "attr_delete", "attr_get", "attr_put", "errhandler_create",
           "errhandler_get", "errhandler_set", "keyval_create", "keyval_free", "type_extent",
           "type_hindexed", "type_hvector", "type_lb", "type_struct", "type_ub"}
# Large-count forms a generic cannot tell from the INTEGER form (a procedure argument, or
# MPI_Aint and MPI_Count of one kind): their own name MPI_X_c, as the standard gives them
# (MPICH 4.0.2's module has none of them; later MPICH names the specifics MPI_X_c_f08).
# MPI_Register_datarep_c's `use mpi`-style binding is written by hand (the conversion
# functions need a trampoline: MPI_Datarep_conversion_function_c takes its arguments by
# value, src/abi/fortran/callbacks.rs).
OWN_NAME = {"op_create_c", "register_datarep_c"}
# Buffers whose address is all the call needs (no count/datatype to describe a section).
ADDRESS_ONLY = {("get_address", "location"), ("win_create", "base"), ("win_attach", "base"),
                ("win_detach", "base"), ("free_mem", "base"), ("buffer_attach", "buffer"),
                ("f_sync_reg", "buf")}
# (count, datatype) candidates of a buffer argument, first match wins; "1" is one item.
PAIRS = {
    "buf": [("count", "datatype")],
    "buffer": [("count", "datatype")],
    "sendbuf": [("sendcount", "sendtype"), ("count", "datatype")],
    "recvbuf": [("recvcount", "recvtype"), ("recvcount", "datatype"), ("count", "datatype")],
    "origin_addr": [("origin_count", "origin_datatype"), ("1", "datatype")],
    "result_addr": [("result_count", "result_datatype"), ("1", "datatype")],
    "compare_addr": [("1", "datatype")],
    "inbuf": [("incount", "datatype")],
    "outbuf": [("outcount", "datatype")],
}
LOGICAL_ARGS = {"flag", "commute", "reorder", "periods", "remain_dims", "weighted", "high"}
KIND_OF = {"MPI_Aint": "MPI_ADDRESS_KIND", "MPI_Offset": "MPI_OFFSET_KIND",
           "MPI_Count": "MPI_COUNT_KIND"}
# Prototypes the f08 binding has instead of the C one.
OVERRIDE = {
    "init": [],
    "init_thread": [("int", "required", False), ("int*", "provided", False)],
    "info_create_env": [("MPI_Info*", "info", False)],
    "pcontrol": [("const int", "level", False)],
    "f_sync_reg": [("void*", "buf", False)],
}
# Functions returning a value: (Fortran result type, F77 binding's type).
FUNCTIONS = {"wtime": "DOUBLE PRECISION", "wtick": "DOUBLE PRECISION",
             "aint_add": "INTEGER(KIND=MPI_ADDRESS_KIND)",
             "aint_diff": "INTEGER(KIND=MPI_ADDRESS_KIND)"}
NO_IERROR = {"pcontrol", "f_sync_reg", "wtime", "wtick", "aint_add", "aint_diff"}


class Arg:
    """One dummy argument of an f08 procedure."""

    def __init__(self, name, decl, dims="", intent="", call=None, buffer=False,
                 optional=False):
        self.name, self.decl, self.dims, self.intent = name, decl, dims, intent
        self.call = call if call is not None else name
        self.buffer, self.optional = buffer, optional

    def declaration(self, asynchronous=False):
        attrs = [self.decl]
        if self.intent:
            attrs.append(f"INTENT({self.intent})")
        if self.optional:
            attrs.append("OPTIONAL")
        if asynchronous and self.buffer:
            attrs.append("ASYNCHRONOUS")
        return f"{', '.join(attrs)} :: {self.name}{self.dims}"

    def signature(self):
        # MPI_ADDRESS_KIND, MPI_OFFSET_KIND and MPI_COUNT_KIND are one kind (8).
        return (re.sub(r"KIND=MPI_\w+_KIND", "KIND=8", self.decl), "(*)" if self.dims else "")


def f08_args(lname, params):
    """The f08 dummy arguments of MPI_<lname> (without ierror)."""
    out = []
    names = {n for _, n, _ in params}
    for ty, n, arr in params:
        base = ty.replace("const ", "").strip()
        const = ty.startswith("const")
        scalar = base.rstrip("*") if base.count("*") <= 1 else None
        byval = "*" not in base and not arr
        if ty == "...":
            continue
        if base == "void*" and not arr:
            if n in ("baseptr", "buffer_addr"):
                out.append(Arg(n, "TYPE(C_PTR)"))
            elif n.startswith("attribute_val") or n == "extra_state":
                intent = "IN" if ("set_attr" in lname or n == "extra_state") else ""
                out.append(Arg(n, "INTEGER(KIND=MPI_ADDRESS_KIND)", intent=intent))
            else:
                out.append(Arg(n, "TYPE(*)", "(..)", "IN" if const else "", buffer=True))
        elif base in ("MPI_Status*", "MPI_Status"):
            # mpi.h declares some arrays of statuses as pointers (MPI_Waitall).
            out.append(Arg(n, "TYPE(MPI_Status)", "(*)" if arr or "statuses" in n else ""))
        elif base == "char**" and arr:
            cnt = "count" if "count" in names else "*"
            out.append(Arg(n, "CHARACTER(LEN=*)", f"({cnt},*)", "IN"))
        elif base == "char*" and arr:
            out.append(Arg(n, "CHARACTER(LEN=*)", "(*)", "IN"))
        elif base == "char*" or (base == "char" and arr):
            out.append(Arg(n, "CHARACTER(LEN=*)", "", "IN" if const else ""))
        elif base.endswith("_function*") or base.endswith("_function_c*"):
            out.append(Arg(n, f"PROCEDURE({base[:-1]})"))
        elif re.match(r"(source|dest)?weights$", n) and base == "int":
            out.append(Arg(n, "INTEGER", "(*)", "IN"))
        elif scalar in HANDLE_TYPES:
            call = n if arr else f"{n}%MPI_VAL"
            out.append(Arg(n, f"TYPE({scalar})", "(*)" if arr else "",
                           "IN" if byval or const else "", call))
        elif scalar == "int" and n == "ranges":
            # int ranges[][3]: triplets, RANGES(3, N) in Fortran.
            out.append(Arg(n, "INTEGER", "(3,*)", "IN"))
        elif scalar == "int":
            t = "LOGICAL" if n in LOGICAL_ARGS else "INTEGER"
            out.append(Arg(n, t, "(*)" if arr else "", "IN" if byval or const else ""))
        elif scalar in KIND_OF:
            out.append(Arg(n, f"INTEGER(KIND={KIND_OF[scalar]})", "(*)" if arr else "",
                           "IN" if byval or const else ""))
        else:
            raise ValueError(f"MPI_{lname}: no f08 rule for {ty} {n}")
    return out


def pairs_of(lname, params, args):
    """{buffer name: (count expr or None, datatype name or None, mode)}; mode 1 = a
    section may be described with (count, datatype), 0 = must be contiguous, 2 = only its
    address matters."""
    byname = {n: (ty, arr) for ty, n, arr in params}
    found = {}
    for a in args:
        if not a.buffer:
            continue
        base = lname[:-2] if lname.endswith("_c") else lname
        if (base, a.name) in ADDRESS_ONLY or base.startswith("file_") and base.endswith("_end"):
            found[a.name] = (None, None, 2)
            continue
        for cnt, dt in PAIRS.get(a.name, []):
            cnt_ok = cnt == "1" or (cnt in byname and not byname[cnt][1]
                                    and "*" not in byname[cnt][0])
            if cnt_ok and dt in byname and not byname[dt][1]:
                found[a.name] = (cnt, dt, 1)
                break
        else:
            found[a.name] = (None, None, 0)
    # Two buffers described by one (count, datatype) (reductions) cannot each get a
    # datatype of their own: both must be contiguous.
    used = [v[:2] for v in found.values() if v[2] == 1]
    for k, v in found.items():
        if v[2] == 1 and used.count(v[:2]) > 1:
            found[k] = (None, None, 0)
    return found


class Proc:
    """One f08 specific procedure."""

    def __init__(self, lname, cname, params, large):
        self.lname, self.cname, self.large = lname, cname, large
        self.base = lname[:-2] if large else lname
        self.args = f08_args(lname, params)
        self.ts = any(a.buffer for a in self.args)
        self.pairs = pairs_of(lname, params, self.args)
        self.asynchronous = any(ty.replace("const ", "") == "MPI_Request*" and n == "request"
                                for ty, n, _ in params)
        self.function = FUNCTIONS.get(self.base)
        self.ierror = self.base not in NO_IERROR
        gen = cname[:-2] if large else cname
        suffix = ("_f08ts" if self.ts else "_f08") + ("_large" if large else "")
        if lname in OWN_NAME:
            gen, suffix = cname, "_f08ts" if self.ts else "_f08"
        self.generic = gen
        self.specific = gen + suffix
        # The handle whose errhandler reports a rejected buffer.
        self.errobj = ("0", "0")
        for a in self.args:
            kind = {"TYPE(MPI_Comm)": "1", "TYPE(MPI_Win)": "2", "TYPE(MPI_File)": "3"}.get(a.decl)
            if kind and not a.dims:
                self.errobj = (kind, f"{a.name}%MPI_VAL")
                break

    def signature(self):
        return [a.signature() for a in self.args]

    def dummies(self):
        return [a.name for a in self.args] + (["ierror"] if self.ierror else [])

    def decls(self, indent):
        lines = [indent + a.declaration(self.asynchronous) for a in self.args]
        if self.ierror:
            lines.append(indent + "INTEGER, OPTIONAL, INTENT(OUT) :: ierror")
        return lines

    def head(self, name, indent=""):
        kw = "function" if self.function else "subroutine"
        res = " result(res)" if self.function else ""
        return wrap(f"{indent}{kw} {name}(", self.dummies(), ")" + res, indent + "        ")

    def end(self, name, indent=""):
        return f"{indent}end {'function' if self.function else 'subroutine'} {name}"


def wrap(head, args, tail, cont="        "):
    """head + comma-separated args + tail as free-form lines within 100 columns (also used
    by gen-fortran.py for the `use mpi` interfaces)."""
    lines, cur = [], head
    for i, a in enumerate(args):
        piece = a + (", " if i < len(args) - 1 else "")
        if len(cur) + len(piece) > 96:
            lines.append(cur.rstrip() + " &")
            cur = cont + piece
        else:
            cur += piece
    lines.append(cur + tail)
    return "\n".join(lines)


def procedures(protos, has_fortran_binding):
    """{generic name: [Proc, ...]} of every routine mpi_f08 has."""
    out = {}
    for lname in sorted(protos):
        cname, ret, params = protos[lname]
        large = lname.endswith("_c")
        base = lname[:-2] if large else lname
        if base in REMOVED:
            continue
        if large:
            if base not in protos or not has_fortran_binding(base):
                continue
        elif not has_fortran_binding(lname):
            continue
        if lname in OVERRIDE:
            params = OVERRIDE[lname]
        p = Proc(lname, cname, params, large)
        out.setdefault(p.generic, []).append(p)
    for gen in ("F_sync_reg",):
        if gen not in out:
            out[gen] = [Proc("f_sync_reg", gen, OVERRIDE["f_sync_reg"], False)]
    # A large form whose dummies match the INTEGER form's (MPI_Type_get_extent_c: MPI_Aint
    # and MPI_Count have one kind) cannot join the generic: it gets its own, MPI_X_c.
    for gen, ps in list(out.items()):
        small = [p for p in ps if not p.large]
        if small:
            same = [p for p in ps if p.large and p.signature() == small[0].signature()]
            out[gen] = [p for p in ps if p not in same]
            for p in same:
                p.generic, p.specific = p.cname, p.cname + ("_f08ts" if p.ts else "_f08")
                out[p.generic] = [p]
    return dict(sorted(out.items()))


# ------------------------------------------------------------------------------------------
# The modules mpi_f08 and pmpi_f08

def interface_body(p, name, indent):
    lines = [p.head(name, indent), indent + "    import", indent + "    implicit none"]
    lines += p.decls(indent + "    ")
    if p.function:
        lines.append(f"{indent}    {p.function} :: res")
    lines.append(p.end(name, indent))
    return lines


def gen_module(procs, prof):
    mod = "pmpi_f08" if prof else "mpi_f08"
    lines = ["! @generated by tools/gen-fortran.py from include/mpi.h: do not edit by hand.",
             f"! Module {mod}: " + ("the PMPI_X names of the routines, for profilers; the "
                                    "specific procedures are MPICH's PMPIR_X_f08* ones."
                                    if prof else "the routines of `use mpi_f08`, each a generic "
                                    "interface over MPICH's specific procedure names."),
             f"module {mod}",
             "    use, intrinsic :: iso_c_binding, only: c_ptr",
             "    use mpi_f08_types",
             "    use mpi_f08_compile_constants",
             "    use mpi_f08_link_constants",
             "    use mpi_f08_callbacks",
             "    implicit none"]
    for gen, ps in procs.items():
        g = ("PMPI_" if prof else "MPI_") + gen
        lines.append(f"    interface {g}")
        for p in ps:
            lines += interface_body(p, specific_name(p, prof), "        ")
        lines.append(f"    end interface {g}")
    lines.append(f"end module {mod}")
    return "\n".join(lines) + "\n"


def specific_name(p, prof):
    return ("PMPIR_" if prof else "MPI_") + p.specific


# ------------------------------------------------------------------------------------------
# The wrappers

def binding_name(p):
    """The `use mpi` binding (Rust) a wrapper calls: pmpi_x_, or pmpi_x_c_ for a large form
    (gfortran adds the underscore)."""
    return "pmpi_" + p.lname


def gen_wrapper_prof(p):
    """PMPIR_X_*: converts and calls the `use mpi` binding."""
    name = specific_name(p, True)
    ind = "    "
    lines = [p.head(name), ind + "use, intrinsic :: iso_c_binding", ind + "use mpi_f08_types",
             ind + "use mpi_f08_callbacks", ind + "use oxi_f08_glue", ind + "implicit none"]
    lines += p.decls(ind)
    if p.function:
        lines.append(f"{ind}{p.function} :: res")
        lines.append(f"{ind}{p.function}, external :: {binding_name(p)}")
        lines.append(f"{ind}res = {binding_name(p)}(" + ", ".join(a.call for a in p.args) + ")")
        lines.append(p.end(name))
        return "\n".join(lines)
    lines.append(ind + "integer :: ierr0, e0")
    bufs = [a for a in p.args if a.buffer]
    for a in bufs:
        lines.append(f"{ind}integer(c_intptr_t) :: {a.name}_a")
        lines.append(f"{ind}integer(c_int64_t) :: {a.name}_n")
        lines.append(f"{ind}integer(c_int) :: {a.name}_t, {a.name}_e")
    body = [f"{ind}ierr0 = 0", f"{ind}e0 = 0"]
    calls = {a.name: a.call for a in p.args}
    for a in bufs:
        cnt, dt, mode = p.pairs[a.name]
        dt_expr = f"{dt}%MPI_VAL" if dt else "OXI_NO_TYPE"
        cnt_expr = f"int({cnt if cnt else '0'}, c_int64_t)"
        body.append(f"{ind}{a.name}_t = {dt_expr}")
        body.append(f"{ind}if (e0 == 0) then")
        body.append(wrap(f"{ind}    call oxif08_buf(",
                         [a.name, str(mode), cnt_expr, dt_expr, f"{a.name}_a", f"{a.name}_n",
                          f"{a.name}_t", f"{a.name}_e"], ")", ind + "            "))
        body.append(f"{ind}    e0 = {a.name}_e")
        body.append(f"{ind}end if")
        calls[a.name] = f"%val({a.name}_a)"
        if mode == 1:
            if cnt != "1":
                calls[cnt] = f"{a.name}_n" if p.large else f"int({a.name}_n)"
            calls[dt] = f"{a.name}_t"
    args = [calls[a.name] for a in p.args] + (["ierr0"] if p.ierror else [])
    call = wrap(f"{ind}    call {binding_name(p)}(", args, ")", ind + "            ")
    if bufs:
        body.append(f"{ind}if (e0 == 0) then")
        body.append(call)
        body.append(f"{ind}else")
        kind, h = p.errobj
        body.append(f"{ind}    call oxif08_raise({kind}, {h}, e0, ierr0, 'MPI_{p.generic}')")
        body.append(f"{ind}end if")
        for a in bufs:
            _, dt, _ = p.pairs[a.name]
            body.append(f"{ind}call oxif08_type_free({a.name}_t, "
                        f"{dt + '%MPI_VAL' if dt else 'OXI_NO_TYPE'})")
    else:
        body.append(call[4:])
    if p.ierror:
        body.append(f"{ind}if (present(ierror)) ierror = ierr0")
    return "\n".join(lines + body + [p.end(name)])


def gen_wrapper_mpi(p):
    """MPI_X_*: calls the PMPI_X generic (PMPIR_X_*)."""
    name = specific_name(p, False)
    ind = "    "
    lines = [p.head(name), ind + "use, intrinsic :: iso_c_binding, only: c_ptr",
             ind + "use mpi_f08_types", ind + "use mpi_f08_callbacks",
             ind + f"use pmpi_f08, only: PMPI_{p.generic}", ind + "implicit none"]
    lines += p.decls(ind)
    if p.function:
        lines.append(f"{ind}{p.function} :: res")
        lines.append(f"{ind}res = PMPI_{p.generic}(" + ", ".join(a.name for a in p.args) + ")")
    else:
        lines.append(wrap(f"{ind}call PMPI_{p.generic}(", p.dummies(), ")", ind + "        "))
    lines.append(p.end(name))
    return "\n".join(lines)


def gen_wrappers(procs):
    out = ["! @generated by tools/gen-fortran.py from include/mpi.h: do not edit by hand.",
           "! The specific procedures of modules mpi_f08 and pmpi_f08 (see",
           "! tools/gen_fortran_f08.py): external procedures, so their symbols are MPICH's",
           "! (mpi_send_f08ts_, pmpir_send_f08ts_, ...)."]
    for ps in procs.values():
        for p in ps:
            out.append(gen_wrapper_prof(p))
            out.append(gen_wrapper_mpi(p))
    return "\n\n".join(out) + "\n"


# ------------------------------------------------------------------------------------------
# mpi_f08_types and the constants

def gen_types(status_size):
    L = ["! @generated by tools/gen-fortran.py: do not edit by hand.",
         "! Module mpi_f08_types: the handle types of `use mpi_f08` (the `use mpi` INTEGER",
         "! handle in a bind(C) type, as MPICH), TYPE(MPI_Status) with the layout of the C",
         "! struct, comparisons of handles, MPI_Sizeof and the status conversions.",
         "module mpi_f08_types",
         "    use, intrinsic :: iso_c_binding, only: c_int",
         "    use, intrinsic :: iso_fortran_env, only: int8, int16, int32, int64, real32, "
         "real64, real128",
         "    implicit none",
         "    private :: c_int, int8, int16, int32, int64, real32, real64, real128",
         "    integer, parameter :: MPI_ADDRESS_KIND = 8",
         "    integer, parameter :: MPI_OFFSET_KIND = 8",
         "    integer, parameter :: MPI_COUNT_KIND = 8",
         "    integer, parameter :: MPI_INTEGER_KIND = 4",
         f"    integer, parameter :: MPI_STATUS_SIZE = {status_size}"]
    for h in HANDLES:
        L += [f"    type, bind(C) :: MPI_{h}", "        integer(c_int) :: MPI_VAL",
              f"    end type MPI_{h}"]
    L += ["    ! The C MPI_Status: count_lo, count_hi_and_cancelled, then the public fields.",
          "    type, bind(C) :: MPI_Status",
          "        integer(c_int) :: count_lo",
          "        integer(c_int) :: count_hi_and_cancelled",
          "        integer(c_int) :: MPI_SOURCE",
          "        integer(c_int) :: MPI_TAG",
          "        integer(c_int) :: MPI_ERROR",
          "    end type MPI_Status"]
    for op, suf in (("==", "eq"), ("/=", "neq")):
        L.append(f"    interface operator({op})")
        for h in HANDLES:
            lh = h.lower()
            L.append(f"        module procedure mpi_{lh}_{suf}, mpi_{lh}_f08_{suf}_f, "
                     f"mpi_{lh}_f_{suf}_f08")
        L.append("    end interface")
    sizes = [("xint8", "integer(int8)"), ("xint16", "integer(int16)"),
             ("xint32", "integer(int32)"), ("xint64", "integer(int64)"),
             ("xreal32", "real(real32)"), ("xreal64", "real(real64)"),
             ("xreal128", "real(real128)"), ("xcomplex32", "complex(real32)"),
             ("xcomplex64", "complex(real64)"), ("xcomplex128", "complex(real128)"),
             ("character", "character(len=*)"), ("logical", "logical")]
    L.append("    interface MPI_Sizeof")
    for n, _ in sizes:
        L.append(f"        module procedure mpi_sizeof_{n}")
    L.append("    end interface")
    L.append("contains")
    for h in HANDLES:
        lh = h.lower()
        for op, suf in (("==", "eq"), ("/=", "neq")):
            L += [f"    elemental logical function mpi_{lh}_{suf}(a, b)",
                  f"        type(MPI_{h}), intent(in) :: a, b",
                  f"        mpi_{lh}_{suf} = a%MPI_VAL {op} b%MPI_VAL",
                  f"    end function",
                  f"    elemental logical function mpi_{lh}_f08_{suf}_f(a, b)",
                  f"        type(MPI_{h}), intent(in) :: a",
                  f"        integer, intent(in) :: b",
                  f"        mpi_{lh}_f08_{suf}_f = a%MPI_VAL {op} b",
                  f"    end function",
                  f"    elemental logical function mpi_{lh}_f_{suf}_f08(a, b)",
                  f"        integer, intent(in) :: a",
                  f"        type(MPI_{h}), intent(in) :: b",
                  f"        mpi_{lh}_f_{suf}_f08 = a {op} b%MPI_VAL",
                  f"    end function"]
    for n, t in sizes:
        L += [f"    subroutine mpi_sizeof_{n}(x, size, ierror)",
              f"        {t}, dimension(..), intent(in) :: x",
              "        integer, intent(out) :: size",
              "        integer, optional, intent(out) :: ierror",
              "        size = int(storage_size(x) / 8)" if n != "character" else
              "        size = len(x)",
              "        if (present(ierror)) ierror = 0",
              "    end subroutine"]
    L += ["    ! MPI_Status_f2f08 / MPI_Status_f082f: the INTEGER(MPI_STATUS_SIZE) of `use mpi`",
          "    ! and TYPE(MPI_Status) hold the same five C ints.",
          "    subroutine mpi_status_f2f08(f_status, f08_status, ierror)",
          "        integer, intent(in) :: f_status(MPI_STATUS_SIZE)",
          "        type(MPI_Status), intent(out) :: f08_status",
          "        integer, optional, intent(out) :: ierror",
          "        f08_status = MPI_Status(f_status(1), f_status(2), f_status(3), f_status(4), &",
          "            f_status(5))",
          "        if (present(ierror)) ierror = 0",
          "    end subroutine",
          "    subroutine mpi_status_f082f(f08_status, f_status, ierror)",
          "        type(MPI_Status), intent(in) :: f08_status",
          "        integer, intent(out) :: f_status(MPI_STATUS_SIZE)",
          "        integer, optional, intent(out) :: ierror",
          "        f_status = [f08_status%count_lo, f08_status%count_hi_and_cancelled, &",
          "            f08_status%MPI_SOURCE, f08_status%MPI_TAG, f08_status%MPI_ERROR]",
          "        if (present(ierror)) ierror = 0",
          "    end subroutine",
          "end module mpi_f08_types"]
    return "\n".join(L) + "\n"


def handle_types(src):
    """{constant name: handle type} from the casts of mpi.h's #defines."""
    defs = dict(re.findall(r"^#define\s+(MPIX?_\w+)\s+(.+?)\s*(?:/\*.*)?$", src, re.M))
    out = {}
    for n, v in defs.items():
        m = re.match(r"\(\((MPI_\w+)\)", v)
        if m and m.group(1) in HANDLE_TYPES:
            out[n] = m.group(1)
    for n, v in defs.items():
        if n not in out and v.strip() in out:
            out[n] = out[v.strip()]
    return out


def gen_constants(src, mpif_text):
    """mpi_f08_compile_constants from the PARAMETERs of our mpif.h, handles typed."""
    types = handle_types(src)
    decls = re.findall(r"^\s+(INTEGER\*8|INTEGER|LOGICAL)\s+(\w+)\n\s+PARAMETER \((\w+)=(.*)\)$",
                       mpif_text, re.M)
    skip = {"MPI_ADDRESS_KIND", "MPI_OFFSET_KIND", "MPI_COUNT_KIND", "MPI_INTEGER_KIND",
            "MPI_STATUS_SIZE", "MPI_SUBARRAYS_SUPPORTED", "MPI_ASYNC_PROTECTS_NONBLOCKING"}
    L = ["! @generated by tools/gen-fortran.py from include/mpi.h: do not edit by hand.",
         "! Modules mpi_f08_compile_constants (the constants of mpif.h, handles as their",
         "! f08 types) and mpi_f08_link_constants (the special addresses).",
         "module mpi_f08_compile_constants",
         "    use mpi_f08_types",
         "    implicit none",
         "    ! Choice buffers take array sections (TS 29113 descriptors, src/abi/fortran/f08.rs).",
         "    logical, parameter :: MPI_SUBARRAYS_SUPPORTED = .true.",
         "    logical, parameter :: MPI_ASYNC_PROTECTS_NONBLOCKING = .false."]
    for ty, n, n2, v in decls:
        if n in skip or n != n2:
            continue
        if n in types:
            t = types[n]
            # A constant defined as another (MPI_INTEGER16 = MPI_DATATYPE_NULL) is that one.
            value = v if re.match(r"^[A-Za-z]\w*$", v.strip()) else f"{t}({v})"
            L.append(f"    type({t}), parameter :: {n} = {value}")
        else:
            t = {"INTEGER*8": "integer(kind=8)", "INTEGER": "integer", "LOGICAL": "logical"}[ty]
            L.append(f"    {t}, parameter :: {n} = {v}")
    L += ["end module mpi_f08_compile_constants",
          "",
          "! The special addresses: the library compares a buffer's, status's, ... address",
          "! with these (src/abi/fortran/rt.rs, specials). Names and binding labels are MPICH's.",
          "module mpi_f08_link_constants",
          "    use, intrinsic :: iso_c_binding, only: c_int",
          "    use mpi_f08_types",
          "    implicit none",
          "    private :: c_int",
          "    integer(c_int), bind(C, name=\"MPIR_F08_MPI_BOTTOM\"), target :: MPI_BOTTOM",
          "    integer(c_int), bind(C, name=\"MPIR_F08_MPI_IN_PLACE\"), target :: MPI_IN_PLACE",
          "    type(MPI_Status), bind(C, name=\"MPIR_F08_MPI_STATUS_IGNORE_OBJ\"), target :: &",
          "        MPI_STATUS_IGNORE",
          "    type(MPI_Status), bind(C, name=\"MPIR_F08_MPI_STATUSES_IGNORE_OBJ\"), target :: &",
          "        MPI_STATUSES_IGNORE(1)",
          "    integer, target :: MPI_ERRCODES_IGNORE(1)",
          "    character(len=1), target :: MPI_ARGV_NULL(1)",
          "    character(len=1), target :: MPI_ARGVS_NULL(1, 1)",
          "    integer, target :: MPI_UNWEIGHTED(1)",
          "    integer, target :: MPI_WEIGHTS_EMPTY(1)",
          "end module mpi_f08_link_constants"]
    return "\n".join(L) + "\n"


def generate(protos, has_fortran_binding, src, mpif_text, status_size):
    """{relative path: text} of the generated f08 files."""
    procs = procedures(protos, has_fortran_binding)
    return {
        "fortran/mpi_f08_types.f90": gen_types(status_size),
        "fortran/mpi_f08_constants.f90": gen_constants(src, mpif_text),
        "fortran/mpi_f08.f90": gen_module(procs, False) + "\n" + gen_module(procs, True),
        "fortran/mpi_f08_wrappers.f90": gen_wrappers(procs),
    }


def gen_probe(protos, has_fortran_binding, only=None):
    """A program calling every mpi_f08 subroutine without procedure arguments, with
    variables of our interfaces' types: compiled against MPICH's mpi_f08.mod, it fails where
    MPICH's interface would not accept a call ours accepts. `only`: the specific procedure
    symbols to probe (those MPICH's library has), or all."""
    decls, calls, seen = [], [], {}
    for ps in procedures(protos, has_fortran_binding).values():
        for p in ps:
            if p.function or any(a.decl.startswith("PROCEDURE") for a in p.args):
                continue
            if only is not None and f"mpi_{p.specific.lower()}_" not in only:
                continue
            args = []
            for a in p.args:
                t, shape = a.decl, {"": "", "(*)": "(4)", "(..)": "(4)"}.get(a.dims, "(4,4)")
                if t == "TYPE(*)":
                    t = "INTEGER"
                elif t == "CHARACTER(LEN=*)":
                    # Long enough for MPICH's fixed-length output strings.
                    t = "CHARACTER(LEN=MPI_MAX_LIBRARY_VERSION_STRING)"
                if (t, shape) not in seen:
                    seen[(t, shape)] = f"v{len(seen)}"
                    decls.append(f"  {t} :: {seen[(t, shape)]}{shape}")
                args.append(seen[(t, shape)])
            calls.append(wrap(f"  call MPI_{p.generic}(", args, ")", "      "))
    return "\n".join(["program probe08", "  use mpi_f08", "  use, intrinsic :: iso_c_binding",
                      "  implicit none"] + decls + calls + ["end program probe08"]) + "\n"


def large_forms(protos, has_fortran_binding):
    """The `_c` functions the f08 wrappers call through a `use mpi`-style binding."""
    return sorted(p.lname for ps in procedures(protos, has_fortran_binding).values()
                  for p in ps if p.large)
