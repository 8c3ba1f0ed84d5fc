! One-sided communication through `use mpi`: MPI_WIN_CREATE over a Fortran array, put and
! get between fences, MPI_ACCUMULATE, and the window attributes read from Fortran
! (MPI_WIN_BASE as an address, MPI_WIN_SIZE, MPI_WIN_DISP_UNIT, MPI_WIN_CREATE_FLAVOR).
program rma
  use mpi
  implicit none
  integer :: ierr, rank, size, win, right, left, i
  integer :: buf(4), got(4), one
  integer(kind=MPI_ADDRESS_KIND) :: winsize, disp, val, addr
  logical :: flag

  call MPI_Init(ierr)
  call MPI_Comm_rank(MPI_COMM_WORLD, rank, ierr)
  call MPI_Comm_size(MPI_COMM_WORLD, size, ierr)
  right = mod(rank + 1, size)
  left = mod(rank - 1 + size, size)

  buf = -1
  winsize = 16
  call MPI_Win_create(buf, winsize, 4, MPI_INFO_NULL, MPI_COMM_WORLD, win, ierr)
  if (ierr /= MPI_SUCCESS) call fail('win_create')

  call MPI_Win_get_attr(win, MPI_WIN_BASE, val, flag, ierr)
  call MPI_Get_address(buf, addr, ierr)
  if (.not. flag .or. val /= addr) call fail('MPI_WIN_BASE')
  call MPI_Win_get_attr(win, MPI_WIN_SIZE, val, flag, ierr)
  if (.not. flag .or. val /= 16) call fail('MPI_WIN_SIZE')
  call MPI_Win_get_attr(win, MPI_WIN_DISP_UNIT, val, flag, ierr)
  if (.not. flag .or. val /= 4) call fail('MPI_WIN_DISP_UNIT')
  call MPI_Win_get_attr(win, MPI_WIN_CREATE_FLAVOR, val, flag, ierr)
  if (.not. flag .or. val /= MPI_WIN_FLAVOR_CREATE) call fail('MPI_WIN_CREATE_FLAVOR')

  ! Put our rank into element 2 of the right neighbour's window.
  call MPI_Win_fence(0, win, ierr)
  disp = 1
  call MPI_Put(rank, 1, MPI_INTEGER, right, disp, 1, MPI_INTEGER, win, ierr)
  call MPI_Win_fence(0, win, ierr)
  if (buf(2) /= left) call fail('put')

  ! Everyone adds rank+1 to element 4 of rank 0; then get it back.
  if (rank == 0) buf(4) = 0
  call MPI_Win_fence(0, win, ierr)
  disp = 3
  ! The origin buffer must live until the fence: a variable, not an expression.
  one = rank + 1
  call MPI_Accumulate(one, 1, MPI_INTEGER, 0, disp, 1, MPI_INTEGER, MPI_SUM, win, ierr)
  call MPI_Win_fence(0, win, ierr)
  got = 0
  call MPI_Get(got, 4, MPI_INTEGER, 0, 0_MPI_ADDRESS_KIND, 4, MPI_INTEGER, win, ierr)
  call MPI_Win_fence(0, win, ierr)
  if (got(4) /= size * (size + 1) / 2) call fail('accumulate / get')

  call MPI_Win_free(win, ierr)
  if (win /= MPI_WIN_NULL) call fail('win_free')
  call MPI_Barrier(MPI_COMM_WORLD, ierr)
  if (rank == 0) print '(a)', 'PASS rma'
  call MPI_Finalize(ierr)
end program rma

include 'fail.h'
