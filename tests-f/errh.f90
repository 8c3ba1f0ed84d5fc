! Errhandlers through `use mpi`: a handler written in Fortran is called with the
! communicator and the error code by reference; MPI_ERRORS_RETURN returns the code.
module errh_state
  integer :: calls = 0, last_code = 0, last_comm = 0
end module errh_state

subroutine my_handler(comm, code)
  use errh_state
  implicit none
  integer :: comm, code
  calls = calls + 1
  last_code = code
  last_comm = comm
end subroutine my_handler

program errh
  use mpi
  use errh_state
  implicit none
  external :: my_handler
  integer :: ierr, rank, size, eh, eh2, dup, cls, v

  call MPI_Init(ierr)
  call MPI_Comm_rank(MPI_COMM_WORLD, rank, ierr)
  call MPI_Comm_size(MPI_COMM_WORLD, size, ierr)
  call MPI_Comm_dup(MPI_COMM_WORLD, dup, ierr)

  ! MPI_ERRORS_RETURN: the error comes back in ierror.
  call MPI_Comm_set_errhandler(dup, MPI_ERRORS_RETURN, ierr)
  call MPI_Send(v, 1, MPI_INTEGER, size, 0, dup, ierr)
  if (ierr == MPI_SUCCESS) call fail('send to rank size succeeded')
  call MPI_Error_class(ierr, cls, ierr)
  if (cls /= MPI_ERR_RANK) call fail('error class is not MPI_ERR_RANK')

  ! A Fortran handler.
  call MPI_Comm_create_errhandler(my_handler, eh, ierr)
  if (ierr /= MPI_SUCCESS) call fail('create_errhandler')
  call MPI_Comm_set_errhandler(dup, eh, ierr)
  ! The handle MPI_COMM_GET_ERRHANDLER returns names the same handler (MPICH returns the
  ! same value; the standard only asks for a handle to it): checked through the call below.
  call MPI_Comm_get_errhandler(dup, eh2, ierr)
  if (ierr /= MPI_SUCCESS .or. eh2 == MPI_ERRHANDLER_NULL) call fail('get_errhandler')
  call MPI_Comm_set_errhandler(dup, MPI_ERRORS_RETURN, ierr)
  call MPI_Comm_set_errhandler(dup, eh2, ierr)
  call MPI_Errhandler_free(eh2, ierr)
  call MPI_Send(v, 1, MPI_INTEGER, 0, -5, dup, ierr)
  if (calls /= 1) call fail('handler not called once')
  if (last_comm /= dup) call fail('handler got another communicator')
  call MPI_Error_class(last_code, cls, ierr)
  if (cls /= MPI_ERR_TAG) call fail('handler code is not MPI_ERR_TAG')

  ! MPI_COMM_CALL_ERRHANDLER reaches it too.
  call MPI_Comm_call_errhandler(dup, MPI_ERR_OTHER, ierr)
  if (calls /= 2 .or. last_code /= MPI_ERR_OTHER) call fail('call_errhandler')

  call MPI_Errhandler_free(eh, ierr)
  if (eh /= MPI_ERRHANDLER_NULL) call fail('errhandler_free')
  call MPI_Comm_free(dup, ierr)
  if (dup /= MPI_COMM_NULL) call fail('comm_free')

  call MPI_Barrier(MPI_COMM_WORLD, ierr)
  if (rank == 0) print '(a)', 'PASS errh'
  call MPI_Finalize(ierr)
end program errh

include 'fail.h'
