package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"carafe/bench/proc"
)

// nginxConf is the one nginx configuration both uwsgi-protocol servers sit
// behind: what an operator would write, access log off like the servers'.
const nginxConf = `# carafe bench: nginx -> uwsgi protocol on a unix socket
{{user}}worker_processes auto;
daemon off;
pid {{prefix}}/nginx.pid;
error_log {{prefix}}/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path {{prefix}}/body;
    server {
        listen {{addr}} backlog=1024;
        location / {
            include /etc/nginx/uwsgi_params;
            uwsgi_pass unix:{{socket}};
        }
    }
}
`

// startNginx starts nginx in front of the uwsgi socket on a fresh port.
func (h *harness) startNginx(ctx context.Context, socket string) (*proc.Server, string, error) {
	port, err := freePort()
	if err != nil {
		return nil, "", err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	prefix := filepath.Join(h.tmp, fmt.Sprintf("nginx-%d", port))
	if err := os.MkdirAll(prefix, 0o755); err != nil {
		return nil, "", err
	}
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;\n" // its workers must reach the socket the server made
	}
	conf := strings.NewReplacer("{{user}}", user, "{{prefix}}", prefix, "{{addr}}", addr, "{{socket}}", socket).Replace(nginxConf)
	path := filepath.Join(prefix, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		return nil, "", err
	}
	s, err := proc.Start(ctx, proc.Spec{
		Name: "nginx", Argv: []string{"nginx", "-p", prefix, "-c", path, "-e", filepath.Join(prefix, "error.log")},
		Network: "tcp", Addr: addr,
	})
	if err != nil {
		return nil, "", fmt.Errorf("nginx: %w", err)
	}
	return s, addr, nil
}
