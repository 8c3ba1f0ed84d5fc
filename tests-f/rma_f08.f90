! One-sided communication through `use mpi_f08`: MPI_Win_allocate returning TYPE(C_PTR)
! (reached with C_F_POINTER), MPI_Win_create over an array, put / get / accumulate with
! fences and MPI_F_sync_reg, the large-count form of MPI_Win_allocate (INTEGER(MPI_ADDRESS_KIND) disp_unit).
program rma_f08
  use mpi_f08
  use, intrinsic :: iso_c_binding, only: c_ptr, c_f_pointer
  implicit none
  integer :: rank, size, next, prev, i
  integer, pointer, asynchronous :: mem(:)
  integer, target :: arr(8)
  integer :: got(4), src(4), ones(4)
  type(c_ptr) :: base
  type(MPI_Win) :: win, win2
  integer(kind=MPI_ADDRESS_KIND) :: bytes, disp

  call MPI_Init()
  call MPI_Comm_rank(MPI_COMM_WORLD, rank)
  call MPI_Comm_size(MPI_COMM_WORLD, size)
  next = mod(rank + 1, size)
  prev = mod(rank + size - 1, size)

  bytes = 4 * 4
  call MPI_Win_allocate(bytes, 4, MPI_INFO_NULL, MPI_COMM_WORLD, base, win)
  call c_f_pointer(base, mem, [4])
  mem = -1
  call MPI_Win_fence(0, win)
  disp = 0
  ! Origin buffers are variables: they must live until the fence completes the transfer.
  src = [(rank * 10 + i, i = 1, 4)]
  call MPI_Put(src, 4, MPI_INTEGER, next, disp, 4, MPI_INTEGER, win)
  call MPI_Win_fence(0, win)
  ! The window memory changed behind the compiler's back (MPI 4.1 section 19.1.17).
  call MPI_F_sync_reg(mem)
  if (any(mem /= [(prev * 10 + i, i = 1, 4)])) call fail('put into win_allocate memory')
  ! Everyone has read its window before anyone starts the accumulate of the next epoch.
  call MPI_Barrier(MPI_COMM_WORLD)
  ones = 1
  call MPI_Accumulate(ones, 4, MPI_INTEGER, next, disp, 4, MPI_INTEGER, MPI_SUM, win)
  call MPI_Win_fence(0, win)
  call MPI_F_sync_reg(mem)
  if (any(mem /= [(prev * 10 + i + 1, i = 1, 4)])) call fail('accumulate')
  call MPI_Win_free(win)
  if (win /= MPI_WIN_NULL) call fail('win_free')

  arr = [(rank * 100 + i, i = 1, 8)]
  bytes = 8 * 4
  call MPI_Win_create(arr, bytes, 4, MPI_INFO_NULL, MPI_COMM_WORLD, win2)
  call MPI_Win_fence(0, win2)
  got = 0
  disp = 2
  call MPI_Get(got, 4, MPI_INTEGER, prev, disp, 4, MPI_INTEGER, win2)
  call MPI_Win_fence(0, win2)
  if (any(got /= [(prev * 100 + i, i = 3, 6)])) call fail('get from win_create')
  call MPI_Win_free(win2)

  ! The large-count form: disp_unit is INTEGER(MPI_ADDRESS_KIND).
  bytes = 8
  disp = 4
  call MPI_Win_allocate(bytes, disp, MPI_INFO_NULL, MPI_COMM_WORLD, base, win)
  call MPI_Win_free(win)

  call MPI_Barrier(MPI_COMM_WORLD)
  if (rank == 0) print '(a)', 'PASS rma_f08'
  call MPI_Finalize()
end program rma_f08

include 'fail.h'
