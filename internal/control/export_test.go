package control

import (
	"net"
	"os"
)

func fileConn(f *os.File) (*Conn, error) {
	nc, err := net.FileConn(f)
	f.Close()
	if err != nil {
		return nil, err
	}
	return NewConn(nc), nil
}
