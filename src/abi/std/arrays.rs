//! Calls with arrays of handles or of translated integers: struct and darray datatypes,
//! MPI_Type_get_contents, the alltoallw family, MPI_Comm_spawn_multiple,
//! MPI_Group_translate_ranks. An array's length comes from the call's other arguments, or
//! from the communicator (alltoallw: its size, or remote size; neighbour forms: its
//! topology's degrees).

use super::callbacks::{face, out_handle};
use super::handles as h;
use super::mpich as imp;
use super::tables as t;
use super::values as v;
use std::os::raw::{c_char, c_int, c_void};

/// `n` standard handles at `p` as MPICH handles (empty for NULL).
unsafe fn handles_in(p: *const usize, n: usize, conv: fn(usize) -> c_int) -> Vec<c_int> {
    if p.is_null() {
        return Vec::new();
    }
    // SAFETY: n readable handles by the caller's contract.
    (0..n).map(|i| conv(unsafe { *p.add(i) })).collect()
}

/// The pointer to hand on for a translated array: NULL stays NULL.
fn ptr_of<T>(user: *const T, v: &[c_int]) -> *const c_int {
    if user.is_null() {
        std::ptr::null()
    } else {
        v.as_ptr()
    }
}

/// `n` ints at `p` translated by `conv`.
unsafe fn ints_in(p: *const c_int, n: usize, conv: fn(c_int) -> c_int) -> Vec<c_int> {
    if p.is_null() {
        return Vec::new();
    }
    // SAFETY: n readable ints by the caller's contract.
    (0..n).map(|i| conv(unsafe { *p.add(i) })).collect()
}

fn count(n: impl TryInto<usize>) -> usize {
    n.try_into().unwrap_or(0)
}

// ---------------------------------------------------------------------------------------
// Datatypes
// ---------------------------------------------------------------------------------------

macro_rules! create_struct {
    ($mpi:ident, $pmpi:ident, $cnt:ty, $disp:ty) => {
        face!($mpi, $pmpi, (count: $cnt, array_of_blocklengths: *const $cnt, array_of_displacements: *const $disp, array_of_types: *const usize, newtype: *mut usize) {
            let ts = handles_in(array_of_types, self::count(count), h::dtype_in);
            out_handle(newtype, h::dtype_out, |p| {
                imp::$pmpi(count, array_of_blocklengths as _, array_of_displacements as _, ptr_of(array_of_types, &ts) as _, p)
            })
        });
    };
}
create_struct!(
    MPI_Type_create_struct,
    PMPI_Type_create_struct,
    c_int,
    isize
);
create_struct!(
    MPI_Type_create_struct_c,
    PMPI_Type_create_struct_c,
    i64,
    i64
);

macro_rules! create_darray {
    ($mpi:ident, $pmpi:ident, $gs:ty) => {
        face!($mpi, $pmpi, (size: c_int, rank: c_int, ndims: c_int, array_of_gsizes: *const $gs, array_of_distribs: *const c_int, array_of_dargs: *const c_int, array_of_psizes: *const c_int, order: c_int, oldtype: usize, newtype: *mut usize) {
            let n = count(ndims);
            let distribs = ints_in(array_of_distribs, n, v::distribute_in);
            let dargs = ints_in(array_of_dargs, n, v::darg_in);
            out_handle(newtype, h::dtype_out, |p| {
                imp::$pmpi(size, rank, ndims, array_of_gsizes as _, ptr_of(array_of_distribs, &distribs) as _,
                    ptr_of(array_of_dargs, &dargs) as _, array_of_psizes as _, v::order_in(order), h::dtype_in(oldtype), p)
            })
        });
    };
}
create_darray!(MPI_Type_create_darray, PMPI_Type_create_darray, c_int);
create_darray!(MPI_Type_create_darray_c, PMPI_Type_create_darray_c, i64);

