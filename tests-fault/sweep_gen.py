#!/usr/bin/env python3
"""Generates the bad-argument sweep (a C program) from the function table
reference/mpi-functions.tsv and the prototypes of include/mpi.h.

usage: sweep_gen.py ROOT OUT.c

Each case calls one MPI function with every argument valid but one:
  * a handle argument (by value; MPI_Request* for the request-completing calls) given the
    null handle, a freed handle and a forged one (a freed handle's bits with another index);
  * a count (a parameter named *count*, by value) given -1;
  * a rank or root (dest, source, root, rank, target_rank) given the world size (out of
    range) and -7;
  * an MPI_Status* given NULL (MPI_STATUS_IGNORE is the spelling for "no status").
The program runs each case in a forked child under alarm(2) with MPI_ERRORS_RETURN and
prints one line per case: function, argument, variant, verdict (ok / accepted / class /
crash / hang) and detail. The expected class is the one for the argument's kind
(MPI_ERR_COMM, MPI_ERR_TYPE, ..., MPI_ERR_COUNT, MPI_ERR_RANK or MPI_ERR_ROOT, MPI_ERR_ARG).
"""
import re
import sys

root, out = sys.argv[1], sys.argv[2]

HANDLES = {
    # kind: (default, null, class, freed-handle expression)
    "MPI_Comm": ("MPI_COMM_WORLD", "MPI_COMM_NULL", "MPI_ERR_COMM", "freed_comm"),
    "MPI_Datatype": ("MPI_INT", "MPI_DATATYPE_NULL", "MPI_ERR_TYPE", "freed_type"),
    "MPI_Group": ("g_world", "MPI_GROUP_NULL", "MPI_ERR_GROUP", "freed_group"),
    "MPI_Op": ("MPI_SUM", "MPI_OP_NULL", "MPI_ERR_OP", "freed_op"),
    # MPI_INFO_NULL is a valid info argument everywhere: no null variant.
    "MPI_Info": ("MPI_INFO_NULL", None, "MPI_ERR_INFO", "freed_info"),
    "MPI_Win": ("d_win", "MPI_WIN_NULL", "MPI_ERR_WIN", "freed_win"),
    "MPI_Errhandler": ("MPI_ERRORS_RETURN", "MPI_ERRHANDLER_NULL", "MPI_ERR_ARG", "freed_errh"),
    "MPI_Message": ("MPI_MESSAGE_NO_PROC", "MPI_MESSAGE_NULL", "MPI_ERR_REQUEST", None),
    "MPI_File": ("d_file", "MPI_FILE_NULL", "MPI_ERR_FILE", None),
    # MPI_REQUEST_NULL is valid for the completion calls: no null variant.
    "MPI_Request": ("MPI_REQUEST_NULL", None, "MPI_ERR_REQUEST", "freed_req"),
}
COMPLETING = re.compile(r"^MPI_(Wait|Test|Start|Request_free|Cancel|Request_get_status)")
SKIP = re.compile(
    r"^MPI_(Init|Finalize|Abort|Session_|T_|Comm_spawn|Comm_connect|Comm_accept|Comm_join"
    r"|Pcontrol|Wtime|Wtick|Open_port|Close_port|Publish_name|Unpublish_name|Lookup_name"
    r"|Register_datarep|Add_error|Remove_error|Abi_|Comm_disconnect|Win_lock_all|Win_lock"
    r"|Win_unlock|Win_start|Win_post|Win_wait|Win_complete|Win_test|File_open|File_delete"
    r"|Intercomm_create_from_groups|Buffer_detach|Comm_detach_buffer|Session_detach_buffer|Detach_buffer|Isendrecv_replace)"
    r"|_(f2c|c2f|f082c|c2f08|f2f08|f082f|toint|fromint)$|_c$"
)
RANKISH = {"dest", "source", "root", "rank", "target_rank"}
# Cases MPICH 4.0.2 accepts (returns MPI_SUCCESS), so we must too: (function, argument,
# variant) -> why. The sweep expects success for them.
MPICH_ACCEPTS = {
    # MPICH gives an empty name for a null handle; mpi4py's repr of a null object relies on it.
    ("MPI_Comm_get_name", "comm", "null"): "MPICH returns an empty name for MPI_COMM_NULL",
    ("MPI_Type_get_name", "datatype", "null"): "MPICH returns an empty name for MPI_DATATYPE_NULL",
    ("MPI_Win_get_name", "win", "null"): "MPICH returns an empty name for MPI_WIN_NULL",
}


