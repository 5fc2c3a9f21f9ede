// Command ceiling is the benchmark's raw ceiling: a minimal TCP server that
// answers every request on a keep-alive connection with the same fixed
// HTTP/1.1 bytes and a "Hello world!" body. It parses nothing but the blank
// line that ends each request head, so its requests per second say what the
// machine, the kernel's loopback and wrk can do at all; no real server can
// reach it, and how close one comes is the figure that matters.
//
// It serves GET-style requests only: a request body would be taken for the
// next request's head.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
)

var response = []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n\r\nHello world!")

func main() {
	addr := flag.String("addr", "127.0.0.1:8000", "`address` to listen on")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatalf("ceiling: %v", err)
	}
	fmt.Fprintf(os.Stderr, "ceiling: serving on %s\n", ln.Addr())
	for {
		c, err := ln.Accept()
		if err != nil {
			log.Fatalf("ceiling: %v", err)
		}
		go serve(c)
	}
}

// serve answers one response per request head read from c; pipelined
// requests get their responses in one write.
func serve(c net.Conn) {
	defer c.Close()
	buf := make([]byte, 16<<10)
	out := make([]byte, 0, 16*len(response))
	var ends endScanner
	for {
		n, err := c.Read(buf)
		if n > 0 {
			out = out[:0]
			for range ends.count(buf[:n]) {
				out = append(out, response...)
			}
			if len(out) > 0 {
				if _, err := c.Write(out); err != nil {
					return
				}
			}
		}
		if err != nil {
			return
		}
	}
}

// endScanner counts "\r\n\r\n" sequences in a byte stream, also those split
// across reads.
type endScanner struct {
	matched int // bytes of "\r\n\r\n" matched at the end of the last chunk
}

var headEnd = []byte("\r\n\r\n")

func (s *endScanner) count(p []byte) int {
	n := 0
	for len(p) > 0 {
		if s.matched == 0 {
			i := bytes.IndexByte(p, '\r')
			if i < 0 {
				return n
			}
			p = p[i:]
		}
		if p[0] == headEnd[s.matched] {
			s.matched++
			if s.matched == len(headEnd) {
				n++
				s.matched = 0
			}
		} else if p[0] == '\r' {
			s.matched = 1
		} else {
			s.matched = 0
		}
		p = p[1:]
	}
	return n
}
