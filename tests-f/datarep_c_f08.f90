! MPI_Register_datarep_c from `use mpi_f08` (the large-count form, whose conversion
! functions take an INTEGER(MPI_COUNT_KIND) count): a representation "wide_be" that stores
! each INTEGER as 8 bytes big-endian, so the file's layout differs from memory in size and
! byte order. Checks the arguments the library passes the Fortran functions (datatype,
! count, extra state), the bytes on disk (read back natively), MPI_CONVERSION_FN_NULL_C,
! and the error for a duplicate name. MPICH 4.0.2's module has no MPI_Register_datarep_c.
! modes: native
module dr08
  use mpi_f08
  use, intrinsic :: iso_c_binding, only: c_ptr, c_f_pointer
  implicit none
  integer :: reads = 0, writes = 0, extents = 0, bad_args = 0
  integer(kind=MPI_COUNT_KIND) :: written = 0, read_in = 0
  integer(kind=MPI_ADDRESS_KIND), parameter :: extra_want = 2_MPI_ADDRESS_KIND ** 40 + 3
contains
  ! Every call must see MPI_INTEGER and the extra state given at registration.
  subroutine check_args(datatype, extra)
    type(MPI_Datatype) :: datatype
    integer(kind=MPI_ADDRESS_KIND) :: extra
    if (datatype /= MPI_INTEGER .or. extra /= extra_want) bad_args = bad_args + 1
  end subroutine check_args

  subroutine write_conv(userbuf, datatype, count, filebuf, position, extra, ierror)
    type(c_ptr), value :: userbuf, filebuf
    type(MPI_Datatype) :: datatype
    integer(kind=MPI_COUNT_KIND) :: count
    integer(kind=MPI_OFFSET_KIND) :: position
    integer(kind=MPI_ADDRESS_KIND) :: extra
    integer :: ierror
    integer, pointer :: u(:)
    integer(kind=1), pointer :: f(:)
    integer(kind=8) :: w
    integer :: i, k
    writes = writes + 1
    written = written + count
    call check_args(datatype, extra)
    call c_f_pointer(userbuf, u, [position + count])
    call c_f_pointer(filebuf, f, [8 * count])
    do i = 1, int(count)
       w = int(u(position + i), 8)
       do k = 1, 8
          f(8 * (i - 1) + k) = transfer(int(ibits(w, 8 * (8 - k), 8), 4), 0_1)
       end do
    end do
    ierror = MPI_SUCCESS
  end subroutine write_conv

  subroutine read_conv(userbuf, datatype, count, filebuf, position, extra, ierror)
    type(c_ptr), value :: userbuf, filebuf
    type(MPI_Datatype) :: datatype
    integer(kind=MPI_COUNT_KIND) :: count
    integer(kind=MPI_OFFSET_KIND) :: position
    integer(kind=MPI_ADDRESS_KIND) :: extra
    integer :: ierror
    integer, pointer :: u(:)
    integer(kind=1), pointer :: f(:)
    integer(kind=8) :: w
    integer :: i, k
    reads = reads + 1
    read_in = read_in + count
    call check_args(datatype, extra)
    call c_f_pointer(userbuf, u, [position + count])
    call c_f_pointer(filebuf, f, [8 * count])
    do i = 1, int(count)
       w = 0
       do k = 1, 8
          w = ior(ishft(w, 8), iand(int(f(8 * (i - 1) + k), 8), 255_8))
       end do
       u(position + i) = int(w, 4)
    end do
    ierror = MPI_SUCCESS
  end subroutine read_conv

  subroutine extent_fn(datatype, extent, extra, ierror)
    type(MPI_Datatype) :: datatype
    integer(kind=MPI_ADDRESS_KIND) :: extent, extra
    integer :: ierror
    extents = extents + 1
    call check_args(datatype, extra)
    extent = 8
    ierror = MPI_SUCCESS
  end subroutine extent_fn

  subroutine native_extent(datatype, extent, extra, ierror)
    type(MPI_Datatype) :: datatype
    integer(kind=MPI_ADDRESS_KIND) :: extent, extra
    integer :: ierror
    extent = 4
    ierror = MPI_SUCCESS
  end subroutine native_extent
end module dr08

