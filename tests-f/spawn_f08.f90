! MPI_Comm_spawn through `use mpi_f08`: CHARACTER command and argv array, MPI_ARGV_NULL and
! MPI_ERRCODES_IGNORE of mpi_f08_link_constants, array_of_errcodes, TYPE(MPI_Comm)
! intercommunicators both ways.
! ranks: 1 2
program spawn_f08
  use mpi_f08
  implicit none
  integer :: rank, size, codes(2), i, v, n
  type(MPI_Comm) :: parent, inter
  character(len=256) :: self, arg
  character(len=16) :: argv(2)

  call MPI_Init()
  call MPI_Comm_rank(MPI_COMM_WORLD, rank)
  call MPI_Comm_size(MPI_COMM_WORLD, size)
  call MPI_Comm_get_parent(parent)

  if (parent /= MPI_COMM_NULL) then
     n = command_argument_count()
     if (n == 1) then
        call get_command_argument(1, arg)
        if (arg /= 'beta') call fail('child argv')
     else if (n /= 0) then
        call fail('child of MPI_ARGV_NULL spawn got arguments')
     end if
     call MPI_Bcast(v, 1, MPI_INTEGER, 0, parent)
     if (v /= 4242) call fail('child bcast from parent')
     v = rank + 1
     call MPI_Reduce(v, v, 1, MPI_INTEGER, MPI_SUM, 0, parent)
     call MPI_Comm_disconnect(parent)
     call MPI_Finalize()
     stop
  end if

  call get_command_argument(0, self)
  argv(1) = 'beta'
  argv(2) = ' '
  codes = -1
  call MPI_Comm_spawn(self, argv, 2, MPI_INFO_NULL, 0, MPI_COMM_WORLD, inter, codes)
  do i = 1, 2
     if (codes(i) /= MPI_SUCCESS) call fail('array_of_errcodes')
  end do
  call exchange(inter, 2)

  call MPI_Comm_spawn(self, MPI_ARGV_NULL, 1, MPI_INFO_NULL, 0, MPI_COMM_WORLD, inter, &
       MPI_ERRCODES_IGNORE)
  call exchange(inter, 1)

  call MPI_Barrier(MPI_COMM_WORLD)
  if (rank == 0) print '(a)', 'PASS spawn_f08'
  call MPI_Finalize()
contains
  subroutine exchange(ic, nchildren)
    type(MPI_Comm), intent(inout) :: ic
    integer, intent(in) :: nchildren
    integer :: rs, val, root
    call MPI_Comm_remote_size(ic, rs)
    if (rs /= nchildren) call fail('remote size')
    val = 4242
    root = MPI_PROC_NULL
    if (rank == 0) root = MPI_ROOT
    call MPI_Bcast(val, 1, MPI_INTEGER, root, ic)
    val = 0
    call MPI_Reduce(val, val, 1, MPI_INTEGER, MPI_SUM, root, ic)
    if (rank == 0 .and. val /= nchildren * (nchildren + 1) / 2) call fail('reduce from children')
    call MPI_Comm_disconnect(ic)
  end subroutine exchange
end program spawn_f08

include 'fail.h'
