! Point-to-point through `use mpi_f08`: TYPE(MPI_Status) fields and MPI_Get_count, arrays of
! statuses, MPI_STATUS(ES)_IGNORE, MPI_Waitany's 1-based index, probe + mrecv, and array
! sections as buffers (MPI_SUBARRAYS_SUPPORTED): a strided send, a nonblocking receive into
! a strided section of a 2-D array, the large-count form (INTEGER(MPI_COUNT_KIND) count).
program p2p_f08
  use mpi_f08
  implicit none
  integer :: rank, size, i, n, idx, next, prev
  integer :: a(10), b(5), m(4, 6)
  type(MPI_Status) :: st, sts(2)
  type(MPI_Request) :: reqs(2)
  type(MPI_Message) :: msg
  logical :: flag
  integer(kind=MPI_COUNT_KIND) :: big

  call MPI_Init()
  call MPI_Comm_rank(MPI_COMM_WORLD, rank)
  call MPI_Comm_size(MPI_COMM_WORLD, size)
  if (.not. MPI_SUBARRAYS_SUPPORTED) call fail('MPI_SUBARRAYS_SUPPORTED')
  next = mod(rank + 1, size)
  prev = mod(rank + size - 1, size)
  a = [(i + 100 * rank, i = 1, 10)]

  ! A strided section to the next rank, received contiguously, with its status.
  b = 0
  call MPI_Sendrecv(a(2:10:2), 5, MPI_INTEGER, next, 11, b, 5, MPI_INTEGER, prev, 11, &
       MPI_COMM_WORLD, st)
  if (any(b /= [(2 * i + 100 * prev, i = 1, 5)])) call fail('sendrecv of a section')
  if (st%MPI_SOURCE /= prev .or. st%MPI_TAG /= 11) call fail('status fields')
  call MPI_Get_count(st, MPI_INTEGER, n)
  if (n /= 5) call fail('get_count')

  ! Nonblocking receive into row 2 of m (a stride of 4 integers), waited with statuses.
  m = -1
  call MPI_Irecv(m(2, 1:5), 5, MPI_INTEGER, prev, 12, MPI_COMM_WORLD, reqs(1))
  call MPI_Isend(a, 5, MPI_INTEGER, next, 12, MPI_COMM_WORLD, reqs(2))
  call MPI_Waitall(2, reqs, sts)
  if (any(m(2, 1:5) /= [(i + 100 * prev, i = 1, 5)])) call fail('irecv into a section')
  if (any(m(1, :) /= -1) .or. any(m(3:4, :) /= -1) .or. m(2, 6) /= -1) &
       call fail('irecv wrote outside the section')
  if (sts(1)%MPI_SOURCE /= prev .or. sts(1)%MPI_TAG /= 12) call fail('statuses(1)')
  if (reqs(1) /= MPI_REQUEST_NULL) call fail('waitall frees the requests')

  ! Waitany: 1-based index; MPI_STATUSES_IGNORE.
  call MPI_Irecv(b, 5, MPI_INTEGER, prev, 13, MPI_COMM_WORLD, reqs(1))
  reqs(2) = MPI_REQUEST_NULL
  call MPI_Send(a, 5, MPI_INTEGER, next, 13, MPI_COMM_WORLD)
  call MPI_Waitany(2, reqs, idx, st)
  if (idx /= 1) call fail('waitany index')
  call MPI_Waitall(2, reqs, MPI_STATUSES_IGNORE)

  ! Probe + matched receive; test with a LOGICAL flag.
  call MPI_Isend(a, 3, MPI_INTEGER, next, 14, MPI_COMM_WORLD, reqs(1))
  call MPI_Mprobe(prev, 14, MPI_COMM_WORLD, msg, st)
  call MPI_Get_count(st, MPI_INTEGER, n)
  if (n /= 3) call fail('mprobe count')
  call MPI_Mrecv(b, n, MPI_INTEGER, msg, MPI_STATUS_IGNORE)
  if (msg /= MPI_MESSAGE_NULL) call fail('mrecv sets MPI_MESSAGE_NULL')
  flag = .false.
  do while (.not. flag)
     call MPI_Test(reqs(1), flag, MPI_STATUS_IGNORE)
  end do

  ! The large-count form.
  big = 4
  call MPI_Sendrecv(a, big, MPI_INTEGER, next, 15, b, big, MPI_INTEGER, prev, 15, &
       MPI_COMM_WORLD, st)
  if (any(b(1:4) /= [(i + 100 * prev, i = 1, 4)])) call fail('large-count sendrecv')
  call MPI_Get_count(st, MPI_INTEGER, big)
  if (big /= 4) call fail('large-count get_count')

  call MPI_Barrier(MPI_COMM_WORLD)
  if (rank == 0) print '(a)', 'PASS p2p_f08'
  call MPI_Finalize()
end program p2p_f08

include 'fail.h'
