! Shared by the tests (valid fixed and free form): reports a failed check and aborts the
! job, so the run exits non-zero (tests-f/run.sh names the test).
      subroutine fail(msg)
      implicit none
      character*(*) msg
      include 'mpif.h'
      integer e
      print '(2a)', 'FAIL: ', msg
      call mpi_abort(MPI_COMM_WORLD, 1, e)
      stop 1
      end
