//! MPI 5.0 handle conversions (MPI_Comm_toint, MPI_Comm_fromint, ...). With MPICH-ABI
//! handles, which are ints already, they are the identity. MPI_File is a pointer in this
//! ABI; its conversions belong to the I/O chapter.

#![deny(unsafe_op_in_unsafe_fn)]

use crate::mpi_fn_value;
use std::os::raw::c_int;

macro_rules! identity {
    ($($to:ident $pto:ident $from:ident $pfrom:ident;)*) => {$(
        mpi_fn_value!($to, $pto, (h: c_int) -> c_int, fallback h, { h });
        mpi_fn_value!($from, $pfrom, (h: c_int) -> c_int, fallback h, { h });
    )*};
}

identity! {
    MPI_Comm_toint PMPI_Comm_toint MPI_Comm_fromint PMPI_Comm_fromint;
    MPI_Errhandler_toint PMPI_Errhandler_toint MPI_Errhandler_fromint PMPI_Errhandler_fromint;
    MPI_Group_toint PMPI_Group_toint MPI_Group_fromint PMPI_Group_fromint;
    MPI_Info_toint PMPI_Info_toint MPI_Info_fromint PMPI_Info_fromint;
    MPI_Message_toint PMPI_Message_toint MPI_Message_fromint PMPI_Message_fromint;
    MPI_Op_toint PMPI_Op_toint MPI_Op_fromint PMPI_Op_fromint;
    MPI_Request_toint PMPI_Request_toint MPI_Request_fromint PMPI_Request_fromint;
    MPI_Session_toint PMPI_Session_toint MPI_Session_fromint PMPI_Session_fromint;
    MPI_Type_toint PMPI_Type_toint MPI_Type_fromint PMPI_Type_fromint;
    MPI_Win_toint PMPI_Win_toint MPI_Win_fromint PMPI_Win_fromint;
}
