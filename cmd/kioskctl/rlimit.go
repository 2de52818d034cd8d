package main

import "syscall"

// raiseFDLimit raises the soft limit on open files towards want (at most the hard limit): each
// simulated kiosk holds a socket.
func raiseFDLimit(want int) {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) != nil {
		return
	}
	if uint64(want) > l.Cur {
		l.Cur = min(uint64(want), l.Max)
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
}
