! Attributes through `use mpi`: keyvals with Fortran copy and delete functions (called on
! MPI_COMM_DUP and MPI_COMM_FREE with address-sized values and extra state), the predefined
! MPI_COMM_DUP_FN / MPI_COMM_NULL_COPY_FN, the MPI-1 MPI_ATTR_PUT/GET, and MPI_TAG_UB.
module attr_state
  use mpi
  integer :: copies = 0, deletes = 0
  integer(kind=MPI_ADDRESS_KIND) :: last_deleted = 0, seen_extra = 0
end module attr_state

subroutine my_copy(oldcomm, keyval, extra, val_in, val_out, flag, ierr)
  use attr_state
  implicit none
  integer :: oldcomm, keyval, ierr
  integer(kind=MPI_ADDRESS_KIND) :: extra, val_in, val_out
  logical :: flag
  copies = copies + 1
  seen_extra = extra
  val_out = val_in + 1
  flag = .true.
  ierr = MPI_SUCCESS
end subroutine my_copy

subroutine my_delete(comm, keyval, val, extra, ierr)
  use attr_state
  implicit none
  integer :: comm, keyval, ierr
  integer(kind=MPI_ADDRESS_KIND) :: val, extra
  deletes = deletes + 1
  last_deleted = val
  ierr = MPI_SUCCESS
end subroutine my_delete

program attr
  use mpi
  use attr_state
  implicit none
  external :: my_copy, my_delete
  integer :: ierr, rank, kv, kv2, kv3, dup, dup2, ival
  integer(kind=MPI_ADDRESS_KIND) :: val, extra, big
  logical :: flag

  call MPI_Init(ierr)
  call MPI_Comm_rank(MPI_COMM_WORLD, rank, ierr)

  ! The predefined MPI_TAG_UB reads as a value, at least 32767.
  call MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_TAG_UB, val, flag, ierr)
  if (.not. flag .or. val < 32767) call fail('MPI_TAG_UB')
  call MPI_Attr_get(MPI_COMM_WORLD, MPI_TAG_UB, ival, flag, ierr)
  if (.not. flag .or. ival /= val) call fail('MPI_ATTR_GET of MPI_TAG_UB')

  extra = 1234
  call MPI_Comm_create_keyval(my_copy, my_delete, kv, extra, ierr)
  if (ierr /= MPI_SUCCESS) call fail('create_keyval')
  big = 2_MPI_ADDRESS_KIND ** 40 + 5
  call MPI_Comm_set_attr(MPI_COMM_WORLD, kv, big, ierr)
  call MPI_Comm_get_attr(MPI_COMM_WORLD, kv, val, flag, ierr)
  if (.not. flag .or. val /= big) call fail('get_attr after set')

  call MPI_Comm_dup(MPI_COMM_WORLD, dup, ierr)
  if (copies /= 1 .or. seen_extra /= 1234) call fail('copy function not called with extra state')
  call MPI_Comm_get_attr(dup, kv, val, flag, ierr)
  if (.not. flag .or. val /= big + 1) call fail('copied attribute')

  call MPI_Comm_free(dup, ierr)
  if (deletes /= 1 .or. last_deleted /= big + 1) call fail('delete function on free')
  call MPI_Comm_delete_attr(MPI_COMM_WORLD, kv, ierr)
  if (deletes /= 2 .or. last_deleted /= big) call fail('delete function on delete_attr')
  call MPI_Comm_get_attr(MPI_COMM_WORLD, kv, val, flag, ierr)
  if (flag) call fail('attribute still set')
  call MPI_Comm_free_keyval(kv, ierr)
  if (kv /= MPI_KEYVAL_INVALID) call fail('free_keyval')

  ! Predefined copy functions: MPI_COMM_DUP_FN copies, MPI_COMM_NULL_COPY_FN does not.
  call MPI_Comm_create_keyval(MPI_COMM_DUP_FN, MPI_COMM_NULL_DELETE_FN, kv2, extra, ierr)
  call MPI_Comm_create_keyval(MPI_COMM_NULL_COPY_FN, MPI_COMM_NULL_DELETE_FN, kv3, extra, ierr)
  call MPI_Comm_set_attr(MPI_COMM_WORLD, kv2, 77_MPI_ADDRESS_KIND, ierr)
  call MPI_Comm_set_attr(MPI_COMM_WORLD, kv3, 88_MPI_ADDRESS_KIND, ierr)
  call MPI_Comm_dup(MPI_COMM_WORLD, dup2, ierr)
  call MPI_Comm_get_attr(dup2, kv2, val, flag, ierr)
  if (.not. flag .or. val /= 77) call fail('MPI_COMM_DUP_FN')
  call MPI_Comm_get_attr(dup2, kv3, val, flag, ierr)
  if (flag) call fail('MPI_COMM_NULL_COPY_FN copied')

  ! MPI-1 interface: INTEGER values.
  call MPI_Keyval_create(MPI_DUP_FN, MPI_NULL_DELETE_FN, kv, 0, ierr)
  call MPI_Attr_put(dup2, kv, 4242, ierr)
  call MPI_Attr_get(dup2, kv, ival, flag, ierr)
  if (.not. flag .or. ival /= 4242) call fail('MPI_ATTR_PUT/GET')
  call MPI_Attr_delete(dup2, kv, ierr)
  call MPI_Keyval_free(kv, ierr)

  call MPI_Comm_free(dup2, ierr)
  call MPI_Comm_delete_attr(MPI_COMM_WORLD, kv2, ierr)
  call MPI_Comm_delete_attr(MPI_COMM_WORLD, kv3, ierr)
  call MPI_Comm_free_keyval(kv2, ierr)
  call MPI_Comm_free_keyval(kv3, ierr)

  call MPI_Barrier(MPI_COMM_WORLD, ierr)
  if (rank == 0) print '(a)', 'PASS attr'
  call MPI_Finalize(ierr)
end program attr

include 'fail.h'
