! Attributes and errhandlers through `use mpi_f08`: a keyval with copy and delete functions
! of the f08 interfaces (TYPE(MPI_Comm) first argument), called on MPI_Comm_dup and
! MPI_Comm_free; the predefined MPI_COMM_DUP_FN / MPI_COMM_NULL_COPY_FN /
! MPI_COMM_NULL_DELETE_FN of mpi_f08_callbacks; MPI_TAG_UB; a communicator errhandler
! written in Fortran, called by MPI_Comm_call_errhandler.
module attr_state
  use mpi_f08
  implicit none
  integer :: copies = 0, deletes = 0, handled = 0
  integer(kind=MPI_ADDRESS_KIND) :: last_deleted = 0, seen_extra = 0
contains
  subroutine my_copy(oldcomm, keyval, extra, val_in, val_out, flag, ierr)
    type(MPI_Comm) :: oldcomm
    integer :: keyval, ierr
    integer(kind=MPI_ADDRESS_KIND) :: extra, val_in, val_out
    logical :: flag
    copies = copies + 1
    seen_extra = extra
    val_out = val_in + 1
    flag = .true.
    ierr = MPI_SUCCESS
  end subroutine my_copy

  subroutine my_delete(comm, keyval, val, extra, ierr)
    type(MPI_Comm) :: comm
    integer :: keyval, ierr
    integer(kind=MPI_ADDRESS_KIND) :: val, extra
    deletes = deletes + 1
    last_deleted = val
    ierr = MPI_SUCCESS
  end subroutine my_delete

  subroutine my_handler(comm, code)
    type(MPI_Comm) :: comm
    integer :: code
    if (comm == MPI_COMM_WORLD .and. code == MPI_ERR_OTHER) handled = handled + 1
  end subroutine my_handler
end module attr_state

program attr_f08
  use mpi_f08
  use attr_state
  implicit none
  integer :: rank, kv, kv2, kv3
  type(MPI_Comm) :: dup, dup2
  type(MPI_Errhandler) :: eh
  integer(kind=MPI_ADDRESS_KIND) :: val, extra, big
  logical :: flag

  call MPI_Init()
  call MPI_Comm_rank(MPI_COMM_WORLD, rank)

  call MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_TAG_UB, val, flag)
  if (.not. flag .or. val < 32767) call fail('MPI_TAG_UB')

  extra = 77
  call MPI_Comm_create_keyval(my_copy, my_delete, kv, extra)
  big = 2_MPI_ADDRESS_KIND**40 + 5
  call MPI_Comm_set_attr(MPI_COMM_WORLD, kv, big)
  call MPI_Comm_dup(MPI_COMM_WORLD, dup)
  if (copies /= 1 .or. seen_extra /= 77) call fail('copy function')
  call MPI_Comm_get_attr(dup, kv, val, flag)
  if (.not. flag .or. val /= big + 1) call fail('copied value')
  call MPI_Comm_free(dup)
  if (deletes /= 1 .or. last_deleted /= big + 1) call fail('delete function on free')
  call MPI_Comm_delete_attr(MPI_COMM_WORLD, kv)
  if (deletes /= 2 .or. last_deleted /= big) call fail('delete function on delete_attr')
  call MPI_Comm_free_keyval(kv)

  call MPI_Comm_create_keyval(MPI_COMM_DUP_FN, MPI_COMM_NULL_DELETE_FN, kv2, 0_MPI_ADDRESS_KIND)
  call MPI_Comm_create_keyval(MPI_COMM_NULL_COPY_FN, MPI_COMM_NULL_DELETE_FN, kv3, &
       0_MPI_ADDRESS_KIND)
  call MPI_Comm_set_attr(MPI_COMM_WORLD, kv2, 11_MPI_ADDRESS_KIND)
  call MPI_Comm_set_attr(MPI_COMM_WORLD, kv3, 12_MPI_ADDRESS_KIND)
  call MPI_Comm_dup(MPI_COMM_WORLD, dup2)
  call MPI_Comm_get_attr(dup2, kv2, val, flag)
  if (.not. flag .or. val /= 11) call fail('MPI_COMM_DUP_FN')
  call MPI_Comm_get_attr(dup2, kv3, val, flag)
  if (flag) call fail('MPI_COMM_NULL_COPY_FN')
  call MPI_Comm_free(dup2)
  call MPI_Comm_free_keyval(kv2)
  call MPI_Comm_free_keyval(kv3)

  call MPI_Comm_create_errhandler(my_handler, eh)
  call MPI_Comm_set_errhandler(MPI_COMM_WORLD, eh)
  call MPI_Comm_call_errhandler(MPI_COMM_WORLD, MPI_ERR_OTHER)
  if (handled /= 1) call fail('errhandler')
  call MPI_Errhandler_free(eh)
  call MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL)

  call MPI_Barrier(MPI_COMM_WORLD)
  if (rank == 0) print '(a)', 'PASS attr_f08'
  call MPI_Finalize()
end program attr_f08

include 'fail.h'