def prototypes(text):
    protos = {}
    for m in re.finditer(r"^int (MPI_\w+)\(([^;]*?)\);", text, re.M | re.S):
        protos.setdefault(m.group(1), " ".join(m.group(2).split()))
    return protos


def split_params(s):
    if s.strip() in ("", "void"):
        return []
    return [p.strip() for p in s.split(",")]


def parse_param(p):
    """(type, name, is_pointer, is_const)"""
    m = re.match(r"^(.*?)(\w+)\s*((\[[^\]]*\])*)$", p)
    typ, name, arr = m.group(1).strip(), m.group(2), m.group(3)
    ptr = typ.count("*") + arr.count("[")
    const = typ.startswith("const")
    base = typ.replace("const", "").replace("*", "").strip()
    return base, name, ptr, const


def default_arg(base, name, ptr, const, fn, i):
    if "..." in base:
        return None
    if ptr == 0:
        if base in HANDLES:
            if base == "MPI_Request":
                return "MPI_REQUEST_NULL"
            return HANDLES[base][0]
        if base in ("int", "MPI_Count", "MPI_Aint", "MPI_Offset"):
            if "count" in name.lower() or name in ("n", "size", "incount", "outcount"):
                return "1"
            return "0"
        if base in ("double",):
            return "0.0"
        if base == "MPI_Fint" or base == "MPI_Session" or base.startswith("MPI_T_"):
            return None
        return "0"
    # Pointers.
    if base.endswith("_function") or base.endswith("_fn") or "function" in base:
        return "NULL"
    if base == "MPI_Status":
        return "&st"
    if base == "char" and const:
        return '"x"'
    if base == "char" and ptr == 2:
        return "(char **)big_ptrs"
    if base == "char" and ptr == 3:
        return "(char ***)big_ptrs"
    if base == "MPI_Request":
        return "reqs"
    if base == "void" and ptr >= 2:
        return "(void *)big_ptrs"
    # A region of its own per parameter: a send and a receive buffer must not alias.
    return "(%s%s)(big + %d)" % (("const " if const else "") + base, " " + "*" * ptr, i * 4096)