program datarep_c_f08
  use mpi_f08
  use dr08
  implicit none
  integer :: rank, ierr, cls, i
  integer :: wbuf(4), rbuf(4)
  integer(kind=1) :: bytes(32)
  ! The four values 1, -2, 300, -70000 as 64-bit big-endian two's complement.
  integer, parameter :: want(32) = [0, 0, 0, 0, 0, 0, 0, 1, &
       255, 255, 255, 255, 255, 255, 255, 254, &
       0, 0, 0, 0, 0, 0, 1, 44, &
       255, 255, 255, 255, 255, 254, 238, 144]
  integer(kind=MPI_OFFSET_KIND) :: fsize
  type(MPI_File) :: fh
  type(MPI_Status) :: st
  character(len=64) :: fname

  call MPI_Init()
  call MPI_Comm_rank(MPI_COMM_WORLD, rank)
  write (fname, '(a,i0,a)') 'oximpi-tests-f-datarep_c_f08-', rank, '.tmp'

  call MPI_Register_datarep_c('wide_be', read_conv, write_conv, extent_fn, extra_want, ierr)
  if (ierr /= MPI_SUCCESS) call fail('MPI_Register_datarep_c')
  call MPI_File_open(MPI_COMM_SELF, trim(fname), ior(MPI_MODE_CREATE, MPI_MODE_RDWR), &
       MPI_INFO_NULL, fh)
  call MPI_File_set_view(fh, 0_MPI_OFFSET_KIND, MPI_INTEGER, MPI_INTEGER, 'wide_be', &
       MPI_INFO_NULL)
  if (extents < 1) call fail('extent function not called by set_view')
  wbuf = [1, -2, 300, -70000]
  call MPI_File_write_at(fh, 0_MPI_OFFSET_KIND, wbuf, 4, MPI_INTEGER, st)
  if (writes < 1 .or. written /= 4) call fail('write conversion: count of INTEGER(MPI_COUNT_KIND)')
  call MPI_File_get_size(fh, fsize)
  if (fsize /= 32) call fail('file size under wide_be (8 bytes an INTEGER)')
  rbuf = 0
  call MPI_File_read_at(fh, 0_MPI_OFFSET_KIND, rbuf, 4, MPI_INTEGER, st)
  if (reads < 1 .or. read_in /= 4) call fail('read conversion: count of INTEGER(MPI_COUNT_KIND)')
  if (any(rbuf /= wbuf)) call fail('values read back through wide_be')
  if (bad_args /= 0) call fail('datatype or extra state passed to the user functions')

  ! The bytes on disk, read natively.
  call MPI_File_set_view(fh, 0_MPI_OFFSET_KIND, MPI_BYTE, MPI_BYTE, 'native', MPI_INFO_NULL)
  call MPI_File_read_at(fh, 0_MPI_OFFSET_KIND, bytes, 32, MPI_BYTE, st)
  do i = 1, 32
     if (iand(int(bytes(i)), 255) /= want(i)) call fail('file bytes under wide_be')
  end do
  call MPI_File_close(fh)

  ! MPI_CONVERSION_FN_NULL_C: no conversion, the file holds the native bytes.
  call MPI_Register_datarep_c('plain_c', MPI_CONVERSION_FN_NULL_C, MPI_CONVERSION_FN_NULL_C, &
       native_extent, 0_MPI_ADDRESS_KIND)
  call MPI_File_open(MPI_COMM_SELF, trim(fname), MPI_MODE_RDWR, MPI_INFO_NULL, fh)
  call MPI_File_set_view(fh, 0_MPI_OFFSET_KIND, MPI_INTEGER, MPI_INTEGER, 'plain_c', &
       MPI_INFO_NULL)
  i = writes
  call MPI_File_write_at(fh, 0_MPI_OFFSET_KIND, wbuf, 4, MPI_INTEGER, st)
  call MPI_File_set_view(fh, 0_MPI_OFFSET_KIND, MPI_INTEGER, MPI_INTEGER, 'native', &
       MPI_INFO_NULL)
  call MPI_File_read_at(fh, 0_MPI_OFFSET_KIND, rbuf, 4, MPI_INTEGER, st)
  if (any(rbuf /= wbuf) .or. writes /= i) call fail('MPI_CONVERSION_FN_NULL_C')
  call MPI_File_close(fh)
  call MPI_File_delete(trim(fname), MPI_INFO_NULL)

  ! A name registered twice: MPI_ERR_DUP_DATAREP through ierror (files' default handler
  ! returns errors).
  call MPI_Register_datarep_c('wide_be', read_conv, write_conv, extent_fn, extra_want, ierr)
  call MPI_Error_class(ierr, cls)
  if (cls /= MPI_ERR_DUP_DATAREP) call fail('duplicate name not MPI_ERR_DUP_DATAREP')

  call MPI_Barrier(MPI_COMM_WORLD)
  if (rank == 0) print '(a)', 'PASS datarep_c_f08'
  call MPI_Finalize()
end program datarep_c_f08

include 'fail.h'
