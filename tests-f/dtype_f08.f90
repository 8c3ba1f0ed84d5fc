! Derived datatypes from Fortran arrays through `use mpi_f08`: a column and a row of a 2-D
! array (MPI_Type_vector), a subarray, a struct built from MPI_Get_address and
! MPI_Aint_diff, pack/unpack, and the large-count constructors (INTEGER(MPI_COUNT_KIND)).
program dtype_f08
  use mpi_f08
  implicit none
  type :: particle
     sequence
     integer :: id
     double precision :: x(3)
  end type particle
  integer :: rank, size, i, j, next, prev, sz, pos
  integer :: m(5, 4), r(5, 4), buf(100)
  type(MPI_Datatype) :: row, sub, ptype, big, tmp
  integer(kind=MPI_ADDRESS_KIND) :: base, addr(2), disp(2), lb, extent
  integer(kind=MPI_COUNT_KIND) :: csize
  type(particle) :: p(2), q(2)
  character :: packed(200)

  call MPI_Init()
  call MPI_Comm_rank(MPI_COMM_WORLD, rank)
  call MPI_Comm_size(MPI_COMM_WORLD, size)
  next = mod(rank + 1, size)
  prev = mod(rank + size - 1, size)
  m = reshape([(i + 100 * rank, i = 1, 20)], [5, 4])

  ! Row 3 of m: 4 integers 5 apart.
  call MPI_Type_vector(4, 1, 5, MPI_INTEGER, row)
  call MPI_Type_commit(row)
  r = 0
  call MPI_Sendrecv(m(3, 1), 1, row, next, 1, r(3, 1), 1, row, prev, 1, MPI_COMM_WORLD, &
       MPI_STATUS_IGNORE)
  do j = 1, 4
     if (r(3, j) /= 3 + 5 * (j - 1) + 100 * prev) call fail('row')
  end do
  if (any(r(1:2, :) /= 0) .or. any(r(4:5, :) /= 0)) call fail('row wrote elsewhere')
  call MPI_Type_free(row)
  if (row /= MPI_DATATYPE_NULL) call fail('type_free')

  ! The 2x2 block m(2:3, 2:3) as a subarray (0-based starts).
  call MPI_Type_create_subarray(2, [5, 4], [2, 2], [1, 1], MPI_ORDER_FORTRAN, MPI_INTEGER, sub)
  call MPI_Type_commit(sub)
  call MPI_Type_size(sub, sz)
  if (sz /= 16) call fail('subarray size')
  buf = 0
  call MPI_Sendrecv(m, 1, sub, next, 2, buf, 4, MPI_INTEGER, prev, 2, MPI_COMM_WORLD, &
       MPI_STATUS_IGNORE)
  if (any(buf(1:4) /= [7, 8, 12, 13] + 100 * prev)) call fail('subarray')
  call MPI_Type_free(sub)

  ! A struct matching a SEQUENCE type, from addresses.
  call MPI_Get_address(p(1), base)
  call MPI_Get_address(p(1)%id, addr(1))
  call MPI_Get_address(p(1)%x, addr(2))
  disp = [MPI_Aint_diff(addr(1), base), MPI_Aint_diff(addr(2), base)]
  call MPI_Type_create_struct(2, [1, 3], disp, [MPI_INTEGER, MPI_DOUBLE_PRECISION], tmp)
  call MPI_Get_address(p(2), addr(1))
  call MPI_Type_create_resized(tmp, 0_MPI_ADDRESS_KIND, MPI_Aint_diff(addr(1), base), ptype)
  call MPI_Type_free(tmp)
  call MPI_Type_commit(ptype)
  call MPI_Type_get_extent(ptype, lb, extent)
  if (lb /= 0 .or. extent /= MPI_Aint_diff(addr(1), base)) call fail('struct extent')
  do i = 1, 2
     p(i)%id = rank * 10 + i
     p(i)%x = [1d0, 2d0, 3d0] * (rank + i)
  end do
  call MPI_Sendrecv(p, 2, ptype, next, 3, q, 2, ptype, prev, 3, MPI_COMM_WORLD, MPI_STATUS_IGNORE)
  do i = 1, 2
     if (q(i)%id /= prev * 10 + i .or. any(q(i)%x /= [1d0, 2d0, 3d0] * (prev + i))) &
          call fail('struct')
  end do

  ! Pack and unpack (CHARACTER buffer, INTEGER position).
  pos = 0
  call MPI_Pack(p, 2, ptype, packed, 200, pos, MPI_COMM_WORLD)
  call MPI_Pack_size(2, ptype, MPI_COMM_WORLD, sz)
  if (pos <= 0 .or. pos > sz) call fail('pack position')
  pos = 0
  q(1)%id = -1
  call MPI_Unpack(packed, 200, pos, q, 2, ptype, MPI_COMM_WORLD)
  if (q(1)%id /= p(1)%id .or. q(2)%x(3) /= p(2)%x(3)) call fail('unpack')
  call MPI_Type_free(ptype)

  ! Large-count constructor and query.
  csize = 6
  call MPI_Type_contiguous(csize, MPI_INTEGER, big)
  call MPI_Type_commit(big)
  call MPI_Type_size(big, csize)
  if (csize /= 24) call fail('type_size_c')
  call MPI_Type_free(big)

  call MPI_Barrier(MPI_COMM_WORLD)
  if (rank == 0) print '(a)', 'PASS dtype_f08'
  call MPI_Finalize()
end program dtype_f08

include 'fail.h'
