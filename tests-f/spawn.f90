! MPI_COMM_SPAWN from Fortran: the command and a blank-terminated CHARACTER argv array reach
! the children as their command line; array_of_errcodes (and MPI_ERRCODES_IGNORE); the
! parent/child intercommunicator carries data both ways. Then MPI_COMM_SPAWN_MULTIPLE with
! MPI_ARGVS_NULL.
! ranks: 1 2
program spawn
  use mpi
  implicit none
  integer :: ierr, rank, size, parent, inter, codes(2), i, v, rsize, n
  character(len=256) :: self, arg
  character(len=16) :: argv(3)
  character(len=256) :: cmds(2)
  integer :: maxprocs(2), infos(2)

  call MPI_Init(ierr)
  call MPI_Comm_rank(MPI_COMM_WORLD, rank, ierr)
  call MPI_Comm_size(MPI_COMM_WORLD, size, ierr)
  call MPI_Comm_get_parent(parent, ierr)

  if (parent /= MPI_COMM_NULL) then
     ! A child: first spawn passes "alpha" "two words"; the second passes nothing.
     n = command_argument_count()
     call get_command_argument(1, arg)
     if (n == 2) then
        if (arg /= 'alpha') call fail('child argv(1)')
        call get_command_argument(2, arg)
        if (arg /= 'two words') call fail('child argv(2): blanks inside an argument')
     else if (n /= 0) then
        call fail('child of spawn_multiple got arguments')
     end if
     call MPI_Comm_remote_size(parent, rsize, ierr)
     call MPI_Bcast(v, 1, MPI_INTEGER, 0, parent, ierr)
     if (v /= 4242) call fail('child bcast from parent')
     v = rank + 1
     call MPI_Reduce(v, v, 1, MPI_INTEGER, MPI_SUM, 0, parent, ierr)
     call MPI_Comm_disconnect(parent, ierr)
     call MPI_Finalize(ierr)
     stop
  end if

  call get_command_argument(0, self)
  argv(1) = 'alpha'
  argv(2) = 'two words'
  argv(3) = ' '
  codes = -1
  call MPI_Comm_spawn(self, argv, 2, MPI_INFO_NULL, 0, MPI_COMM_WORLD, inter, codes, ierr)
  if (ierr /= MPI_SUCCESS) call fail('comm_spawn')
  do i = 1, 2
     if (codes(i) /= MPI_SUCCESS) call fail('array_of_errcodes')
  end do
  call exchange(inter, 2)

  cmds(1) = self
  cmds(2) = self
  maxprocs = (/ 1, 1 /)
  infos = (/ MPI_INFO_NULL, MPI_INFO_NULL /)
  call MPI_Comm_spawn_multiple(2, cmds, MPI_ARGVS_NULL, maxprocs, infos, 0, MPI_COMM_WORLD, &
       inter, MPI_ERRCODES_IGNORE, ierr)
  if (ierr /= MPI_SUCCESS) call fail('comm_spawn_multiple')
  call exchange(inter, 2)

  call MPI_Barrier(MPI_COMM_WORLD, ierr)
  if (rank == 0) print '(a)', 'PASS spawn'
  call MPI_Finalize(ierr)
contains
  subroutine exchange(ic, nchildren)
    integer, intent(inout) :: ic
    integer, intent(in) :: nchildren
    integer :: rs, val, root
    call MPI_Comm_remote_size(ic, rs, ierr)
    if (rs /= nchildren) call fail('remote size')
    val = 4242
    root = MPI_PROC_NULL
    if (rank == 0) root = MPI_ROOT
    call MPI_Bcast(val, 1, MPI_INTEGER, root, ic, ierr)
    val = 0
    call MPI_Reduce(val, val, 1, MPI_INTEGER, MPI_SUM, root, ic, ierr)
    if (rank == 0 .and. val /= nchildren * (nchildren + 1) / 2) call fail('reduce from children')
    call MPI_Comm_disconnect(ic, ierr)
  end subroutine exchange
end program spawn

include 'fail.h'