def main():
    text = open(f"{root}/include/mpi.h").read()
    protos = prototypes(text)
    table = [l.split("\t")[0] for l in open(f"{root}/reference/mpi-functions.tsv") if not l.startswith("#")]
    cases = []
    for fn in table:
        if fn not in protos or SKIP.search(fn):
            continue
        params = [parse_param(p) for p in split_params(protos[fn])]
        defaults = [default_arg(b, n, p, c, fn, i) for i, (b, n, p, c) in enumerate(params)]
        if any(d is None for d in defaults):
            continue
        for i, (base, name, ptr, const) in enumerate(params):
            variants = []  # (label, expr, class)
            if ptr == 0 and base in HANDLES and base != "MPI_Request":
                dflt, null, cls, freed = HANDLES[base]
                # MPI_FILE_NULL names the default file error handler: a valid argument there.
                if null and not (base == "MPI_File" and "errhandler" in fn):
                    variants.append(("null", null, cls))
                if freed:
                    variants.append(("freed", freed, cls))
                    variants.append(("forged", f"({base})forge({freed})", cls))
            elif base == "MPI_Request" and ptr >= 1 and COMPLETING.search(fn) and not const:
                variants.append(("freed", "REQS(freed_req)", "MPI_ERR_REQUEST"))
                variants.append(("forged", "REQS(forge(freed_req))", "MPI_ERR_REQUEST"))
            elif ptr == 0 and base in ("int", "MPI_Count") and "count" in name.lower():
                variants.append(("negative", "-1", "MPI_ERR_COUNT"))
            elif ptr == 0 and base == "int" and name in RANKISH and not fn.startswith("MPI_Status_set"):
                cls = "MPI_ERR_ROOT" if name == "root" else "MPI_ERR_RANK"
                variants.append(("size", "world_size", cls))
                variants.append(("-7", "-7", cls))
            elif ptr == 1 and base == "MPI_Status" and not const:
                variants.append(("NULL", "NULL", "MPI_ERR_ARG"))
            for label, expr, cls in variants:
                if (fn, name, label) in MPICH_ACCEPTS:
                    cls = "MPI_SUCCESS"
                args = list(defaults)
                args[i] = expr
                cases.append((fn, name, label, cls, args))
    w = open(out, "w")
    w.write(HEADER)
    for k, (fn, name, label, cls, args) in enumerate(cases):
        w.write(f"static int case_{k}(void) {{ return {fn}({', '.join(args)}); }}\n")
    w.write("static const struct Case cases[] = {\n")
    for k, (fn, name, label, cls, args) in enumerate(cases):
        w.write(f'    {{"{fn}", "{name}", "{label}", {cls}, "{cls}", case_{k}}},\n')
    w.write("};\n")
    w.write(FOOTER)
    print(f"{len(cases)} cases over {len({c[0] for c in cases})} functions", file=sys.stderr)


HEADER = r"""/* Generated by tests-fault/sweep_gen.py: do not edit. */
#include <mpi.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static _Alignas(64) char big[1 << 16];
static void *big_ptrs[64];
static MPI_Status st;
static MPI_Request reqs[16];
static MPI_Group g_world;
static MPI_Win d_win;
static MPI_File d_file;
static int world_size;
static MPI_Comm freed_comm;
static MPI_Datatype freed_type;
static MPI_Group freed_group;
static MPI_Op freed_op;
static MPI_Info freed_info;
static MPI_Win freed_win;
static MPI_Errhandler freed_errh;
static MPI_Request freed_req;

/* Same kind and object-type bits as a real handle, another (unallocated) index. */
static int forge(int h) { return (h & ~0x3ffff) | ((h + 0x2345) & 0x3ffff); }
static MPI_Request *REQS(MPI_Request r) { for (int i = 0; i < 16; i++) reqs[i] = r; return reqs; }
static void sum(void *a, void *b, int *n, MPI_Datatype *t) { (void)a; (void)b; (void)n; (void)t; }

struct Case { const char *fn, *arg, *variant; int want; const char *want_name; int (*call)(void); };
"""

