# Sourced by tests-slurm/run.sh and tests-slurm/two_hosts.sh: the slurm.conf lines both
# clusters share (munge auth, no accounting, no cgroups - the test machine has neither a
# database nor a delegated cgroup tree - and a kill grace of one second so a failing step
# ends quickly). The caller writes the cluster-specific lines (names, ports, paths, nodes).
slurm_conf_common() {
    cat <<EOF2
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
ProctrackType=proctrack/pgid
TaskPlugin=task/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
KillWait=1
EOF2
}
