! The large-count routines of `use mpi_f08` that have names of their own because a generic
! interface cannot tell them from the INTEGER forms (MPI 4.1 section 19.2): MPI_Op_create_c
! with an MPI_User_function_c (INTEGER(MPI_COUNT_KIND) len), MPI_Type_get_extent_c and
! MPI_Type_get_true_extent_c. MPICH 4.0.2's module has none of them, so the test is built
! only with our mpifort.
! modes: native
module bigops
  use mpi_f08
  use, intrinsic :: iso_c_binding, only: c_ptr, c_f_pointer
  implicit none
contains
  subroutine bigsum(invec, inoutvec, len, datatype)
    type(c_ptr), value :: invec, inoutvec
    integer(kind=MPI_COUNT_KIND) :: len
    type(MPI_Datatype) :: datatype
    integer, pointer :: a(:), b(:)
    if (datatype /= MPI_INTEGER) return
    call c_f_pointer(invec, a, [len])
    call c_f_pointer(inoutvec, b, [len])
    b = a + b
  end subroutine bigsum
end module bigops

program large_f08
  use mpi_f08
  use bigops
  implicit none
  integer :: rank, size, a(4)
  type(MPI_Op) :: op
  type(MPI_Datatype) :: t
  integer(kind=MPI_COUNT_KIND) :: lb, extent, n

  call MPI_Init()
  call MPI_Comm_rank(MPI_COMM_WORLD, rank)
  call MPI_Comm_size(MPI_COMM_WORLD, size)

  call MPI_Op_create_c(bigsum, .true., op)
  a = [1, 2, 3, rank]
  call MPI_Allreduce(MPI_IN_PLACE, a, 4, MPI_INTEGER, op, MPI_COMM_WORLD)
  if (any(a /= [size, 2 * size, 3 * size, size * (size - 1) / 2])) call fail('op_create_c')
  call MPI_Op_free(op)

  n = 6
  call MPI_Type_contiguous(n, MPI_INTEGER, t)
  call MPI_Type_get_extent_c(t, lb, extent)
  if (lb /= 0 .or. extent /= 24) call fail('type_get_extent_c')
  call MPI_Type_get_true_extent_c(t, lb, extent)
  if (lb /= 0 .or. extent /= 24) call fail('type_get_true_extent_c')
  call MPI_Type_free(t)

  call MPI_Barrier(MPI_COMM_WORLD)
  if (rank == 0) print '(a)', 'PASS large_f08'
  call MPI_Finalize()
end program large_f08

include 'fail.h'
