! Environment through `use mpi`: init/finalize flags (LOGICAL), rank/size, version, time,
! processor name and communicator names (CHARACTER arguments with hidden lengths).
program env
  use mpi
  implicit none
  integer :: ierr, rank, size, ver, subver, rlen, n
  logical :: flag
  character(len=MPI_MAX_PROCESSOR_NAME) :: pname
  character(len=MPI_MAX_OBJECT_NAME) :: cname
  character(len=MPI_MAX_ERROR_STRING) :: estr
  character(len=MPI_MAX_LIBRARY_VERSION_STRING) :: lib
  double precision :: t0, t1
  integer*8 :: i8s(3)
  complex :: zs(2)

  call MPI_Initialized(flag, ierr)
  if (flag .or. ierr /= MPI_SUCCESS) call fail('initialized before init')
  call MPI_Init(ierr)
  if (ierr /= MPI_SUCCESS) call fail('init')
  call MPI_Initialized(flag, ierr)
  if (.not. flag) call fail('initialized after init')
  call MPI_Comm_rank(MPI_COMM_WORLD, rank, ierr)
  call MPI_Comm_size(MPI_COMM_WORLD, size, ierr)
  if (rank < 0 .or. rank >= size) call fail('rank out of range')

  call MPI_Get_version(ver, subver, ierr)
  ! The library's version: 4.1 here, while a program built against MPICH 4.0.2's mpif.h has
  ! MPI_SUBVERSION 0 compiled in, so only the major version must match.
  if (ver /= MPI_VERSION .or. subver < 0) call fail('get_version')

  t0 = MPI_Wtime()
  t1 = MPI_Wtime()
  if (t1 < t0 .or. MPI_Wtick() <= 0d0) call fail('wtime')

  ! A processor name: non-empty, resultlen counts its characters, blanks after it.
  pname = 'garbage garbage garbage'
  call MPI_Get_processor_name(pname, rlen, ierr)
  if (rlen <= 0 .or. rlen > MPI_MAX_PROCESSOR_NAME) call fail('processor name length')
  if (len_trim(pname) /= rlen) call fail('processor name not blank-padded')

  ! Names: trailing blanks are not part of a name, and a short buffer truncates.
  call MPI_Comm_set_name(MPI_COMM_WORLD, 'fortran world   ', ierr)
  cname = ''
  call MPI_Comm_get_name(MPI_COMM_WORLD, cname, rlen, ierr)
  if (cname /= 'fortran world' .or. rlen /= 13) call fail('comm get_name')
  call MPI_Comm_get_name(MPI_COMM_SELF, cname, rlen, ierr)
  if (cname /= 'MPI_COMM_SELF' .or. rlen /= 13) call fail('MPI_COMM_SELF name')

  call MPI_Error_string(MPI_ERR_TRUNCATE, estr, rlen, ierr)
  if (rlen <= 0 .or. len_trim(estr) /= rlen) call fail('error_string')
  call MPI_Get_library_version(lib, rlen, ierr)
  if (rlen <= 0 .or. index(lib, 'OxiMPI') == 0 .and. index(lib, 'MPICH') == 0) &
       call fail('library version')

  ! MPI_SIZEOF, scalars and arrays of several kinds.
  call MPI_Sizeof(rank, n, ierr)
  if (n /= 4 .or. ierr /= MPI_SUCCESS) call fail('sizeof integer')
  call MPI_Sizeof(t0, n, ierr)
  if (n /= 8) call fail('sizeof double precision')
  call MPI_Sizeof(i8s, n, ierr)
  if (n /= 8) call fail('sizeof integer*8 array')
  call MPI_Sizeof(zs, n, ierr)
  if (n /= 8) call fail('sizeof complex array')
  call MPI_Sizeof(flag, n, ierr)
  if (n /= 4) call fail('sizeof logical')

  call MPI_Error_class(MPI_ERR_TAG, n, ierr)
  if (n /= MPI_ERR_TAG) call fail('error_class')

  call MPI_Finalized(flag, ierr)
  if (flag) call fail('finalized before finalize')
  call MPI_Barrier(MPI_COMM_WORLD, ierr)
  if (rank == 0) print '(a)', 'PASS env'
  call MPI_Finalize(ierr)
  call MPI_Finalized(flag, ierr)
  if (.not. flag .or. ierr /= MPI_SUCCESS) call fail('finalized after finalize')
end program env

include 'fail.h'
