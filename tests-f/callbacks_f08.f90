! Callbacks with the f08 interfaces of mpi_f08_callbacks: a generalized request (query
! with TYPE(MPI_Status), free, cancel with a LOGICAL), a file errhandler (TYPE(MPI_File)),
! and a user data representation whose conversion functions get TYPE(C_PTR) buffers.
module cb08
  use mpi_f08
  use, intrinsic :: iso_c_binding, only: c_ptr, c_f_pointer
  implicit none
  integer :: queries = 0, frees = 0, cancels = 0, file_errors = 0, reads = 0, writes = 0
  integer(kind=MPI_ADDRESS_KIND) :: seen = 0
  type(MPI_File) :: err_file
contains
  subroutine query_fn(extra, status, ierr)
    integer(kind=MPI_ADDRESS_KIND) :: extra
    type(MPI_Status) :: status
    integer :: ierr
    queries = queries + 1
    seen = extra
    call MPI_Status_set_elements(status, MPI_INTEGER, 3)
    call MPI_Status_set_cancelled(status, .false.)
    status%MPI_SOURCE = 5
    status%MPI_TAG = 6
    ierr = MPI_SUCCESS
  end subroutine query_fn

  subroutine free_fn(extra, ierr)
    integer(kind=MPI_ADDRESS_KIND) :: extra
    integer :: ierr
    frees = frees + 1
    ierr = MPI_SUCCESS
  end subroutine free_fn

  subroutine cancel_fn(extra, complete, ierr)
    integer(kind=MPI_ADDRESS_KIND) :: extra
    logical :: complete
    integer :: ierr
    cancels = cancels + 1
    if (complete) cancels = cancels + 100
    ierr = MPI_SUCCESS
  end subroutine cancel_fn

  subroutine file_handler(fh, code)
    type(MPI_File) :: fh
    integer :: code
    file_errors = file_errors + 1
    err_file = fh
  end subroutine file_handler

  ! The file holds the values negated.
  subroutine write_conv(userbuf, datatype, count, filebuf, position, extra, ierror)
    type(c_ptr), value :: userbuf, filebuf
    type(MPI_Datatype) :: datatype
    integer :: count, ierror
    integer(kind=MPI_OFFSET_KIND) :: position
    integer(kind=MPI_ADDRESS_KIND) :: extra
    integer, pointer :: u(:), f(:)
    writes = writes + 1
    call c_f_pointer(userbuf, u, [position + count])
    call c_f_pointer(filebuf, f, [count])
    f = -u(position + 1:position + count)
    ierror = MPI_SUCCESS
  end subroutine write_conv

  subroutine read_conv(userbuf, datatype, count, filebuf, position, extra, ierror)
    type(c_ptr), value :: userbuf, filebuf
    type(MPI_Datatype) :: datatype
    integer :: count, ierror
    integer(kind=MPI_OFFSET_KIND) :: position
    integer(kind=MPI_ADDRESS_KIND) :: extra
    integer, pointer :: u(:), f(:)
    reads = reads + 1
    call c_f_pointer(userbuf, u, [position + count])
    call c_f_pointer(filebuf, f, [count])
    u(position + 1:position + count) = -f
    ierror = MPI_SUCCESS
  end subroutine read_conv

  subroutine extent_fn(datatype, extent, extra, ierror)
    type(MPI_Datatype) :: datatype
    integer(kind=MPI_ADDRESS_KIND) :: extent, extra
    integer :: ierror
    extent = 4
    ierror = MPI_SUCCESS
  end subroutine extent_fn
end module cb08

program callbacks_f08
  use mpi_f08
  use cb08
  implicit none
  integer :: rank, cnt, wbuf(4), rbuf(4)
  type(MPI_Request) :: req
  type(MPI_Status) :: st
  type(MPI_Errhandler) :: eh
  type(MPI_File) :: fh
  integer(kind=MPI_ADDRESS_KIND) :: extra
  integer(kind=MPI_OFFSET_KIND) :: off
  logical :: flag
  character(len=64) :: fname

  call MPI_Init()
  call MPI_Comm_rank(MPI_COMM_WORLD, rank)

  extra = 2_MPI_ADDRESS_KIND ** 33 + 7
  call MPI_Grequest_start(query_fn, free_fn, cancel_fn, extra, req)
  call MPI_Test(req, flag, st)
  if (flag) call fail('grequest complete before MPI_Grequest_complete')
  call MPI_Cancel(req)
  if (cancels /= 1) call fail('cancel_fn not called with complete=.false.')
  call MPI_Grequest_complete(req)
  call MPI_Wait(req, st)
  if (req /= MPI_REQUEST_NULL) call fail('wait on grequest')
  if (queries /= 1 .or. frees /= 1 .or. seen /= extra) call fail('query/free functions')
  if (st%MPI_SOURCE /= 5 .or. st%MPI_TAG /= 6) call fail('status from query_fn')
  call MPI_Get_count(st, MPI_INTEGER, cnt)
  if (cnt /= 3) call fail('count set by query_fn')

  ! A file errhandler, called with the file's handle. A file per rank.
  call MPI_File_create_errhandler(file_handler, eh)
  write (fname, '(a,i0,a)') 'oximpi-tests-f-callbacks_f08-', rank, '.tmp'
  call MPI_File_open(MPI_COMM_SELF, trim(fname), ior(MPI_MODE_CREATE, MPI_MODE_RDWR), &
       MPI_INFO_NULL, fh)
  call MPI_File_set_errhandler(fh, eh)
  off = -1
  call MPI_File_seek(fh, off, MPI_SEEK_SET)
  if (file_errors /= 1 .or. err_file /= fh) call fail('file errhandler not called with the file')
  call MPI_File_close(fh)
  call MPI_Errhandler_free(eh)

  ! A user data representation.
  call MPI_Register_datarep('negated_f08', read_conv, write_conv, extent_fn, 0_MPI_ADDRESS_KIND)
  call MPI_File_open(MPI_COMM_SELF, trim(fname), MPI_MODE_RDWR, MPI_INFO_NULL, fh)
  call MPI_File_set_view(fh, 0_MPI_OFFSET_KIND, MPI_INTEGER, MPI_INTEGER, 'negated_f08', &
       MPI_INFO_NULL)
  wbuf = [1, -2, 3, 400]
  call MPI_File_write_at(fh, 0_MPI_OFFSET_KIND, wbuf, 4, MPI_INTEGER, MPI_STATUS_IGNORE)
  call MPI_File_read_at(fh, 0_MPI_OFFSET_KIND, rbuf, 4, MPI_INTEGER, MPI_STATUS_IGNORE)
  if (writes < 1 .or. reads < 1 .or. any(rbuf /= wbuf)) call fail('datarep conversions')
  call MPI_File_set_view(fh, 0_MPI_OFFSET_KIND, MPI_INTEGER, MPI_INTEGER, 'native', &
       MPI_INFO_NULL)
  call MPI_File_read_at(fh, 0_MPI_OFFSET_KIND, rbuf, 4, MPI_INTEGER, MPI_STATUS_IGNORE)
  if (any(rbuf /= -wbuf)) call fail('file contents under the user representation')
  call MPI_File_close(fh)
  call MPI_File_delete(trim(fname), MPI_INFO_NULL)

  call MPI_Barrier(MPI_COMM_WORLD)
  if (rank == 0) print '(a)', 'PASS callbacks_f08'
  call MPI_Finalize()
end program callbacks_f08

include 'fail.h'
