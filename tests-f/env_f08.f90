! The environment through `use mpi_f08`: optional ierror (absent and present), TYPE(MPI_Comm)
! handles and their comparisons, LOGICAL and CHARACTER results, MPI_Wtime as a function,
! MPI_Sizeof, error classes and strings, MPI_Status_f2f08 / f082f.
program env_f08
  use mpi_f08
  implicit none
  integer :: ierr, rank, size, len, version, subversion, cls, result, sz, fst(MPI_STATUS_SIZE)
  logical :: flag
  character(len=MPI_MAX_PROCESSOR_NAME) :: name
  character(len=MPI_MAX_ERROR_STRING) :: msg
  type(MPI_Comm) :: dup
  type(MPI_Status) :: st, st2
  double precision :: t0, t1
  real(8) :: r8(3)

  call MPI_Initialized(flag)
  if (flag) call fail('initialized before MPI_Init')
  call MPI_Init(ierr)
  if (ierr /= MPI_SUCCESS) call fail('init ierror')
  call MPI_Initialized(flag, ierr)
  if (.not. flag .or. ierr /= MPI_SUCCESS) call fail('initialized')
  call MPI_Comm_rank(MPI_COMM_WORLD, rank)
  call MPI_Comm_size(MPI_COMM_WORLD, size, ierr)
  if (rank < 0 .or. rank >= size) call fail('rank')

  call MPI_Get_processor_name(name, len)
  if (len <= 0 .or. len > MPI_MAX_PROCESSOR_NAME .or. len_trim(name) /= len) &
       call fail('processor name')
  call MPI_Get_version(version, subversion)
  if (version /= MPI_VERSION) call fail('version')

  t0 = MPI_Wtime()
  t1 = MPI_Wtime()
  if (t1 < t0 .or. MPI_Wtick() <= 0d0) call fail('wtime')

  call MPI_Comm_dup(MPI_COMM_WORLD, dup)
  if (dup == MPI_COMM_WORLD .or. dup == MPI_COMM_NULL) call fail('dup handle')
  call MPI_Comm_compare(dup, MPI_COMM_WORLD, result)
  if (result /= MPI_CONGRUENT) call fail('compare')
  call MPI_Comm_free(dup)
  if (dup /= MPI_COMM_NULL) call fail('free sets MPI_COMM_NULL')

  call MPI_Sizeof(r8, sz)
  if (sz /= 8) call fail('sizeof real(8)')
  call MPI_Sizeof(rank, sz, ierr)
  if (sz /= 4 .or. ierr /= 0) call fail('sizeof integer')

  call MPI_Error_class(MPI_ERR_TAG, cls)
  if (cls /= MPI_ERR_TAG) call fail('error class')
  call MPI_Error_string(MPI_ERR_TAG, msg, len)
  if (len <= 0 .or. len_trim(msg) /= len) call fail('error string')

  ! An invalid call with MPI_ERRORS_RETURN reports through the optional ierror.
  call MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN)
  call MPI_Send(rank, 1, MPI_INTEGER, size, 0, MPI_COMM_WORLD, ierr)
  if (ierr == MPI_SUCCESS) call fail('send to a rank out of range succeeded')
  call MPI_Error_class(ierr, cls)
  if (cls /= MPI_ERR_RANK) call fail('error class of a bad rank')

  st%MPI_SOURCE = 3
  st%MPI_TAG = 4
  st%MPI_ERROR = 5
  call MPI_Status_f082f(st, fst)
  if (fst(MPI_SOURCE) /= 3 .or. fst(MPI_TAG) /= 4 .or. fst(MPI_ERROR) /= 5) call fail('f082f')
  call MPI_Status_f2f08(fst, st2)
  if (st2%MPI_SOURCE /= 3 .or. st2%MPI_TAG /= 4) call fail('f2f08')

  call MPI_Barrier(MPI_COMM_WORLD)
  if (rank == 0) print '(a)', 'PASS env_f08'
  call MPI_Finalize()
  call MPI_Finalized(flag)
  if (.not. flag) call fail('finalized')
end program env_f08

include 'fail.h'
