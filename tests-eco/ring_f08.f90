! The Fortran (use mpi_f08) twin of ring.c, for the mixed-language CMake project of
! tests-eco/run.sh: a token around a ring, an allreduce, the library's name. Prints
! "ring_f08 ok: N ranks, LIBRARY" from rank 0; aborts on any wrong value.
program ring_f08
  use mpi_f08
  implicit none
  integer :: rank, size, token, total, nlen
  character(len=MPI_MAX_LIBRARY_VERSION_STRING) :: lib
  call MPI_Init()
  call MPI_Comm_rank(MPI_COMM_WORLD, rank)
  call MPI_Comm_size(MPI_COMM_WORLD, size)
  token = -1
  if (size > 1) then
    if (rank == 0) then
      token = 1000
      call MPI_Send(token, 1, MPI_INTEGER, 1, 7, MPI_COMM_WORLD)
      call MPI_Recv(token, 1, MPI_INTEGER, size - 1, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE)
    else
      call MPI_Recv(token, 1, MPI_INTEGER, rank - 1, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE)
      token = token + rank
      call MPI_Send(token, 1, MPI_INTEGER, mod(rank + 1, size), 7, MPI_COMM_WORLD)
    end if
  end if
  call MPI_Allreduce(rank, total, 1, MPI_INTEGER, MPI_SUM, MPI_COMM_WORLD)
  call MPI_Get_library_version(lib, nlen)
  if (total /= size * (size - 1) / 2 .or. &
      (rank == 0 .and. size > 1 .and. token /= 1000 + size * (size - 1) / 2)) then
    print *, 'ring_f08: rank', rank, ': sum', total, 'token', token, 'are wrong'
    call MPI_Abort(MPI_COMM_WORLD, 1)
  end if
  if (rank == 0) print '(a,i0,a,a)', 'ring_f08 ok: ', size, ' ranks, ', &
      lib(1:index(lib(1:nlen) // achar(10), achar(10)) - 1)
  call MPI_Finalize()
end program ring_f08
