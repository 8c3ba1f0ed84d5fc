! The MPI-1 routines whose addresses are INTEGER in mpif.h: MPI_ADDRESS, MPI_TYPE_STRUCT,
! MPI_TYPE_HVECTOR, MPI_TYPE_HINDEXED, MPI_TYPE_EXTENT / LB / UB, with displacements taken
! relative to the first member (so they fit an INTEGER). The absolute address of a variable
! rarely fits an INTEGER on a 64-bit system: MPI_ADDRESS then fails cleanly.
      program mpi1
      implicit none
      include 'mpif.h'
      integer ierr, rank, size, t1, t2, t3, i
      integer a0, a1, ext, lb, ub, blens(2), types(2), disps(2)
      integer ival, rbuf(8)
      double precision dval
      common /m1data/ dval, ival
      call mpi_init(ierr)
      call mpi_comm_rank(MPI_COMM_WORLD, rank, ierr)
      call mpi_comm_size(MPI_COMM_WORLD, size, ierr)

      call mpi_address(MPI_BOTTOM, a0, ierr)
      if (ierr .ne. MPI_SUCCESS .or. a0 .ne. 0) call fail('address')
      call mpi_comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN,
     &     ierr)
      call mpi_comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN,
     &     ierr)
      call mpi_address(dval, a0, ierr)
      if (ierr .eq. MPI_SUCCESS) then
         call mpi_address(ival, a1, ierr)
         if (a1 - a0 .ne. 8) call fail('address difference')
      end if
      call mpi_comm_set_errhandler(MPI_COMM_WORLD,
     &     MPI_ERRORS_ARE_FATAL, ierr)
      a1 = 8
      blens(1) = 1
      blens(2) = 1
      disps(1) = 0
      disps(2) = a1
      types(1) = MPI_DOUBLE_PRECISION
      types(2) = MPI_INTEGER
      call mpi_type_struct(2, blens, disps, types, t1, ierr)
      call mpi_type_commit(t1, ierr)
      call mpi_type_extent(t1, ext, ierr)
      if (ext .ne. 16) call fail('type_struct extent')
      call mpi_type_lb(t1, lb, ierr)
      call mpi_type_ub(t1, ub, ierr)
      if (lb .ne. 0 .or. ub .ne. 16) call fail('type_lb / type_ub')

! hvector of 2 integers with a stride of 12 bytes: extent 16.
      call mpi_type_hvector(2, 1, 12, MPI_INTEGER, t2, ierr)
      call mpi_type_commit(t2, ierr)
      call mpi_type_extent(t2, ext, ierr)
      if (ext .ne. 16) call fail('type_hvector extent')
! hindexed: integers at byte 4 and byte 20.
      disps(1) = 4
      disps(2) = 20
      call mpi_type_hindexed(2, blens, disps, MPI_INTEGER, t3, ierr)
      call mpi_type_commit(t3, ierr)
      call mpi_type_lb(t3, lb, ierr)
      call mpi_type_ub(t3, ub, ierr)
      if (lb .ne. 4 .or. ub .ne. 24) call fail('type_hindexed bounds')

! Send the struct and the hindexed type around the ring.
      if (rank .eq. 0) then
         dval = 2.5d0
         ival = 77
      else
         dval = 0d0
         ival = 0
      end if
      call mpi_bcast(dval, 1, t1, 0, MPI_COMM_WORLD, ierr)
      if (dval .ne. 2.5d0 .or. ival .ne. 77) call fail('struct bcast')
      do i = 1, 8
         rbuf(i) = 0
         if (rank .eq. 0) rbuf(i) = i
      end do
      call mpi_bcast(rbuf, 1, t3, 0, MPI_COMM_WORLD, ierr)
      if (rbuf(2) .ne. 2 .or. rbuf(6) .ne. 6) call fail('hindexed data')
      if (rank .ne. 0 .and. rbuf(1) .ne. 0) call fail('hindexed gap')

      call mpi_type_free(t1, ierr)
      call mpi_type_free(t2, ierr)
      call mpi_type_free(t3, ierr)
      call mpi_barrier(MPI_COMM_WORLD, ierr)
      if (rank .eq. 0) print '(a)', 'PASS mpi1'
      call mpi_finalize(ierr)
      end

      include 'fail.h'
