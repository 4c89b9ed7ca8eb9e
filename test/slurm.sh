# shellcheck shell=sh
# A real two-node Slurm cluster on this machine for test/slurm.bats and
# bench/slurm.sh: one munged, one slurmctld and two slurmd ("slurmd -N n1",
# "slurmd -N n2") on 127.0.0.1 with ports of their own, every key, state,
# spool, pid and log file in one directory. Nodes declare 4 CPUs each
# (SlurmdParameters=config_overrides lets them declare more than the
# machine has). Needs Debian's slurmctld, slurmd, slurm-client and munge
# packages, and root (slurmd starts the tasks as their user). The daemons
# get no descriptor of ours but stderr (bats waits for its fd 3 to close).
#
#   . test/slurm.sh
#   slurm_start DIR    -> 0, or 1 with the reason in DIR/why (2: skip)
#   SLURM_CONF=DIR/slurm.conf  for srun, salloc, squeue, scancel
#   slurm_slurmd_pid DIR NODE
#   slurm_stop DIR     stop every daemon

slurm_missing() { # the programs that are not installed
	for _p in slurmctld slurmd srun salloc squeue scontrol munged mungekey; do
		command -v "$_p" >/dev/null 2>&1 ||
		    [ -x "/usr/sbin/$_p" ] || printf '%s ' "$_p"
	done
}

slurm_start() { # DIR
	_d=$1
	mkdir -p "$_d/munge" "$_d/state" "$_d/spool" || return 1
	chmod 700 "$_d/munge"
	_miss=$(slurm_missing)
	if [ -n "$_miss" ]; then
		echo "Slurm is not installed (missing: $_miss); apt-get install slurmctld slurmd slurm-client munge" >"$_d/why"
		return 2
	fi
	if [ "$(id -u)" != 0 ]; then
		echo "slurmd must run as root to start tasks" >"$_d/why"
		return 2
	fi
	PATH="$PATH:/usr/sbin"
	mungekey --create --keyfile="$_d/munge/key" 2>>"$_d/why" || return 1
	munged 3>&- </dev/null >/dev/null --force --socket="$_d/munge/sock" --key-file="$_d/munge/key" \
	    --pid-file="$_d/munge/pid" --log-file="$_d/munge/log" \
	    --seed-file="$_d/munge/seed" 2>>"$_d/why" || return 1
	_try=0
	while [ "$_try" -lt 5 ]; do
		_try=$((_try + 1))
		_port=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom) % 40000 ))
		slurm_conf "$_d" "$_port" >"$_d/slurm.conf"
		rm -f "$_d/ctld.pid"
		if ! slurmctld -f "$_d/slurm.conf" -c -i 3>&- </dev/null >/dev/null 2>>"$_d/why"; then
			continue
		fi
		if slurm_slurmd "$_d" n1 && slurm_slurmd "$_d" n2 &&
		    slurm_idle "$_d"; then
			return 0
		fi
		slurm_stop_daemons "$_d"
	done
	echo "the cluster did not come up; see $_d/*.log" >>"$_d/why"
	return 1
}

slurm_slurmd() { # DIR NODE: start the node's slurmd
	slurmd -f "$1/slurm.conf" -N "$2" 3>&- </dev/null >/dev/null 2>>"$1/why"
}

slurm_conf() { # DIR PORT
	cat <<-EOC
	ClusterName=pooltest
	SlurmctldHost=$(hostname)(127.0.0.1)
	SlurmctldPort=$2
	AuthType=auth/munge
	AuthInfo=socket=$1/munge/sock
	CredType=cred/munge
	SlurmUser=root
	SlurmdUser=root
	StateSaveLocation=$1/state
	SlurmdSpoolDir=$1/spool/%n
	SlurmctldPidFile=$1/ctld.pid
	SlurmdPidFile=$1/slurmd.%n.pid
	SlurmctldLogFile=$1/ctld.log
	SlurmdLogFile=$1/slurmd.%n.log
	MailProg=/bin/true
	ProctrackType=proctrack/pgid
	TaskPlugin=task/none
	SwitchType=switch/none
	MpiDefault=none
	SchedulerType=sched/builtin
	SelectType=select/cons_tres
	SelectTypeParameters=CR_CPU
	ReturnToService=2
	SlurmdParameters=config_overrides
	JobAcctGatherType=jobacct_gather/none
	AccountingStorageType=accounting_storage/none
	JobCompType=jobcomp/none
	KillWait=2
	NodeName=n1 NodeHostname=$(hostname) NodeAddr=127.0.0.1 Port=$(($2 + 1)) CPUs=4 State=UNKNOWN
	NodeName=n2 NodeHostname=$(hostname) NodeAddr=127.0.0.1 Port=$(($2 + 2)) CPUs=4 State=UNKNOWN
	PartitionName=p Nodes=n1,n2 Default=YES MaxTime=INFINITE State=UP
	EOC
}

# slurm_idle DIR: both nodes report idle (up to 60 s: a loaded machine).
slurm_idle() {
	_w=0
	while [ "$_w" -lt 600 ]; do
		if [ "$(SLURM_CONF=$1/slurm.conf sinfo -h -N -o '%N %t' 2>/dev/null | tr '\n' ' ')" = "n1 idle n2 idle " ]; then
			return 0
		fi
		_w=$((_w + 1))
		sleep 0.1
	done
	return 1
}

slurm_slurmd_pid() { # DIR NODE
	cat "$1/slurmd.$2.pid" 2>/dev/null
}

slurm_stop_daemons() { # DIR
	for _f in "$1"/slurmd.n1.pid "$1"/slurmd.n2.pid "$1"/ctld.pid; do
		[ -f "$_f" ] && kill -9 "$(cat "$_f")" 2>/dev/null
		rm -f "$_f"
	done
}

# slurm_stepds DIR: the slurmstepd processes of the cluster (they write
# to its log files) that outlive their slurmd.
slurm_stepds() {
	for _p in $(pgrep -x slurmstepd); do
		for _f in "/proc/$_p"/fd/*; do
			case $(readlink "$_f" 2>/dev/null) in
			"$1"/*) echo "$_p"; break ;;
			esac
		done
	done
}

slurm_stop() { # DIR
	slurm_stop_daemons "$1"
	for _p in $(slurm_stepds "$1"); do
		kill -9 "$_p" 2>/dev/null
	done
	[ -f "$1/munge/pid" ] && kill "$(cat "$1/munge/pid")" 2>/dev/null
	rm -f "$1/munge/pid"
	return 0
}
