! Callbacks with Fortran conventions through `use mpi`: a generalized request (query, free,
! cancel functions with an address-sized extra state), a file errhandler (the file arrives
! as an INTEGER handle), and info strings (MPI_INFO_GET / GET_VALUELEN / GET_NTHKEY).
module cb_state
  use mpi
  integer :: queries = 0, frees = 0, cancels = 0, file_errors = 0, err_file = -1
  integer(kind=MPI_ADDRESS_KIND) :: seen = 0
end module cb_state

subroutine query_fn(extra, status, ierr)
  use cb_state
  implicit none
  integer(kind=MPI_ADDRESS_KIND) :: extra
  integer :: status(MPI_STATUS_SIZE), ierr
  queries = queries + 1
  seen = extra
  call MPI_Status_set_elements(status, MPI_INTEGER, 3, ierr)
  call MPI_Status_set_cancelled(status, .false., ierr)
  status(MPI_SOURCE) = 5
  status(MPI_TAG) = 6
  ierr = MPI_SUCCESS
end subroutine query_fn

subroutine free_fn(extra, ierr)
  use cb_state
  implicit none
  integer(kind=MPI_ADDRESS_KIND) :: extra
  integer :: ierr
  frees = frees + 1
  seen = extra
  ierr = MPI_SUCCESS
end subroutine free_fn

subroutine cancel_fn(extra, complete, ierr)
  use cb_state
  implicit none
  integer(kind=MPI_ADDRESS_KIND) :: extra
  logical :: complete
  integer :: ierr
  cancels = cancels + 1
  if (complete) cancels = cancels + 100
  ierr = MPI_SUCCESS
end subroutine cancel_fn

subroutine file_handler(fh, code)
  use cb_state
  implicit none
  integer :: fh, code
  file_errors = file_errors + 1
  err_file = fh
end subroutine file_handler

program callbacks
  use mpi
  use cb_state
  implicit none
  external :: query_fn, free_fn, cancel_fn, file_handler
  integer :: ierr, rank, req, st(MPI_STATUS_SIZE), cnt, eh, fh, info, vlen, nkeys
  integer(kind=MPI_ADDRESS_KIND) :: extra
  logical :: flag
  character(len=64) :: val, key
  character(len=8) :: short
  character(len=64) :: fname
  integer(kind=MPI_OFFSET_KIND) :: off

  call MPI_Init(ierr)
  call MPI_Comm_rank(MPI_COMM_WORLD, rank, ierr)

  ! Generalized request: completed by us, waited on, then freed by the library.
  extra = 2_MPI_ADDRESS_KIND ** 33 + 7
  call MPI_Grequest_start(query_fn, free_fn, cancel_fn, extra, req, ierr)
  if (ierr /= MPI_SUCCESS) call fail('grequest_start')
  call MPI_Test(req, flag, st, ierr)
  if (flag) call fail('grequest complete before MPI_Grequest_complete')
  call MPI_Cancel(req, ierr)
  if (cancels /= 1) call fail('cancel_fn not called with complete=.false.')
  call MPI_Grequest_complete(req, ierr)
  call MPI_Wait(req, st, ierr)
  if (ierr /= MPI_SUCCESS .or. req /= MPI_REQUEST_NULL) call fail('wait on grequest')
  if (queries /= 1 .or. frees /= 1 .or. seen /= extra) call fail('query/free functions')
  if (st(MPI_SOURCE) /= 5 .or. st(MPI_TAG) /= 6) call fail('status from query_fn')
  call MPI_Get_count(st, MPI_INTEGER, cnt, ierr)
  if (cnt /= 3) call fail('count set by query_fn')

  ! Info strings.
  call MPI_Info_create(info, ierr)
  call MPI_Info_set(info, 'color  ', '  blue green  ', ierr)
  call MPI_Info_get_valuelen(info, 'color', vlen, flag, ierr)
  if (.not. flag .or. vlen /= 10) call fail('info_get_valuelen')
  call MPI_Info_get(info, 'color', 64, val, flag, ierr)
  if (.not. flag .or. val /= 'blue green') call fail('info_get')
  ! A CHARACTER shorter than VALUELEN gets what fits.
  short = 'xxxxxxxx'
  call MPI_Info_get(info, 'color', 64, short, flag, ierr)
  if (.not. flag .or. short /= 'blue gre') call fail('info_get into a short string')
  call MPI_Info_get(info, 'shape', 64, val, flag, ierr)
  if (flag) call fail('info_get of a missing key')
  ! MPI_INFO_GET_STRING: BUFLEN counts characters (no terminator) both ways.
  vlen = 0
  call MPI_Info_get_string(info, 'color', vlen, val, flag, ierr)
  if (.not. flag .or. vlen /= 10) call fail('info_get_string length query')
  vlen = 64
  val = 'x'
  call MPI_Info_get_string(info, 'color', vlen, val, flag, ierr)
  if (.not. flag .or. vlen /= 10 .or. val /= 'blue green') call fail('info_get_string')
  call MPI_Info_get_nkeys(info, nkeys, ierr)
  call MPI_Info_get_nthkey(info, 0, key, ierr)
  if (nkeys /= 1 .or. key /= 'color') call fail('info_get_nthkey')
  call MPI_Info_free(info, ierr)

  ! A file errhandler written in Fortran, called with the file's INTEGER handle. Each rank
  ! has a file of its own: with one name, the first close would delete the others' file.
  call MPI_File_create_errhandler(file_handler, eh, ierr)
  if (ierr /= MPI_SUCCESS) call fail('file_create_errhandler')
  write (fname, '(a,i0,a)') 'oximpi-tests-f-callbacks-', rank, '.tmp'
  call MPI_File_open(MPI_COMM_SELF, trim(fname), &
       MPI_MODE_CREATE + MPI_MODE_RDWR + MPI_MODE_DELETE_ON_CLOSE, MPI_INFO_NULL, fh, ierr)
  if (ierr /= MPI_SUCCESS .or. fh == MPI_FILE_NULL) call fail('file_open')
  call MPI_File_set_errhandler(fh, eh, ierr)
  off = -1
  call MPI_File_seek(fh, off, MPI_SEEK_SET, ierr)
  if (file_errors /= 1 .or. err_file /= fh) call fail('file errhandler not called with the file')
  call MPI_File_close(fh, ierr)
  if (fh /= MPI_FILE_NULL) call fail('file_close')
  call MPI_Errhandler_free(eh, ierr)

  call MPI_Barrier(MPI_COMM_WORLD, ierr)
  if (rank == 0) print '(a)', 'PASS callbacks'
  call MPI_Finalize(ierr)
end program callbacks

include 'fail.h'
