! MPI-IO through `use mpi_f08`: TYPE(MPI_File), open with a CHARACTER name, explicit-offset
! writes and reads with TYPE(MPI_Status) (MPI_Get_count), a file view with a vector
! filetype, collective read_all into an array section, get_size, delete.
program io_f08
  use mpi_f08
  implicit none
  integer :: rank, size, i, n
  type(MPI_File) :: fh
  type(MPI_Status) :: st
  type(MPI_Datatype) :: ftype
  integer :: buf(4), back(8)
  integer(kind=MPI_OFFSET_KIND) :: off, fsize
  character(len=64) :: fname

  call MPI_Init()
  call MPI_Comm_rank(MPI_COMM_WORLD, rank)
  call MPI_Comm_size(MPI_COMM_WORLD, size)
  write (fname, '(a,i0,a)') 'oximpi-tests-f-io_f08-', size, '.tmp'

  call MPI_File_open(MPI_COMM_WORLD, fname, ior(MPI_MODE_CREATE, MPI_MODE_RDWR), &
       MPI_INFO_NULL, fh)
  if (fh == MPI_FILE_NULL) call fail('open')
  buf = [(rank * 10 + i, i = 1, 4)]
  off = rank * 16
  call MPI_File_write_at(fh, off, buf, 4, MPI_INTEGER, st)
  call MPI_Get_count(st, MPI_INTEGER, n)
  if (n /= 4) call fail('write_at count')
  call MPI_File_sync(fh)
  call MPI_Barrier(MPI_COMM_WORLD)
  call MPI_File_get_size(fh, fsize)
  if (fsize /= 16 * size) call fail('get_size')
  buf = 0
  call MPI_File_read_at(fh, off, buf, 4, MPI_INTEGER, st)
  if (any(buf /= [(rank * 10 + i, i = 1, 4)])) call fail('read_at')
  call MPI_File_close(fh)
  if (fh /= MPI_FILE_NULL) call fail('close')

  ! A view of the first integer of every 4 (the first value each rank wrote), read
  ! collectively into the odd elements of back.
  call MPI_File_open(MPI_COMM_WORLD, fname, MPI_MODE_RDONLY, MPI_INFO_NULL, fh)
  call MPI_Type_vector(size, 1, 4, MPI_INTEGER, ftype)
  call MPI_Type_commit(ftype)
  call MPI_File_set_view(fh, 0_MPI_OFFSET_KIND, MPI_INTEGER, ftype, 'native', MPI_INFO_NULL)
  back = -1
  call MPI_File_read_all(fh, back(1:2 * size:2), size, MPI_INTEGER, st)
  do i = 1, size
     if (back(2 * i - 1) /= (i - 1) * 10 + 1) call fail('read_all through a view')
     if (back(2 * i) /= -1) call fail('read_all wrote outside the section')
  end do
  call MPI_File_close(fh)
  call MPI_Type_free(ftype)
  call MPI_Barrier(MPI_COMM_WORLD)
  if (rank == 0) call MPI_File_delete(fname, MPI_INFO_NULL)

  call MPI_Barrier(MPI_COMM_WORLD)
  if (rank == 0) print '(a)', 'PASS io_f08'
  call MPI_Finalize()
end program io_f08

include 'fail.h'
