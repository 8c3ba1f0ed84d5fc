! Attributes set in one language and read in the other, as MPICH does it (the library
! records whether C or Fortran set an attribute): C reads a value Fortran set as the address
! of the integer, Fortran reads a pointer C set as its address value, MPI_ATTR_PUT's INTEGER
! reads in C through its address too, a copy keeps the kind, and a C copy callback gets the
! address of a Fortran-set value. The C functions are called through BIND(C) interfaces
! (MPICH's C handles are the Fortran INTEGERs).
module mixed_c
  use, intrinsic :: iso_c_binding
  implicit none
  interface
     integer(c_int) function c_comm_get_attr(comm, keyval, val, flag) &
          bind(C, name='MPI_Comm_get_attr')
       import :: c_int, c_ptr
       integer(c_int), value :: comm, keyval
       type(c_ptr) :: val
       integer(c_int) :: flag
     end function c_comm_get_attr
     integer(c_int) function c_comm_set_attr(comm, keyval, val) bind(C, name='MPI_Comm_set_attr')
       import :: c_int, c_ptr
       integer(c_int), value :: comm, keyval
       type(c_ptr), value :: val
     end function c_comm_set_attr
     integer(c_int) function c_comm_create_keyval(copy_fn, delete_fn, keyval, extra) &
          bind(C, name='MPI_Comm_create_keyval')
       import :: c_int, c_ptr, c_funptr
       type(c_funptr), value :: copy_fn, delete_fn
       integer(c_int) :: keyval
       type(c_ptr), value :: extra
     end function c_comm_create_keyval
  end interface
  integer(c_int) :: copies = 0
  integer(c_intptr_t) :: seen_in_copy = 0
contains
  ! A C copy callback (MPI_Comm_copy_attr_function) written in Fortran: records the value
  ! behind attr_in and copies the pointer.
  integer(c_int) function c_copy(oldcomm, keyval, extra, attr_in, attr_out, flag) bind(C)
    integer(c_int), value :: oldcomm, keyval
    type(c_ptr), value :: extra, attr_in, attr_out
    integer(c_int) :: flag
    integer(c_intptr_t), pointer :: v
    type(c_ptr), pointer :: out
    copies = copies + 1
    call c_f_pointer(attr_in, v)
    seen_in_copy = v
    call c_f_pointer(attr_out, out)
    out = attr_in
    flag = 1
    c_copy = 0
  end function c_copy
end module mixed_c

program attr_mixed
  use mpi
  use mixed_c
  implicit none
  integer :: ierr, rank, kv, kv_c, kv77, dup, i4
  integer(kind=MPI_ADDRESS_KIND) :: val, extra
  integer(kind=MPI_ADDRESS_KIND), target :: cval
  integer(c_int), pointer :: ip
  integer(c_intptr_t), pointer :: p
  type(c_ptr) :: cp
  integer(c_int) :: cflag
  logical :: flag

  call MPI_Init(ierr)
  call MPI_Comm_rank(MPI_COMM_WORLD, rank, ierr)
  extra = 0

  ! Fortran sets, C reads: the address of the value.
  call MPI_Comm_create_keyval(MPI_COMM_DUP_FN, MPI_COMM_NULL_DELETE_FN, kv, extra, ierr)
  val = 42
  call MPI_Comm_set_attr(MPI_COMM_WORLD, kv, val, ierr)
  if (c_comm_get_attr(MPI_COMM_WORLD, kv, cp, cflag) /= 0 .or. cflag == 0) &
       call fail('C get of a Fortran attribute')
  call c_f_pointer(cp, p)
  if (p /= 42) call fail('C does not read a Fortran attribute through its address')
  call MPI_Comm_get_attr(MPI_COMM_WORLD, kv, val, flag, ierr)
  if (.not. flag .or. val /= 42) call fail('Fortran get of a Fortran attribute')

  ! A copy (MPI_COMM_DUP_FN from Fortran) keeps the kind: C still reads an address.
  call MPI_Comm_dup(MPI_COMM_WORLD, dup, ierr)
  if (c_comm_get_attr(dup, kv, cp, cflag) /= 0 .or. cflag == 0) call fail('C get on the dup')
  call c_f_pointer(cp, p)
  if (p /= 42) call fail('the copy lost the Fortran kind')
  call MPI_Comm_free(dup, ierr)

  ! C sets a pointer, Fortran reads the address value; C reads the pointer itself.
  cval = 7
  if (c_comm_set_attr(MPI_COMM_WORLD, kv, c_loc(cval)) /= 0) call fail('C set')
  call MPI_Comm_get_attr(MPI_COMM_WORLD, kv, val, flag, ierr)
  if (.not. flag .or. val /= transfer(c_loc(cval), val)) &
       call fail('Fortran does not read a C attribute as the pointer value')
  if (c_comm_get_attr(MPI_COMM_WORLD, kv, cp, cflag) /= 0 .or. .not. c_associated(cp, c_loc(cval))) &
       call fail('C get of a C attribute')
  call MPI_Comm_free_keyval(kv, ierr)

  ! MPI-1's MPI_ATTR_PUT stores an INTEGER: C reads it through its address too.
  call MPI_Keyval_create(MPI_NULL_COPY_FN, MPI_NULL_DELETE_FN, kv77, 0, ierr)
  call MPI_Attr_put(MPI_COMM_WORLD, kv77, 1234, ierr)
  if (c_comm_get_attr(MPI_COMM_WORLD, kv77, cp, cflag) /= 0 .or. cflag == 0) &
       call fail('C get of an MPI_ATTR_PUT attribute')
  call c_f_pointer(cp, ip)
  if (ip /= 1234) call fail('C does not read an MPI_ATTR_PUT attribute through its address')
  call MPI_Attr_get(MPI_COMM_WORLD, kv77, i4, flag, ierr)
  if (.not. flag .or. i4 /= 1234) call fail('MPI_ATTR_GET')
  call MPI_Keyval_free(kv77, ierr)

  ! A C copy callback on an attribute Fortran set gets the address of the value.
  if (c_comm_create_keyval(c_funloc(c_copy), c_null_funptr, kv_c, c_null_ptr) /= 0) &
       call fail('C create_keyval')
  val = 99
  call MPI_Comm_set_attr(MPI_COMM_WORLD, kv_c, val, ierr)
  call MPI_Comm_dup(MPI_COMM_WORLD, dup, ierr)
  if (copies /= 1 .or. seen_in_copy /= 99) &
       call fail('the C copy callback does not get the address of the Fortran value')
  call MPI_Comm_free(dup, ierr)
  call MPI_Comm_delete_attr(MPI_COMM_WORLD, kv_c, ierr)
  call MPI_Comm_free_keyval(kv_c, ierr)

  call MPI_Barrier(MPI_COMM_WORLD, ierr)
  if (rank == 0) print '(a)', 'PASS attr_mixed'
  call MPI_Finalize(ierr)
end program attr_mixed

include 'fail.h'
