//go:build !linux

package control

func socketpair() ([2]int, error) { return [2]int{}, errNoPair }