/// Translates the combiner-specific integers MPI_Type_get_contents returns: the order of
/// a subarray or darray, a darray's distributions and distribution arguments. `ints` holds
/// what the call wrote (`len` of them); `large` says the _c layout (sizes in large counts).
unsafe fn contents_ints_out(combiner: c_int, ints: *mut c_int, len: usize, large: bool) {
    if ints.is_null() || len == 0 {
        return;
    }
    // SAFETY: the call wrote `len` ints there.
    let a = unsafe { std::slice::from_raw_parts_mut(ints, len) };
    let at = |a: &mut [c_int], i: usize, f: fn(c_int) -> c_int| {
        if let Some(x) = a.get_mut(i) {
            *x = f(*x);
        }
    };
    if combiner == t::combiner_in(111) {
        // subarray: ndims, sizes, subsizes, starts, order (_c: ndims, order).
        let nd = count(a[0]);
        at(a, if large { 1 } else { 3 * nd + 1 }, t::order_out);
    } else if combiner == t::combiner_in(112) {
        // darray: size, rank, ndims, [gsizes,] distribs, dargs, psizes, order.
        let nd = count(*a.get(2).unwrap_or(&0));
        let base = if large { 3 } else { 3 + nd };
        for i in 0..nd {
            at(a, base + i, t::distribute_out);
            at(a, base + nd + i, darg_out);
        }
        at(a, base + 3 * nd, t::order_out);
    }
}

fn darg_out(d: c_int) -> c_int {
    if d == t::MPICH_DISTRIBUTE_DFLT_DARG {
        t::STD_DISTRIBUTE_DFLT_DARG
    } else {
        d
    }
}

face!(MPI_Type_get_contents, PMPI_Type_get_contents, (datatype: usize, max_integers: c_int, max_addresses: c_int, max_datatypes: c_int, array_of_integers: *mut c_int, array_of_addresses: *mut isize, array_of_datatypes: *mut usize) {
    let dt = h::dtype_in(datatype);
    let (mut ni, mut na, mut nd, mut comb) = (0, 0, 0, 0);
    let rc = imp::PMPI_Type_get_envelope(dt, &mut ni, &mut na, &mut nd, &mut comb);
    if rc != 0 {
        return v::err_out(rc);
    }
    let mut ts = vec![0 as c_int; count(max_datatypes)];
    let tp = if array_of_datatypes.is_null() { std::ptr::null_mut() } else { ts.as_mut_ptr() };
    let rc = imp::PMPI_Type_get_contents(dt, max_integers, max_addresses, max_datatypes, array_of_integers, array_of_addresses as _, tp);
    if rc == 0 {
        for (i, &m) in ts.iter().take(count(nd)).enumerate() {
            *array_of_datatypes.add(i) = h::dtype_out(m);
        }
        contents_ints_out(comb, array_of_integers, count(ni.min(max_integers)), false);
    }
    v::err_out(rc)
});

face!(MPI_Type_get_contents_c, PMPI_Type_get_contents_c, (datatype: usize, max_integers: i64, max_addresses: i64, max_large_counts: i64, max_datatypes: i64, array_of_integers: *mut c_int, array_of_addresses: *mut isize, array_of_large_counts: *mut i64, array_of_datatypes: *mut usize) {
    let dt = h::dtype_in(datatype);
    let (mut ni, mut na, mut nl, mut nd, mut comb) = (0i64, 0i64, 0i64, 0i64, 0);
    let rc = imp::PMPI_Type_get_envelope_c(dt, &mut ni, &mut na, &mut nl, &mut nd, &mut comb);
    if rc != 0 {
        return v::err_out(rc);
    }
    let mut ts = vec![0 as c_int; count(max_datatypes)];
    let tp = if array_of_datatypes.is_null() { std::ptr::null_mut() } else { ts.as_mut_ptr() };
    let rc = imp::PMPI_Type_get_contents_c(dt, max_integers, max_addresses, max_large_counts, max_datatypes, array_of_integers, array_of_addresses as _, array_of_large_counts, tp);
    if rc == 0 {
        for (i, &m) in ts.iter().take(count(nd)).enumerate() {
            *array_of_datatypes.add(i) = h::dtype_out(m);
        }
        contents_ints_out(comb, array_of_integers, count(ni.min(max_integers)), true);
    }
    v::err_out(rc)
});

// ---------------------------------------------------------------------------------------
// Alltoallw
// ---------------------------------------------------------------------------------------

