# shellcheck shell=sh
# Test hosts for the remote tests and bench/remote.sh: sshd_start starts
# N OpenSSH servers on 127.0.0.1 (high ports), each a "host" named h1..hN
# in an ssh client config, with host and user keys made on the spot.
# Everything lives in one directory; nothing outside it is touched except
# sshd's privilege separation directory, which sshd insists on. Sessions
# get SHLVL=1, so that bash does not read ~/.bashrc for every remote
# command (a slow one would dominate every figure); SSHD_PATH is their PATH.
#
#   . test/sshd.sh
#   sshd_start DIR N    -> 0, or 1 with the reason in DIR/why
#   CONC_SSH="ssh -F DIR/ssh_config"
#   sshd_pid DIR K      the listening server of host hK
#   sshd_stop DIR       stop every server and its connections

sshd_bin() {
	for b in /usr/sbin/sshd /usr/local/sbin/sshd "$(command -v sshd 2>/dev/null)"; do
		[ -n "$b" ] && [ -x "$b" ] && { echo "$b"; return 0; }
	done
	return 1
}

sshd_start() { # DIR N
	_d=$1 _n=$2
	mkdir -p "$_d" || return 1
	if ! _sshd=$(sshd_bin) || ! command -v ssh >/dev/null 2>&1 ||
	    ! command -v ssh-keygen >/dev/null 2>&1; then
		echo "openssh-server and openssh-client are not installed" >"$_d/why"
		return 1
	fi
	[ -d /run/sshd ] || mkdir -p /run/sshd 2>/dev/null || true
	rm -f "$_d/hostkey" "$_d/id"
	if ! ssh-keygen -q -t ed25519 -N '' -f "$_d/hostkey" </dev/null >/dev/null ||
	    ! ssh-keygen -q -t ed25519 -N '' -f "$_d/id" </dev/null >/dev/null; then
		echo "ssh-keygen failed" >"$_d/why"
		return 1
	fi
	cp "$_d/id.pub" "$_d/authorized_keys"
	: >"$_d/known_hosts"
	{
		echo "Host *"
		echo "  HostName 127.0.0.1"
		echo "  User $(id -un)"
		echo "  IdentityFile $_d/id"
		echo "  IdentitiesOnly yes"
		echo "  UserKnownHostsFile $_d/known_hosts"
		echo "  StrictHostKeyChecking yes"
		echo "  BatchMode yes"
		echo "  LogLevel ERROR"
		echo "  ConnectTimeout 5"
	} >"$_d/ssh_config.tail"
	: >"$_d/ssh_config.head"
	_k=1
	while [ "$_k" -le "$_n" ]; do
		if ! sshd_one "$_d" "$_k"; then
			return 1
		fi
		_k=$((_k + 1))
	done
	cat "$_d/ssh_config.head" "$_d/ssh_config.tail" >"$_d/ssh_config"
	return 0
}

# sshd_one DIR K: start host hK on a free port (a few tries).
sshd_one() {
	_try=0
	while [ "$_try" -lt 5 ]; do
		_try=$((_try + 1))
		_port=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom) % 40000 ))
		cat >"$1/sshd_config.$2" <<-EOC
		Port $_port
		ListenAddress 127.0.0.1
		HostKey $1/hostkey
		PidFile $1/sshd.$2.pid
		AuthorizedKeysFile $1/authorized_keys
		PermitRootLogin yes
		StrictModes no
		UsePAM no
		PasswordAuthentication no
		KbdInteractiveAuthentication no
		PubkeyAuthentication yes
		SetEnv PATH=${SSHD_PATH:-/usr/local/bin:/usr/bin:/bin} SHLVL=1
		Subsystem sftp internal-sftp
		EOC
		rm -f "$1/sshd.$2.pid"
		if ! "$_sshd" -f "$1/sshd_config.$2" -E "$1/sshd.$2.log" 2>>"$1/why"; then
			continue
		fi
		echo "[127.0.0.1]:$_port $(cut -d' ' -f1-2 "$1/hostkey.pub")" >>"$1/known_hosts"
		printf 'Host h%s\n  Port %s\n' "$2" "$_port" >>"$1/ssh_config.head"
		cat "$1/ssh_config.head" "$1/ssh_config.tail" >"$1/ssh_config"
		_w=0
		while [ "$_w" -lt 300 ]; do
			if ssh -F "$1/ssh_config" "h$2" true </dev/null 2>/dev/null; then
				return 0
			fi
			_w=$((_w + 1))
			sleep 0.02
		done
		echo "sshd on port $_port did not answer; see $1/sshd.$2.log" >>"$1/why"
		sshd_kill "$1" "$2"
	done
	return 1
}

sshd_pid() { # DIR K
	cat "$1/sshd.$2.pid" 2>/dev/null
}

# sshd_kill DIR K: stop host hK: its listener and every connection it
# serves (the per-connection servers are its children).
sshd_kill() {
	_p=$(sshd_pid "$1" "$2")
	[ -n "$_p" ] || return 0
	kill -STOP "$_p" 2>/dev/null
	for _c in $(ps -o pid= --ppid "$_p" 2>/dev/null); do
		for _g in $(ps -o pid= --ppid "$_c" 2>/dev/null); do
			kill -9 "$_g" 2>/dev/null
		done
		kill -9 "$_c" 2>/dev/null
	done
	kill -9 "$_p" 2>/dev/null
	rm -f "$1/sshd.$2.pid"
}

sshd_stop() { # DIR
	for _f in "$1"/sshd.*.pid; do
		[ -f "$_f" ] || continue
		_k=${_f##*/sshd.}
		sshd_kill "$1" "${_k%.pid}"
	done
}
