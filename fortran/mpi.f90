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

    ! MPI_SIZEOF: one specific procedure per type, kind and rank (scalar or array), as in
    ! MPICH's module; the library implements them (src/abi/fortran/hand.rs).
    interface MPI_SIZEOF
        subroutine mpi_sizeof_i(x, size, ierror)
            integer :: x, size, ierror
        end subroutine
        subroutine mpi_sizeof_iv(x, size, ierror)
            integer :: x(*), size, ierror
        end subroutine
        subroutine mpi_sizeof_i1(x, size, ierror)
            integer*1 :: x
            integer :: size, ierror
        end subroutine
        subroutine mpi_sizeof_i1v(x, size, ierror)
            integer*1 :: x(*)
            integer :: size, ierror
        end subroutine
        subroutine mpi_sizeof_i2(x, size, ierror)
            integer*2 :: x
            integer :: size, ierror
        end subroutine
        subroutine mpi_sizeof_i2v(x, size, ierror)
            integer*2 :: x(*)
            integer :: size, ierror
        end subroutine
        subroutine mpi_sizeof_i8(x, size, ierror)
            integer*8 :: x
            integer :: size, ierror
        end subroutine
        subroutine mpi_sizeof_i8v(x, size, ierror)
            integer*8 :: x(*)
            integer :: size, ierror
        end subroutine
        subroutine mpi_sizeof_r(x, size, ierror)
            real :: x
            integer :: size, ierror
        end subroutine
        subroutine mpi_sizeof_rv(x, size, ierror)
            real :: x(*)
            integer :: size, ierror
        end subroutine
        subroutine mpi_sizeof_d(x, size, ierror)
            double precision :: x
            integer :: size, ierror
        end subroutine
        subroutine mpi_sizeof_dv(x, size, ierror)
            double precision :: x(*)
            integer :: size, ierror
        end subroutine
        subroutine mpi_sizeof_l(x, size, ierror)
            logical :: x
            integer :: size, ierror
        end subroutine
        subroutine mpi_sizeof_lv(x, size, ierror)
            logical :: x(*)
            integer :: size, ierror
        end subroutine
        subroutine mpi_sizeof_ch(x, size, ierror)
            character :: x
            integer :: size, ierror
        end subroutine
        subroutine mpi_sizeof_chv(x, size, ierror)
            character :: x(*)
            integer :: size, ierror
        end subroutine
        subroutine mpi_sizeof_cx(x, size, ierror)
            complex :: x
            integer :: size, ierror
        end subroutine
        subroutine mpi_sizeof_cxv(x, size, ierror)
            complex :: x(*)
            integer :: size, ierror
        end subroutine
    end interface MPI_SIZEOF
end module mpi
