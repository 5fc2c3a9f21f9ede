package main

import "testing"

func TestEndScanner(t *testing.T) {
	tests := []struct {
		name   string
		chunks []string
		want   int
	}{
		{"one", []string{"GET / HTTP/1.1\r\nHost: x\r\n\r\n"}, 1},
		{"pipelined", []string{"GET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n"}, 2},
		{"split", []string{"GET / HTTP/1.1\r\nHost: x\r", "\n\r", "\n"}, 1},
		{"partial", []string{"GET / HTTP/1.1\r\nHost: x\r\n"}, 0},
		{"cr run", []string{"GET / HTTP/1.1\r\r\n\r\n"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s endScanner
			got := 0
			for _, c := range tt.chunks {
				got += s.count([]byte(c))
			}
			if got != tt.want {
				t.Errorf("count = %d, want %d", got, tt.want)
			}
		})
	}
}
