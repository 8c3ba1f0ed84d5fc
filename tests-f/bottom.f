! MPI_BOTTOM with a derived type through mpif.h (fixed form): a struct type built from
! absolute addresses (MPI_GET_ADDRESS) of an INTEGER and a DOUBLE PRECISION array, sent
! and received relative to MPI_BOTTOM.
      program bottom
      implicit none
      include 'mpif.h'
      integer ierr, rank, size, i, newtype, sz
      integer ival, blens(2), types(2)
      double precision dvals(3)
! In COMMON, so the compiler cannot keep them in registers across the calls that reach them
! through MPI_BOTTOM (MPI 4.1 section 19.1.17 lists this among the remedies).
      common /bdata/ dvals, ival
      integer(kind=MPI_ADDRESS_KIND) disps(2), lb, ext
      integer st(MPI_STATUS_SIZE), cnt
      call mpi_init(ierr)
      call mpi_comm_rank(MPI_COMM_WORLD, rank, ierr)
      call mpi_comm_size(MPI_COMM_WORLD, size, ierr)

      call mpi_get_address(ival, disps(1), ierr)
      call mpi_get_address(dvals, disps(2), ierr)
      blens(1) = 1
      blens(2) = 3
      types(1) = MPI_INTEGER
      types(2) = MPI_DOUBLE_PRECISION
      call mpi_type_create_struct(2, blens, disps, types, newtype,
     &     ierr)
      call mpi_type_commit(newtype, ierr)
      call mpi_type_size(newtype, sz, ierr)
      if (sz .ne. 4 + 24) call fail('type_size')

      if (rank .eq. 0) then
         ival = 99
         do i = 1, 3
            dvals(i) = i * 1.5d0
         end do
         do i = 1, size - 1
            call mpi_send(MPI_BOTTOM, 1, newtype, i, 3,
     &           MPI_COMM_WORLD, ierr)
         end do
      else
         ival = 0
         dvals(1) = 0d0
         dvals(2) = 0d0
         dvals(3) = 0d0
         call mpi_recv(MPI_BOTTOM, 1, newtype, 0, 3, MPI_COMM_WORLD,
     &        st, ierr)
         if (ierr .ne. MPI_SUCCESS) call fail('recv')
         call mpi_get_count(st, newtype, cnt, ierr)
         if (cnt .ne. 1) call fail('get_count')
         if (ival .ne. 99) call fail('integer member')
         do i = 1, 3
            if (dvals(i) .ne. i * 1.5d0) call fail('double members')
         end do
      end if

! Bcast relative to MPI_BOTTOM as well.
      if (rank .eq. 0) ival = 123
      call mpi_bcast(MPI_BOTTOM, 1, newtype, 0, MPI_COMM_WORLD, ierr)
      if (ival .ne. 123) call fail('bcast from MPI_BOTTOM')

      call mpi_type_free(newtype, ierr)
      if (newtype .ne. MPI_DATATYPE_NULL) call fail('type_free')
      call mpi_barrier(MPI_COMM_WORLD, ierr)
      if (rank .eq. 0) print '(a)', 'PASS bottom'
      call mpi_finalize(ierr)
      end

      include 'fail.h'
