! Collectives through `use mpi`: bcast, reduce, allreduce and allgather with MPI_IN_PLACE,
! gather, scan, and a user-defined reduction written in Fortran (MPI_OP_CREATE).
subroutine absmax(invec, inoutvec, len, datatype)
  ! Non-commutative on purpose: keeps the value of larger magnitude, the left one on ties.
  implicit none
  integer :: len, datatype, i
  integer :: invec(len), inoutvec(len)
  do i = 1, len
     if (abs(invec(i)) >= abs(inoutvec(i))) inoutvec(i) = invec(i)
  end do
end subroutine absmax

program coll
  use mpi
  implicit none
  external :: absmax
  integer :: ierr, rank, size, i, op, v, expect
  integer :: a(4), all(64), s
  logical :: commute
  double precision :: d(2)

  call MPI_Init(ierr)
  call MPI_Comm_rank(MPI_COMM_WORLD, rank, ierr)
  call MPI_Comm_size(MPI_COMM_WORLD, size, ierr)

  a = 0
  if (rank == 0) a = (/ 7, 8, 9, 10 /)
  call MPI_Bcast(a, 4, MPI_INTEGER, 0, MPI_COMM_WORLD, ierr)
  if (any(a /= (/ 7, 8, 9, 10 /))) call fail('bcast')

  ! Allreduce in place.
  d = (/ dble(rank), 1d0 /)
  call MPI_Allreduce(MPI_IN_PLACE, d, 2, MPI_DOUBLE_PRECISION, MPI_SUM, MPI_COMM_WORLD, ierr)
  if (d(1) /= dble(size * (size - 1) / 2) .or. d(2) /= dble(size)) call fail('allreduce in place')

  ! Reduce in place at the root.
  v = rank + 1
  if (rank == 0) then
     call MPI_Reduce(MPI_IN_PLACE, v, 1, MPI_INTEGER, MPI_MAX, 0, MPI_COMM_WORLD, ierr)
     if (v /= size) call fail('reduce in place')
  else
     call MPI_Reduce(v, v, 1, MPI_INTEGER, MPI_MAX, 0, MPI_COMM_WORLD, ierr)
  end if

  ! Allgather in place.
  all = -1
  all(rank + 1) = rank * 3
  call MPI_Allgather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, all, 1, MPI_INTEGER, MPI_COMM_WORLD, ierr)
  do i = 1, size
     if (all(i) /= (i - 1) * 3) call fail('allgather in place')
  end do

  ! Gather to the last rank.
  all = -1
  call MPI_Gather(rank + 10, 1, MPI_INTEGER, all, 1, MPI_INTEGER, size - 1, MPI_COMM_WORLD, ierr)
  if (rank == size - 1) then
     do i = 1, size
        if (all(i) /= i + 9) call fail('gather')
     end do
  end if

  ! Scan.
  call MPI_Scan(1, s, 1, MPI_INTEGER, MPI_SUM, MPI_COMM_WORLD, ierr)
  if (s /= rank + 1) call fail('scan')

  ! A user-defined, non-commutative reduction: ranks contribute (-1)**r * (r + 1), so the
  ! result of largest magnitude is the last rank's.
  commute = .false.
  call MPI_Op_create(absmax, commute, op, ierr)
  if (ierr /= MPI_SUCCESS) call fail('op_create')
  v = (rank + 1) * (1 - 2 * mod(rank, 2))
  call MPI_Allreduce(v, s, 1, MPI_INTEGER, op, MPI_COMM_WORLD, ierr)
  expect = size * (1 - 2 * mod(size - 1, 2))
  if (s /= expect) call fail('user op allreduce')
  call MPI_Op_commutative(op, commute, ierr)
  if (commute) call fail('op_commutative')
  call MPI_Op_free(op, ierr)
  if (op /= MPI_OP_NULL) call fail('op_free')

  call MPI_Barrier(MPI_COMM_WORLD, ierr)
  if (rank == 0) print '(a)', 'PASS coll'
  call MPI_Finalize(ierr)
end program coll

include 'fail.h'
