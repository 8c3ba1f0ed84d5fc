! MPI-IO through `use mpi`: file handles as INTEGERs (open/close), explicit offsets of kind
! MPI_OFFSET_KIND, statuses of reads, and a user data representation registered from Fortran
! (MPI_REGISTER_DATAREP) whose conversion functions are Fortran subroutines.
module io_state
  use mpi
  integer :: reads = 0, writes = 0, extents = 0
  integer(kind=MPI_ADDRESS_KIND) :: seen_extra = 0
end module io_state

! The file holds each INTEGER negated.
subroutine write_conv(userbuf, datatype, count, filebuf, position, extra, ierror)
  use io_state
  implicit none
  integer :: userbuf(*), filebuf(*), datatype, count, ierror, i
  integer(kind=MPI_OFFSET_KIND) :: position
  integer(kind=MPI_ADDRESS_KIND) :: extra
  writes = writes + 1
  seen_extra = extra
  do i = 1, count
     filebuf(i) = -userbuf(position + i)
  end do
  ierror = MPI_SUCCESS
end subroutine write_conv

subroutine read_conv(userbuf, datatype, count, filebuf, position, extra, ierror)
  use io_state
  implicit none
  integer :: userbuf(*), filebuf(*), datatype, count, ierror, i
  integer(kind=MPI_OFFSET_KIND) :: position
  integer(kind=MPI_ADDRESS_KIND) :: extra
  reads = reads + 1
  do i = 1, count
     userbuf(position + i) = -filebuf(i)
  end do
  ierror = MPI_SUCCESS
end subroutine read_conv

subroutine extent_fn(datatype, extent, extra, ierror)
  use io_state
  implicit none
  integer :: datatype, ierror
  integer(kind=MPI_ADDRESS_KIND) :: extent, extra
  extents = extents + 1
  extent = 4
  ierror = MPI_SUCCESS
end subroutine extent_fn

program io
  use mpi
  use io_state
  implicit none
  external :: write_conv, read_conv, extent_fn
  integer :: ierr, rank, size, fh, i, cnt, st(MPI_STATUS_SIZE), amode
  integer :: wbuf(4), rbuf(4)
  integer(kind=MPI_OFFSET_KIND) :: off, fsize
  integer(kind=MPI_ADDRESS_KIND) :: extra
  character(len=64) :: fname, rep

  call MPI_Init(ierr)
  call MPI_Comm_rank(MPI_COMM_WORLD, rank, ierr)
  call MPI_Comm_size(MPI_COMM_WORLD, size, ierr)
  write (fname, '(a,i0,a)') 'oximpi-tests-f-io-', size, '.tmp'
  amode = MPI_MODE_CREATE + MPI_MODE_RDWR

  ! Native: each rank writes 4 integers at its own offset and reads its neighbour's.
  call MPI_File_open(MPI_COMM_WORLD, fname, amode, MPI_INFO_NULL, fh, ierr)
  if (ierr /= MPI_SUCCESS .or. fh == MPI_FILE_NULL) call fail('file_open')
  do i = 1, 4
     wbuf(i) = rank * 10 + i
  end do
  off = rank * 16
  call MPI_File_write_at_all(fh, off, wbuf, 4, MPI_INTEGER, st, ierr)
  call MPI_Get_count(st, MPI_INTEGER, cnt, ierr)
  if (ierr /= MPI_SUCCESS .or. cnt /= 4) call fail('write_at_all status')
  call MPI_File_sync(fh, ierr)
  call MPI_Barrier(MPI_COMM_WORLD, ierr)
  call MPI_File_get_size(fh, fsize, ierr)
  if (fsize /= 16 * size) call fail('file size')
  off = mod(rank + 1, size) * 16
  call MPI_File_read_at(fh, off, rbuf, 4, MPI_INTEGER, st, ierr)
  call MPI_Get_count(st, MPI_INTEGER, cnt, ierr)
  if (cnt /= 4 .or. rbuf(1) /= mod(rank + 1, size) * 10 + 1) call fail('read_at')
  call MPI_File_close(fh, ierr)
  if (fh /= MPI_FILE_NULL) call fail('file_close')

  ! A Fortran data representation: the file holds the values negated.
  extra = 99
  call MPI_Register_datarep('negated', read_conv, write_conv, extent_fn, extra, ierr)
  if (ierr /= MPI_SUCCESS) call fail('register_datarep')
  call MPI_File_open(MPI_COMM_WORLD, fname, amode, MPI_INFO_NULL, fh, ierr)
  off = 0
  call MPI_File_set_view(fh, off, MPI_INTEGER, MPI_INTEGER, 'negated', MPI_INFO_NULL, ierr)
  call MPI_File_get_view(fh, off, i, cnt, rep, ierr)
  if (rep /= 'negated') call fail('get_view datarep')
  off = rank * 4
  call MPI_File_write_at(fh, off, wbuf, 4, MPI_INTEGER, st, ierr)
  if (ierr /= MPI_SUCCESS .or. writes < 1 .or. seen_extra /= 99) call fail('write conversion')
  call MPI_File_read_at(fh, off, rbuf, 4, MPI_INTEGER, st, ierr)
  if (reads < 1 .or. any(rbuf /= wbuf)) call fail('read conversion')
  call MPI_File_close(fh, ierr)
  ! Read back natively: negated on disk.
  call MPI_File_open(MPI_COMM_WORLD, fname, MPI_MODE_RDONLY, MPI_INFO_NULL, fh, ierr)
  off = rank * 16
  call MPI_File_read_at(fh, off, rbuf, 4, MPI_INTEGER, st, ierr)
  if (any(rbuf /= -wbuf)) call fail('file contents under the user representation')
  call MPI_File_close(fh, ierr)

  call MPI_Barrier(MPI_COMM_WORLD, ierr)
  if (rank == 0) call MPI_File_delete(fname, MPI_INFO_NULL, ierr)
  call MPI_Barrier(MPI_COMM_WORLD, ierr)
  if (rank == 0) print '(a)', 'PASS io'
  call MPI_Finalize(ierr)
end program io

include 'fail.h'