/// (send, receive) block counts of an alltoallw on `comm`: its size, or for an
/// intercommunicator its remote size. (0, 0) when `comm` is invalid: the call reports it.
fn all_peers(comm: c_int) -> (usize, usize) {
    let (mut inter, mut n) = (0, 0);
    // SAFETY: local outputs.
    unsafe {
        if imp::PMPI_Comm_test_inter(comm, &mut inter) != 0 {
            return (0, 0);
        }
        let rc = if inter != 0 {
            imp::PMPI_Comm_remote_size(comm, &mut n)
        } else {
            imp::PMPI_Comm_size(comm, &mut n)
        };
        if rc != 0 {
            return (0, 0);
        }
    }
    (count(n), count(n))
}

/// (send, receive) block counts of a neighbour alltoallw: (outdegree, indegree).
fn neighbor_peers(comm: c_int) -> (usize, usize) {
    let mut topo = 0;
    // SAFETY: local outputs.
    unsafe {
        if imp::PMPI_Topo_test(comm, &mut topo) != 0 {
            return (0, 0);
        }
        if topo == t::topo_in(211) {
            let mut nd = 0;
            if imp::PMPI_Cartdim_get(comm, &mut nd) != 0 {
                return (0, 0);
            }
            (2 * count(nd), 2 * count(nd))
        } else if topo == t::topo_in(212) {
            let (mut rank, mut n) = (0, 0);
            if imp::PMPI_Comm_rank(comm, &mut rank) != 0
                || imp::PMPI_Graph_neighbors_count(comm, rank, &mut n) != 0
            {
                return (0, 0);
            }
            (count(n), count(n))
        } else if topo == t::topo_in(213) {
            let (mut i, mut o, mut w) = (0, 0, 0);
            if imp::PMPI_Dist_graph_neighbors_count(comm, &mut i, &mut o, &mut w) != 0 {
                return (0, 0);
            }
            (count(o), count(i))
        } else {
            (0, 0)
        }
    }
}

/// The send and receive datatype arrays of an alltoallw call, as MPICH handles.
struct Types {
    send: Vec<c_int>,
    recv: Vec<c_int>,
    user_send: *const usize,
    user_recv: *const usize,
}

impl Types {
    /// # Safety
    /// The arrays are NULL or hold the block counts `peers(comm)` gives.
    unsafe fn new(
        comm: c_int,
        peers: fn(c_int) -> (usize, usize),
        s: *const usize,
        r: *const usize,
    ) -> Types {
        let (ns, nr) = peers(comm);
        Types {
            // SAFETY: as the caller promises.
            send: unsafe { handles_in(s, ns, h::dtype_in) },
            recv: unsafe { handles_in(r, nr, h::dtype_in) },
            user_send: s,
            user_recv: r,
        }
    }
    fn send(&self) -> *const c_int {
        ptr_of(self.user_send, &self.send)
    }
    /// The same array for both stays one array (the implementation notices it).
    fn recv(&self) -> *const c_int {
        if self.user_recv == self.user_send && self.recv.len() == self.send.len() {
            self.send()
        } else {
            ptr_of(self.user_recv, &self.recv)
        }
    }
}