FOOTER = r"""
int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN);
    MPI_Comm_size(MPI_COMM_WORLD, &world_size);
    for (int i = 0; i < 64; i++) big_ptrs[i] = big;
    for (int i = 0; i < 16; i++) reqs[i] = MPI_REQUEST_NULL;
    MPI_Comm_group(MPI_COMM_WORLD, &g_world);
    static int winbuf[1024];
    MPI_Win_create(winbuf, sizeof winbuf, 1, MPI_INFO_NULL, MPI_COMM_WORLD, &d_win);
    MPI_Win_set_errhandler(d_win, MPI_ERRORS_RETURN);
    char path[64];
    snprintf(path, sizeof path, "/tmp/oximpi-sweep-%d", (int)getpid());
    MPI_File_open(MPI_COMM_WORLD, path, MPI_MODE_CREATE | MPI_MODE_RDWR | MPI_MODE_DELETE_ON_CLOSE,
                  MPI_INFO_NULL, &d_file);
    MPI_File_set_errhandler(MPI_FILE_NULL, MPI_ERRORS_RETURN);
    MPI_Comm_dup(MPI_COMM_WORLD, &freed_comm); { MPI_Comm c = freed_comm; MPI_Comm_free(&c); }
    MPI_Type_contiguous(2, MPI_INT, &freed_type); MPI_Type_commit(&freed_type);
    { MPI_Datatype t = freed_type; MPI_Type_free(&t); }
    MPI_Comm_group(MPI_COMM_SELF, &freed_group); { MPI_Group g = freed_group; MPI_Group_free(&g); }
    MPI_Op_create(sum, 1, &freed_op); { MPI_Op o = freed_op; MPI_Op_free(&o); }
    MPI_Info_create(&freed_info); { MPI_Info i = freed_info; MPI_Info_free(&i); }
    MPI_Win_create(winbuf, 4, 1, MPI_INFO_NULL, MPI_COMM_SELF, &freed_win);
    { MPI_Win w = freed_win; MPI_Win_free(&w); }
    MPI_Comm_create_errhandler((MPI_Comm_errhandler_function *)(void (*)(void))sum, &freed_errh);
    { MPI_Errhandler e = freed_errh; MPI_Errhandler_free(&e); }
    { int x; MPI_Request r; MPI_Irecv(&x, 1, MPI_INT, 0, 5, MPI_COMM_SELF, &r); freed_req = r;
      MPI_Cancel(&r); MPI_Wait(&r, MPI_STATUS_IGNORE); }

    int n = sizeof cases / sizeof cases[0], counts[5] = {0};
    const char *verdicts[5] = {"ok", "accepted", "class", "crash", "hang"};
    for (int k = 0; k < n; k++) {
        const struct Case *c = &cases[k];
        int pfd[2];
        if (pipe(pfd) != 0) return 2;
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            close(pfd[0]);
            alarm(2);
            int rc = c->call();
            int cls = -1;
            if (rc != MPI_SUCCESS) MPI_Error_class(rc, &cls);
            int msg[2] = {rc, cls};
            if (write(pfd[1], msg, sizeof msg) != sizeof msg) _exit(3);
            _exit(0);
        }
        close(pfd[1]);
        int msg[2] = {0, 0}, status = 0;
        ssize_t got = read(pfd[0], msg, sizeof msg);
        close(pfd[0]);
        waitpid(pid, &status, 0);
        int v;
        char detail[128] = "";
        if (got != (ssize_t)sizeof msg) {
            int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
            v = sig == SIGALRM ? 4 : 3;
            snprintf(detail, sizeof detail, sig ? "signal %d" : "exit %d", sig ? sig : WEXITSTATUS(status));
        } else if (c->want == MPI_SUCCESS) {
            /* A case MPICH accepts (MPICH_ACCEPTS in sweep_gen.py). */
            v = msg[0] == MPI_SUCCESS ? 0 : 2;
            if (v) snprintf(detail, sizeof detail, "class %d, wanted MPI_SUCCESS (as MPICH)", msg[1]);
        } else if (msg[0] == MPI_SUCCESS) {
            v = 1;
            snprintf(detail, sizeof detail, "returned MPI_SUCCESS, wanted %s", c->want_name);
        } else if (msg[1] != c->want) {
            v = 2;
            char name[MPI_MAX_ERROR_STRING]; int len = 0;
            MPI_Error_string(msg[1], name, &len);
            snprintf(detail, sizeof detail, "class %d (%.60s), wanted %s", msg[1], name, c->want_name);
        } else {
            v = 0;
        }
        counts[v]++;
        printf("%s\t%s\t%s\t%s\t%s\n", c->fn, c->arg, c->variant, verdicts[v], detail);
    }
    fprintf(stderr, "sweep: %d cases: %d ok, %d accepted, %d wrong class, %d crashes, %d hangs\n",
            n, counts[0], counts[1], counts[2], counts[3], counts[4]);
    MPI_File_close(&d_file);
    MPI_Win_free(&d_win);
    MPI_Group_free(&g_world);
    MPI_Finalize();
    return 0;
}
"""

main()
