! The `mpi` module of OxiMPI (`use mpi`): the constants of mpif.h, with MPICH's values and
! its COMMON blocks for the special addresses, so that programs built with `use mpi` and with
! `include 'mpif.h'` pass the same MPI_BOTTOM, MPI_IN_PLACE, MPI_STATUS_IGNORE, ...
! The routines without choice buffers have explicit interfaces (mpi_interfaces.h, generated
! by tools/gen-fortran.py and checked against MPICH's module by tests-f), so a wrong argument
! is a compile error as with MPICH; the choice-buffer routines are left to implicit
! interfaces, as MPICH's module leaves them.
! scripts/build.sh compiles it with gfortran into build/include/mpi.mod.
module mpi
    implicit none
    include 'mpif.h'
    include 'mpi_interfaces.h'
end module mpi