macro_rules! alltoallw {
    ($mpi:ident, $pmpi:ident, $peers:ident, $cnt:ty, $disp:ty) => {
        face!($mpi, $pmpi, (sendbuf: *const c_void, sendcounts: *const $cnt, sdispls: *const $disp, sendtypes: *const usize, recvbuf: *mut c_void, recvcounts: *const $cnt, rdispls: *const $disp, recvtypes: *const usize, comm: usize) {
            let c = h::comm_in(comm);
            let t = Types::new(c, $peers, sendtypes, recvtypes);
            v::err_out(imp::$pmpi(v::buf_in(sendbuf) as _, sendcounts, sdispls, t.send(), v::buf_in(recvbuf) as _, recvcounts, rdispls, t.recv(), c))
        });
    };
    ($mpi:ident, $pmpi:ident, $peers:ident, $cnt:ty, $disp:ty, $(info: $info:ident,)? request) => {
        face!($mpi, $pmpi, (sendbuf: *const c_void, sendcounts: *const $cnt, sdispls: *const $disp, sendtypes: *const usize, recvbuf: *mut c_void, recvcounts: *const $cnt, rdispls: *const $disp, recvtypes: *const usize, comm: usize, $($info: usize,)? request: *mut usize) {
            let c = h::comm_in(comm);
            let t = Types::new(c, $peers, sendtypes, recvtypes);
            out_handle(request, h::req_out, |p| {
                imp::$pmpi(v::buf_in(sendbuf) as _, sendcounts, sdispls, t.send(), v::buf_in(recvbuf) as _, recvcounts, rdispls, t.recv(), c, $(h::info_in($info),)? p)
            })
        });
    };
}
alltoallw!(MPI_Alltoallw, PMPI_Alltoallw, all_peers, c_int, c_int);
alltoallw!(MPI_Alltoallw_c, PMPI_Alltoallw_c, all_peers, i64, isize);
alltoallw!(
    MPI_Ialltoallw,
    PMPI_Ialltoallw,
    all_peers,
    c_int,
    c_int,
    request
);
alltoallw!(
    MPI_Ialltoallw_c,
    PMPI_Ialltoallw_c,
    all_peers,
    i64,
    isize,
    request
);
alltoallw!(
    MPI_Alltoallw_init,
    PMPI_Alltoallw_init,
    all_peers,
    c_int,
    c_int,
    info: info,
    request
);
alltoallw!(
    MPI_Alltoallw_init_c,
    PMPI_Alltoallw_init_c,
    all_peers,
    i64,
    isize,
    info: info,
    request
);
alltoallw!(
    MPI_Neighbor_alltoallw,
    PMPI_Neighbor_alltoallw,
    neighbor_peers,
    c_int,
    isize
);
alltoallw!(
    MPI_Neighbor_alltoallw_c,
    PMPI_Neighbor_alltoallw_c,
    neighbor_peers,
    i64,
    isize
);
alltoallw!(
    MPI_Ineighbor_alltoallw,
    PMPI_Ineighbor_alltoallw,
    neighbor_peers,
    c_int,
    isize,
    request
);
alltoallw!(
    MPI_Ineighbor_alltoallw_c,
    PMPI_Ineighbor_alltoallw_c,
    neighbor_peers,
    i64,
    isize,
    request
);
alltoallw!(
    MPI_Neighbor_alltoallw_init,
    PMPI_Neighbor_alltoallw_init,
    neighbor_peers,
    c_int,
    isize,
    info: info,
    request
);
alltoallw!(
    MPI_Neighbor_alltoallw_init_c,
    PMPI_Neighbor_alltoallw_init_c,
    neighbor_peers,
    i64,
    isize,
    info: info,
    request
);

// ---------------------------------------------------------------------------------------
// Processes and groups
// ---------------------------------------------------------------------------------------

face!(MPI_Comm_spawn_multiple, PMPI_Comm_spawn_multiple, (count: c_int, array_of_commands: *mut *mut c_char, array_of_argv: *mut *mut *mut c_char, array_of_maxprocs: *const c_int, array_of_info: *const usize, root: c_int, comm: usize, intercomm: *mut usize, array_of_errcodes: *mut c_int) {
    let n = self::count(count);
    let infos = handles_in(array_of_info, n, h::info_in);
    let total: c_int = if array_of_maxprocs.is_null() {
        0
    } else {
        (0..n).map(|i| (*array_of_maxprocs.add(i)).max(0)).sum()
    };
    let rc = out_handle(intercomm, h::comm_out, |p| {
        imp::PMPI_Comm_spawn_multiple(count, array_of_commands, array_of_argv, array_of_maxprocs,
            ptr_of(array_of_info, &infos), v::rank_in(root), h::comm_in(comm), p, array_of_errcodes)
    });
    v::errcodes_out(array_of_errcodes, total);
    rc
});

face!(MPI_Group_translate_ranks, PMPI_Group_translate_ranks, (group1: usize, n: c_int, ranks1: *const c_int, group2: usize, ranks2: *mut c_int) {
    let r1 = ints_in(ranks1, count(n), v::rank_in);
    let rc = imp::PMPI_Group_translate_ranks(h::group_in(group1), n, ptr_of(ranks1, &r1) as _, h::group_in(group2), ranks2 as _);
    if rc == 0 && !ranks2.is_null() {
        for i in 0..count(n) {
            *ranks2.add(i) = v::rank_out(*ranks2.add(i));
        }
    }
    v::err_out(rc)
});
