/* bench/idle.c: how much CPU a blocked rank burns. Rank 1 waits 3 s in MPI_Recv, then 3 s in
 * MPI_Barrier, while rank 0 sleeps; rank 1 prints the CPU time (getrusage) of each wait.
 * An MPI whose waiting ranks spin shows ~3 s each; one whose ranks sleep, milliseconds.
 * usage: mpiexec -n 2 ./idle   (build with any implementation's mpicc) */
#include <mpi.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/resource.h>
static double cpu(void){struct rusage u;getrusage(RUSAGE_SELF,&u);return u.ru_utime.tv_sec+u.ru_stime.tv_sec+1e-6*(u.ru_utime.tv_usec+u.ru_stime.tv_usec);}
int main(int c,char**v){int r,x=0;MPI_Init(&c,&v);MPI_Comm_rank(MPI_COMM_WORLD,&r);
MPI_Barrier(MPI_COMM_WORLD);
double t0=cpu();
if(r==0){sleep(3);MPI_Send(&x,1,MPI_INT,1,0,MPI_COMM_WORLD);}else{MPI_Recv(&x,1,MPI_INT,0,0,MPI_COMM_WORLD,MPI_STATUS_IGNORE);}
double t1=cpu();
if(r==0)sleep(3);
MPI_Barrier(MPI_COMM_WORLD);
double t2=cpu();
if(r==1)printf("recv blocked 3 s: %.4f s CPU; barrier blocked 3 s: %.4f s CPU\n",t1-t0,t2-t1);
MPI_Finalize();return 0;}
