! Point-to-point through mpif.h (fixed form): statuses, MPI_ANY_SOURCE, get_count, probe,
! sendrecv, nonblocking with MPI_WAITALL / MPI_STATUSES_IGNORE, 1-based MPI_WAITANY indices.
      program p2p
      implicit none
      include 'mpif.h'
      integer ierr, rank, size, i, n, idx, cnt, left, right
      integer st(MPI_STATUS_SIZE), sts(MPI_STATUS_SIZE, 4)
      integer reqs(4), buf(10), rbuf(10), a, b
      logical flag
      call mpi_init(ierr)
      call mpi_comm_rank(MPI_COMM_WORLD, rank, ierr)
      call mpi_comm_size(MPI_COMM_WORLD, size, ierr)
      right = mod(rank + 1, size)
      left = mod(rank - 1 + size, size)

! Ring: send 3 ints to the right, receive from MPI_ANY_SOURCE, check the status.
      do i = 1, 10
         buf(i) = rank * 100 + i
         rbuf(i) = -1
      end do
      call mpi_sendrecv(buf, 3, MPI_INTEGER, right, 5, rbuf, 10,
     &     MPI_INTEGER, MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD,
     &     st, ierr)
      if (st(MPI_SOURCE) .ne. left) call fail('status source')
      if (st(MPI_TAG) .ne. 5) call fail('status tag')
      call mpi_get_count(st, MPI_INTEGER, cnt, ierr)
      if (cnt .ne. 3) call fail('get_count')
      do i = 1, 3
         if (rbuf(i) .ne. left * 100 + i) call fail('sendrecv data')
      end do
      if (rbuf(4) .ne. -1) call fail('sendrecv overwrote')

! Probe, then receive what was probed (the send is nonblocking: with one rank it goes
! to ourselves, and a blocking send may wait for its receive).
      call mpi_isend(buf, 2, MPI_INTEGER, right, 9, MPI_COMM_WORLD,
     &     reqs(1), ierr)
      call mpi_probe(left, 9, MPI_COMM_WORLD, st, ierr)
      call mpi_get_count(st, MPI_INTEGER, cnt, ierr)
      if (cnt .ne. 2 .or. st(MPI_SOURCE) .ne. left) call fail('probe')
      call mpi_recv(rbuf, cnt, MPI_INTEGER, st(MPI_SOURCE), 9,
     &     MPI_COMM_WORLD, MPI_STATUS_IGNORE, ierr)
      if (rbuf(2) .ne. left * 100 + 2) call fail('recv after probe')
      call mpi_wait(reqs(1), st, ierr)

! Nonblocking: two receives and two sends, completed with MPI_STATUSES_IGNORE.
      a = -1
      b = -1
      call mpi_irecv(a, 1, MPI_INTEGER, left, 1, MPI_COMM_WORLD,
     &     reqs(1), ierr)
      call mpi_irecv(b, 1, MPI_INTEGER, right, 2, MPI_COMM_WORLD,
     &     reqs(2), ierr)
      call mpi_isend(rank, 1, MPI_INTEGER, right, 1, MPI_COMM_WORLD,
     &     reqs(3), ierr)
      call mpi_isend(rank, 1, MPI_INTEGER, left, 2, MPI_COMM_WORLD,
     &     reqs(4), ierr)
      call mpi_waitall(4, reqs, MPI_STATUSES_IGNORE, ierr)
      if (ierr .ne. MPI_SUCCESS) call fail('waitall')
      if (a .ne. left .or. b .ne. right) call fail('waitall data')
      do i = 1, 4
         if (reqs(i) .ne. MPI_REQUEST_NULL) call fail('requests freed')
      end do

! Waitall with statuses, then waitany's index is 1-based and MPI_UNDEFINED when done.
      call mpi_irecv(a, 1, MPI_INTEGER, left, 3, MPI_COMM_WORLD,
     &     reqs(1), ierr)
      call mpi_isend(rank, 1, MPI_INTEGER, right, 3, MPI_COMM_WORLD,
     &     reqs(2), ierr)
      call mpi_waitall(2, reqs, sts, ierr)
      if (sts(MPI_SOURCE, 1) .ne. left) call fail('statuses source')
      if (sts(MPI_TAG, 1) .ne. 3) call fail('statuses tag')
      reqs(1) = MPI_REQUEST_NULL
      call mpi_irecv(a, 1, MPI_INTEGER, left, 4, MPI_COMM_WORLD,
     &     reqs(2), ierr)
      call mpi_send(rank, 1, MPI_INTEGER, right, 4, MPI_COMM_WORLD,
     &     ierr)
      call mpi_waitany(2, reqs, idx, st, ierr)
      if (idx .ne. 2) call fail('waitany index is not 1-based')
      if (st(MPI_SOURCE) .ne. left) call fail('waitany status')
      call mpi_waitany(2, reqs, idx, st, ierr)
      if (idx .ne. MPI_UNDEFINED) call fail('waitany undefined')
      call mpi_testall(2, reqs, flag, MPI_STATUSES_IGNORE, ierr)
      if (.not. flag) call fail('testall on null requests')

! MPI_PROC_NULL: an empty status.
      call mpi_recv(rbuf, 1, MPI_INTEGER, MPI_PROC_NULL, 0,
     &     MPI_COMM_WORLD, st, ierr)
      call mpi_get_count(st, MPI_INTEGER, n, ierr)
      if (st(MPI_SOURCE) .ne. MPI_PROC_NULL .or. n .ne. 0)
     &     call fail('proc_null status')

      call mpi_barrier(MPI_COMM_WORLD, ierr)
      if (rank .eq. 0) print '(a)', 'PASS p2p'
      call mpi_finalize(ierr)
      end

      include 'fail.h'
