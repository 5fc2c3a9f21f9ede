//go:build !linux

package main

// wipeStartEnv is Linux's alone (see environ_linux.go).
func wipeStartEnv(string) error { return nil }
