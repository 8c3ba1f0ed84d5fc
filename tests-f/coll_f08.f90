! Collectives through `use mpi_f08`: bcast, allreduce with MPI_IN_PLACE, a user reduction
! with the f08 interface (TYPE(C_PTR) vectors, TYPE(MPI_Datatype)), gather, scan,
! alltoall, a nonblocking ibcast, array sections as buffers.
module ops
  use mpi_f08
  use, intrinsic :: iso_c_binding, only: c_ptr, c_f_pointer
  implicit none
contains
  ! Non-commutative on purpose: keeps the value of larger magnitude, the left one on ties.
  subroutine absmax(invec, inoutvec, len, datatype)
    type(c_ptr), value :: invec, inoutvec
    integer :: len
    type(MPI_Datatype) :: datatype
    integer, pointer :: a(:), b(:)
    integer :: i
    if (datatype /= MPI_INTEGER) return
    call c_f_pointer(invec, a, [len])
    call c_f_pointer(inoutvec, b, [len])
    do i = 1, len
       if (abs(a(i)) >= abs(b(i))) b(i) = a(i)
    end do
  end subroutine absmax
end module ops

program coll_f08
  use mpi_f08
  use ops
  implicit none
  integer :: rank, size, i, v, s, a(4), all(64), x(8), y(8), expect
  double precision :: d(2)
  type(MPI_Op) :: op
  type(MPI_Request) :: req
  logical :: commute

  call MPI_Init()
  call MPI_Comm_rank(MPI_COMM_WORLD, rank)
  call MPI_Comm_size(MPI_COMM_WORLD, size)

  a = 0
  if (rank == 0) a = [7, 8, 9, 10]
  call MPI_Bcast(a, 4, MPI_INTEGER, 0, MPI_COMM_WORLD)
  if (any(a /= [7, 8, 9, 10])) call fail('bcast')

  d = [dble(rank), 1d0]
  call MPI_Allreduce(MPI_IN_PLACE, d, 2, MPI_DOUBLE_PRECISION, MPI_SUM, MPI_COMM_WORLD)
  if (d(1) /= dble(size * (size - 1) / 2) .or. d(2) /= dble(size)) call fail('allreduce in place')

  call MPI_Op_create(absmax, .false., op)
  call MPI_Op_commutative(op, commute)
  if (commute) call fail('op_commutative')
  v = (rank + 1) * merge(1, -1, mod(rank, 2) == 0)
  call MPI_Allreduce(v, s, 1, MPI_INTEGER, op, MPI_COMM_WORLD)
  expect = size * merge(1, -1, mod(size - 1, 2) == 0)
  if (s /= expect) call fail('user op')
  call MPI_Op_free(op)
  if (op /= MPI_OP_NULL) call fail('op_free')

  all = -1
  call MPI_Gather(rank + 10, 1, MPI_INTEGER, all, 1, MPI_INTEGER, size - 1, MPI_COMM_WORLD)
  if (rank == size - 1) then
     do i = 1, size
        if (all(i) /= i + 9) call fail('gather')
     end do
  end if

  call MPI_Scan(rank + 1, s, 1, MPI_INTEGER, MPI_SUM, MPI_COMM_WORLD)
  if (s /= (rank + 1) * (rank + 2) / 2) call fail('scan')

  x = [(rank * 100 + i, i = 1, 8)]
  y = -1
  call MPI_Alltoall(x, 1, MPI_INTEGER, y, 1, MPI_INTEGER, MPI_COMM_WORLD)
  do i = 1, size
     if (y(i) /= (i - 1) * 100 + rank + 1) call fail('alltoall')
  end do

  a = 0
  if (rank == 0) a = [1, 2, 3, 4]
  call MPI_Ibcast(a, 4, MPI_INTEGER, 0, MPI_COMM_WORLD, req)
  call MPI_Wait(req, MPI_STATUS_IGNORE)
  if (any(a /= [1, 2, 3, 4])) call fail('ibcast')

  ! A strided section as the buffer of a broadcast.
  x = 0
  if (rank == 0) x = [(i, i = 1, 8)]
  call MPI_Bcast(x(2:8:2), 4, MPI_INTEGER, 0, MPI_COMM_WORLD)
  if (rank /= 0 .and. any(x /= [0, 2, 0, 4, 0, 6, 0, 8])) call fail('bcast of a section')

  ! A reduction's buffers share one (count, datatype), so they cannot be described by a
  ! datatype each: a section there is MPI_ERR_BUFFER, through the errhandler.
  call MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN)
  x = [(i, i = 1, 8)]
  call MPI_Reduce(x(1:8:2), y, 4, MPI_INTEGER, MPI_SUM, 0, MPI_COMM_WORLD, i)
  call MPI_Error_class(i, s)
  if (s /= MPI_ERR_BUFFER) call fail('reduce of a section')
  call MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL)

  call MPI_Barrier(MPI_COMM_WORLD)
  if (rank == 0) print '(a)', 'PASS coll_f08'
  call MPI_Finalize()
end program coll_f08

include 'fail.h'
