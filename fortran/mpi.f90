! The `mpi` module of OxiMPI (`use mpi`): the constants of mpif.h, with MPICH's values and
! its COMMON blocks for the special addresses, so that programs built with `use mpi` and with
! `include 'mpif.h'` pass the same MPI_BOTTOM, MPI_IN_PLACE, MPI_STATUS_IGNORE, ...
! The procedures are the library's external ones (MPICH's mpi module also leaves the
! choice-buffer routines without explicit interfaces).
! scripts/build.sh compiles it with gfortran into build/include/mpi.mod.
module mpi
    implicit none
    include 'mpif.h'
end module mpi
